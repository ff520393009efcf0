"""How an article's text becomes search terms, and a query a MATCH expression. Pure.

The search index is an SQLite FTS5 table with the stock `unicode61` tokenizer, fed text
that has been split here first into overlapping pairs of characters: 央行行长 is written
`央行 行行 行长 长`, and GDP增长 `GD DP P增 增长 长`. unicode61 takes each pair as a token,
folding case, and drops punctuation and spaces, so a pair next to one
leaves a single character (the 长 at the end of a run, the 增 after a comma). A query word
is split the same way and searched as a phrase of its pairs: 央行 is the one term `央行`,
存款准备金 the phrase `存款 款准 准备 备金`, and a single character the prefix `央*`. So a
query word is found wherever it occurs in the text as a substring, whatever surrounds it,
ignoring case and the kind of punctuation or spacing inside it.

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
  every text, about seven times the time of pairing the whole text at once, which is
  done in C (see split_terms). On a Chinese site Latin letters are mostly acronyms; as
  pairs they match substrings (AI also finds CHAIN), as MySQL's ngram parser does.
- A tokenizer of our own, in C, would do this inside SQLite; Python's sqlite3 cannot
  register one.
The costs of pairs: about one token per character, so the index is about the size of
the text; and no segmentation, so 中国 also matches 发展中国家. Traditional and
simplified characters are not folded into each other. Nor are accents (café does not
find cafe): unicode61's `remove_diacritics` slows every token down, for text that
has next to none. Full-width letters and digits (Ａ股, ２０２２) are folded to ASCII, so
that they match what people type.

Changing what this module produces changes the index: raise the catalogue's
SCHEMA_VERSION with it, so that every article is indexed again (removing a row from the
index needs the very text it was added with).
"""

from __future__ import annotations

import re
from operator import add

from feeds.model import Article
from feeds.text import html_text

# Full-width letters and digits (Ａ股, ２０２２): folded to ASCII, so that they match what
# people type. Full-width punctuation (，：) is common and needs nothing: it separates.
_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_FOLD = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF5B) if chr(code - 0xFEE0).isalnum()}
_SPACE = " ".encode("utf-32-le")


def search_text(article: Article) -> str:
    """What the index holds for an article: its title, summary (unless the body begins
    with it), body, author, and the names of its categories and tags, split for the
    tokenizer. Each ends with a newline, so that no phrase runs on from one to the next."""
    body = html_text(article.content)
    summary = "" if _repeats(article.summary, body) else article.summary
    names = [name for path in article.categories for name in path] + list(article.tags)
    fields = (article.title, summary, body, article.author or "", " ".join(names))
    return split_terms("\n".join(fields))


def _repeats(summary: str, body: str) -> bool:
    """Whether a summary is the body's opening cut short (as the cleaner derives it), so
    that indexing it again would find nothing more."""
    return "".join(summary.removesuffix("…").split()) in "".join(body.split())


def split_terms(text: str) -> str:
    """Text as the tokenizer is to see it: every character with the one after it, then a
    space (`ab` -> `ab b `)."""
    return _pairs(_normalised(text))


def _pairs(text: str) -> str:
    """Every character with the one after it, then a space. Done on the UTF-32 code
    units, with three strided copies into one buffer: an article's body takes
    microseconds, where a loop over its characters would take a hundred."""
    length = len(text)
    if length == 0:
        return ""
    units = memoryview((text + " ").encode("utf-32-le", "surrogatepass")).cast("I")
    pairs = bytearray(_SPACE * (3 * length))
    into = memoryview(pairs).cast("I")
    into[0::3] = units[:length]
    into[1::3] = units[1:]
    return pairs.decode("utf-32-le", "surrogatepass")


def match_expression(query: str) -> str:
    """The FTS5 MATCH expression for articles holding every word of `query` (words are
    what whitespace separates), or "" when nothing in it can be searched for.

    Each word becomes one quoted phrase, so FTS5's own syntax (`"`, `*`, `OR`, `NEAR(`,
    `-`, parentheses, `column:`) is searched as the text it is: the tokenizer drops the
    punctuation and finds the words. Punctuation around a word is not searched for."""
    phrases = []
    # No text holds a NUL (it ends a string for FTS5): it separates words, as a space does.
    for word in query.replace("\0", " ").split():
        word = _trimmed(_normalised(word))
        if len(word) == 1:  # every pair it starts, and its unigrams, as a prefix
            phrases.append(f'"{word}" *')  # alphanumeric: no quote to double
        elif word:  # its pairs: the last character's unigram is not, as the text may go on
            pairs = " ".join(map(add, word, word[1:]))
            phrases.append('"' + pairs.replace('"', '""') + '"')
    return " ".join(phrases)


def _trimmed(word: str) -> str:
    """A word without the punctuation around it (the tokenizer finds terms in letters and
    digits, which isalnum stands for)."""
    start = 0
    while start < len(word) and not word[start].isalnum():
        start += 1
    end = len(word)
    while end > start and not word[end - 1].isalnum():
        end -= 1
    return word[start:end]


def _normalised(text: str) -> str:
    """Text with its full-width letters and digits folded to ASCII (the tokenizer folds
    case, but keeps Ａ apart from A)."""
    return text.translate(_FOLD) if _FULL_WIDTH.search(text) else text
