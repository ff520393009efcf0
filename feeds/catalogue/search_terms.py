"""How an article's text becomes search terms, and a query a MATCH expression. Pure.

The search index is an SQLite FTS5 table fed text that has been split here first into
overlapping pairs of characters: 央行行长 is written `央行 行行 行长 长`, and GDP增长，
`GD DP P增 增长 长， ，`. Its tokenizer takes each pair as a term, and splits only at
whitespace (and quotation marks), so a pair next to a space leaves a single character.
A query word is split the same way and searched as a phrase of its pairs: 央行 is the
one term `央行`, 存款准备金 the phrase `存款 款准 准备 备金`, and a single character the
prefix `央*`. So a query word is found wherever it occurs in the text as written,
whatever surrounds it, ignoring case; punctuation around a query word is dropped (“央行”
finds 央行), punctuation inside it is searched for (4.6% does not find 4,6%).

Why pairs. Chinese is written without spaces, and the words people search are often two
characters long (央行, 降准): every 2-character query must find every article that
contains it.
- unicode61 alone takes a whole run between punctuation as one token: 央行 would match
  only a clause that is exactly 央行.
- The trigram tokenizer finds substrings of three characters or more; a 2-character
  query falls back to scanning every row (LIKE), which grows with the archive.
- One token per character finds everything, but a 2-character query is then a phrase of
  two of the most frequent tokens there are: their position lists cover most of the
  archive and must be read and merged in full. A pair's list is that phrase's answer,
  made in advance.
- A word segmenter (jieba, ICU) makes a smaller index, but splits text and query by a
  dictionary: a word it splits differently (降准 as 降 + 准, new names, 2-character words
  inside longer ones) is not found; and it adds a dependency and a dictionary to load.
- Pairs of CJK characters only, with Latin words kept whole (as Lucene's CJK bigram
  filter does), is what people expect of "GDP" but costs a Python loop over the runs of
  every text, several times the time of pairing the whole text at once, which is done
  in C (see _pairs). On a Chinese site Latin letters are mostly acronyms; as pairs they
  match substrings (AI also finds CHAIN), as with MySQL's ngram parser.
- A tokenizer of our own, in C, would do this inside SQLite; Python's sqlite3 cannot
  register one.
The tokenizer is FTS5's `ascii`, told that ASCII punctuation belongs to terms (see
TOKENIZER): unicode61 looks every character up in Unicode's tables, a third of the
time of indexing, to fold case and drop punctuation, which pairs need not. Case is
folded here instead, beyond A-Z (which the ascii tokenizer folds).
The costs of pairs: about one term per character, and as many distinct terms as the
text has pairs, so on varied text the index is larger than the text itself, and slower
to fill than an index of single characters, whose vocabulary is a few thousand; and no
segmentation, so 中国 also matches 发展中国家. Traditional and simplified characters are
not folded into each other, nor accents (café does not find cafe). Full-width letters
and digits (Ａ股, ２０２２) are folded to ASCII, so that they match what people type.

Changing what this module produces changes the index: raise the catalogue's
SCHEMA_VERSION with it, so that every article is indexed again (removing a row from the
index needs the very text it was added with).
"""

from __future__ import annotations

import re
import string
from operator import add

from feeds.model import Article
from feeds.text import html_text

# The index's tokenizer: terms are what whitespace separates; but FTS5's arguments are
# quoted with the quotation marks, so they stay separators.
TOKENIZER = "ascii tokenchars '" + string.punctuation.replace("'", "").replace('"', "") + "'"
# Full-width letters and digits (Ａ股, ２０２２): folded to ASCII, so that they match what
# people type. (Folding full-width punctuation too would cost a lookup per character:
# Chinese text is full of it.)
_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_FOLD = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF5B) if chr(code - 0xFEE0).isalnum()}
_SPACE = " ".encode("utf-32-le")


def search_text(article: Article) -> bytes:
    """What the index holds for an article: its title, summary (unless the body begins
    with it), body, author, and the names of its categories and tags, split for the
    tokenizer, as UTF-8 (made where the article is read, the bytes pass on to SQLite as
    they are). Fields are separated by a line break, so that no phrase runs on to the next."""
    body = html_text(article.content)
    summary = "" if _opens(article.summary, body) else article.summary
    names = [name for path in article.categories for name in path] + list(article.tags)
    fields = (article.title, summary, body, article.author or "", " ".join(names))
    return split_terms("\n".join(fields))


def _opens(summary: str, body: str) -> bool:
    """Whether a summary is the body's opening cut short (as the cleaner derives it), so
    that indexing it again would find nothing more. Only the body's first few hundred
    characters are compared: a summary found further on is indexed twice, which costs
    space, not matches."""
    wanted = "".join(summary.removesuffix("…").split())
    return wanted in "".join(body[: 2 * len(summary) + 200].split())


def split_terms(text: str) -> bytes:
    """Text as the tokenizer is to see it, in UTF-8: every character with the one after
    it, then a space (`ab` -> `ab b `)."""
    return _pairs(_normalised(text))


def _pairs(text: str) -> bytes:
    """Every character with the one after it, then a space, in UTF-8.

    Done on the UTF-16 code units with slices of bytes, which C copies a byte at a time:
    an article's body takes microseconds, where a loop over its characters would take a
    hundred. Text outside the Basic Multilingual Plane (an emoji, a rare ideograph, a
    lone surrogate from an undecodable file name) has no fixed width there: it takes the
    slower way, over UTF-32 code units."""
    length = len(text)
    try:
        units = (text + " ").encode("utf-16-le")
    except UnicodeEncodeError:  # a lone surrogate
        return _wide_pairs(text)
    if len(units) != 2 * length + 2:  # a surrogate pair: a character of two units
        return _wide_pairs(text)
    low, high = units[0::2], units[1::2]
    pairs = bytearray(6 * length)
    pairs[0::6], pairs[1::6] = low[:length], high[:length]
    pairs[2::6], pairs[3::6] = low[1:], high[1:]
    pairs[4::6] = b" " * length
    return pairs.decode("utf-16-le").encode("utf-8")


def _wide_pairs(text: str) -> bytes:
    """`_pairs` for any text, over UTF-32 code units."""
    length = len(text)
    units = memoryview((text + " ").encode("utf-32-le", "surrogatepass")).cast("I")
    pairs = bytearray(_SPACE * (3 * length))
    into = memoryview(pairs).cast("I")
    into[0::3] = units[:length]
    into[1::3] = units[1:]
    return pairs.decode("utf-32-le", "surrogatepass").encode("utf-8", "surrogatepass")


def match_expression(query: str) -> str:
    """The FTS5 MATCH expression for articles holding every word of `query` (words are
    what whitespace separates), or "" when nothing in it can be searched for.

    Each word becomes one quoted phrase, so FTS5's own syntax (`"`, `*`, `OR`, `NEAR(`,
    `-`, parentheses, `column:`) is searched as the text it is. Punctuation around a word
    is not searched for."""
    phrases = []
    for word in _query_words(query):
        if len(word) == 1:  # every pair it starts, and its unigrams, as a prefix
            phrases.append(f'"{word}" *')  # alphanumeric: no quote to double
        else:  # its pairs: the last character's unigram is not, as the text may go on
            pairs = " ".join(map(add, word, word[1:]))
            phrases.append('"' + pairs.replace('"', '""') + '"')
    return " ".join(phrases)


def single_character(query: str) -> str | None:
    """The character a query of one word of one character asks for, as the index holds
    it (see search_index.newest_holding); None for any other query."""
    words = _query_words(query)
    if len(words) != 1 or len(words[0]) != 1:
        return None
    return words[0].lower()  # the tokenizer folds A-Z


def _query_words(query: str) -> list[str]:
    """The words of a query that can be searched for, as the index holds them, without
    the punctuation around them."""
    # No text holds a NUL (it ends a string for FTS5): it separates words, as a space does.
    words = (_trimmed(_normalised(word)) for word in query.replace("\0", " ").split())
    return [word for word in words if word]


def _trimmed(word: str) -> str:
    """A word without the punctuation around it."""
    start = 0
    while start < len(word) and not word[start].isalnum():
        start += 1
    end = len(word)
    while end > start and not word[end - 1].isalnum():
        end -= 1
    return word[start:end]


def _normalised(text: str) -> str:
    """Text with full-width letters and digits folded to ASCII, in lower case.

    Whitespace stays as written. ASCII whitespace separates terms; other whitespace (the
    no-break and ideographic spaces of scraped Chinese text) is part of the pairs around
    it, as any character is: no query word holds it (words are split at it), so such a
    pair is never searched for whole, and a one-character query finds it as a prefix."""
    if _FULL_WIDTH.search(text):
        text = text.translate(_FOLD)
    if not text.isascii():
        text = text.lower()  # the tokenizer folds A-Z alone
    return text
