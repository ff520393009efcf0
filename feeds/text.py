"""Plain-text helpers shared by the stages, and the one digest they all use. Contains no
business logic."""

from __future__ import annotations

import hashlib
import html
import re

# XML 1.0 allows #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF];
# anything else makes a feed unparseable, so it is dropped wherever text enters one. Spelt
# as what is left out rather than as the complement of what is allowed: the same characters,
# and a class that compiles much faster at every start.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Zero-width characters and bidi controls are invisible, yet they make equal names differ and
# can reorder how a title displays (Unicode TR #36, "Bidirectional Text Spoofing"), so no
# plain-text field keeps them.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_TAG = re.compile(r"<[^>]*>")
# What an HTML parser reads as the start of a tag, an end tag, a comment or a declaration.
_TAG_LIKE = re.compile(r"<[A-Za-z/!?][^>]*>")
# "<<a" would leave "<a" behind. Spelt "<<*", not "<+", so that the search can skip to each '<'.
_TAG_OPEN = re.compile(r"<<*(?=[A-Za-z/!?])")
_SPACE = re.compile(r"\s+")
# Lone surrogates: file names with bytes that are not UTF-8 (os.fsdecode) or YAML "\ud800".
_SURROGATE = re.compile("[\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry, keeping tab, LF and CR."""
    # Each character XML forbids is a control, a surrogate or a noncharacter, none of them
    # printable: most names, URLs and attribute values are done at a glance.
    if text.isprintable() or (len(text) > _LONG and _xml_legal(text)):
        return text
    return _XML_ILLEGAL.sub("", text)


# From about this length on, _xml_legal is quicker than a search with _XML_ILLEGAL (which
# takes some 4 ns a character): twice as quick for a body of 1,300 characters of Chinese.
_LONG = 300
# The C0 controls XML forbids: in UTF-8, these bytes stand for these characters only.
_ILLEGAL_C0 = bytes(sorted(set(range(0x20)) - {0x9, 0xA, 0xD}))


def _xml_legal(text: str) -> bool:
    """True when `text` holds no character _XML_ILLEGAL matches."""
    try:
        data = text.encode("utf-8")  # a surrogate cannot be encoded
    except UnicodeEncodeError:
        return False
    return (
        len(data.translate(None, _ILLEGAL_C0)) == len(data)
        and "\ufffe" not in text
        and "\uffff" not in text
    )


# Anything plain_text would change: markup or an entity, a character it drops, whitespace
# other than single spaces. Most names and titles have none, and are returned as they are.
_NOT_PLAIN = re.compile(
    "[<&\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
    "\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]|[^\\S ]|  "
)


def plain_text(value: str) -> str:
    """Strip markup, entities and invisible characters, collapse whitespace: for names, titles.

    Readers render HTML in RSS titles inconsistently, so markup there is a scraping
    artefact to remove, not text to escape.
    """
    if _NOT_PLAIN.search(value) is None and not value.startswith(" ") and not value.endswith(" "):
        return value  # a cold build cleans a few names per article: most are plain already
    return _plain(value)


def _plain(value: str) -> str:
    """plain_text's work, done in full."""
    text = _TAG.sub(" ", xml_safe(value))
    text = _INVISIBLE.sub("", html.unescape(text))  # also those written as &#8203; and the like
    text = _TAG.sub(" ", text)  # markup that was entity-escaped the first time round
    # A '<' left here has no '>' after it: "<img src=x onerror=..." would still open a tag
    # in a reader that renders the title as HTML, so the '<' goes (after the characters whose
    # removal could join it to a letter).
    text = _TAG_OPEN.sub("", xml_safe(text))
    return _SPACE.sub(" ", text).strip()


def html_text(fragment: str) -> str:
    """The text of an HTML fragment: tags out (each leaves a space), entities decoded."""
    return html.unescape(_TAG.sub(" ", fragment))


def strip_markup(text: str, *, xml_clean: bool = False) -> str:
    """Remove what would read as a tag if this plain text were rendered as HTML.

    Narrower than plain_text: "1 < 2 > 0" stays as written, "<b>x</b>" becomes "x". Drops
    the characters XML cannot carry too, unless the caller says there are none (`xml_clean`).
    """
    if not xml_clean:
        text = xml_safe(text)
    if "<" not in text:  # most text: neither pattern can match
        return text
    return _TAG_OPEN.sub("", _TAG_LIKE.sub("", text))


def encodable(text: str) -> str:
    """`text` with each lone surrogate written as an escape, so it can be encoded as UTF-8.

    A surrogate from a file name stands for one undecodable byte ("\\xff"); the result is
    stable, so an id derived from such a name never changes.
    """

    if text.isascii():  # most file names: nothing to look for, at every scan of each
        return text
    return _SURROGATE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def hex_digest(data: bytes | str, size: int) -> str:
    """The BLAKE2b digest of `data` (text as UTF-8), `size` bytes long, in hex.

    Each caller's size is part of what it stores or publishes (ETags, ids, signatures): a
    different size changes those bytes.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.blake2b(data, digest_size=size).hexdigest()
