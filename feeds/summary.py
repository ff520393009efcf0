"""A plain-text summary of a body: about so many characters, cut where a reader would."""

from __future__ import annotations

from feeds.text import strip_markup

_ORIGINAL_TITLE = "原标题"
# A closing quote or bracket right after a sentence end belongs to that sentence.
_CLOSERS = "”’」』）)\"'"
_WIDE_SENTENCE_END = "。！？；"
_ASCII_SENTENCE_END = "!?."


def summarise(text: str, length: int) -> str:
    """Cut block-separated plain text to about `length` characters, skipping the 原标题 line."""
    # Text that reads as markup (from entities such as &lt;script&gt; in the body) is dropped:
    # RSS readers render <description> as HTML, so a summary must not form a tag there.
    blocks = [" ".join(line.split()) for line in strip_markup(text).split("\n")]
    joined = ""
    for block in blocks:
        if not block or block.startswith(_ORIGINAL_TITLE):
            continue
        if joined and not (_is_wide(joined[-1]) and _is_wide(block[0])):
            joined += " "
        joined += block
    if len(joined) <= length:
        return joined
    return _cut(joined, length) + "…"


def _cut(text: str, length: int) -> str:
    """The longest good prefix of `text` no longer than `length`."""
    window = text[:length]
    # A sentence end in the first half would throw away too much of the text.
    for end in range(length - 1, length // 2 - 1, -1):
        char = window[end]
        if char in _WIDE_SENTENCE_END or (
            char in _ASCII_SENTENCE_END and (end + 1 == len(text) or text[end + 1].isspace())
        ):
            stop = end + 1
            while stop < length and window[stop] in _CLOSERS:
                stop += 1
            return window[:stop]
    if _is_word(text[length - 1]) and _is_word(text[length]):
        space = window.rfind(" ")
        if space > 0:
            return window[:space].rstrip()
    return window.rstrip()


def _is_wide(char: str) -> bool:
    """CJK ideographs, kana, hangul and full-width forms: written without spaces between."""
    return char >= "\u2e80"


def _is_word(char: str) -> bool:
    """A character of a space-separated word (Latin letters, digits)."""
    return char.isalnum() and not _is_wide(char)
