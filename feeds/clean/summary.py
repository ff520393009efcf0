"""A plain-text summary of a body: about so many characters, cut where a reader would."""

from __future__ import annotations

from feeds.text import strip_markup

_ORIGINAL_TITLE = "原标题"
# A closing quote or bracket right after a sentence end belongs to that sentence.
_CLOSERS = "”’」』）)\"'"
_WIDE_SENTENCE_END = "。！？；"
_ASCII_SENTENCE_END = "!?."


def summarise(text: str, length: int, *, xml_clean: bool = False) -> str:
    """Cut block-separated plain text to about `length` characters, skipping the 原标题 line.

    `xml_clean`: the caller knows that `text` holds no character XML forbids.
    """
    # Text that reads as markup (from entities such as &lt;script&gt; in the body) is dropped:
    # RSS readers render <description> as HTML, so a summary must not form a tag there.
    joined = ""
    for line in strip_markup(text, xml_clean=xml_clean).split("\n"):
        if line.isspace() or not line:  # most lines: the space between two blocks
            continue
        block = " ".join(line.split())
        if block.startswith(_ORIGINAL_TITLE):
            continue
        if joined and not (_is_wide(joined[-1]) and _is_wide(block[0])):
            joined += " "
        joined += block
        if len(joined) > length > 0:
            # _cut reads no further than the character after the first `length`: the blocks
            # left cannot change the summary.
            break
    if len(joined) <= length:
        return joined
    return _cut(joined, length) + "…"


def _cut(text: str, length: int) -> str:
    """The longest good prefix of `text` no longer than `length`."""
    window = text[:length]
    end = _sentence_end(text, length)
    if end >= 0:
        stop = end + 1
        while stop < length and window[stop] in _CLOSERS:
            stop += 1
        return window[:stop]
    if _is_word(text[length - 1]) and _is_word(text[length]):
        space = window.rfind(" ")
        if space > 0:
            return window[:space].rstrip()
    return window.rstrip()


def _sentence_end(text: str, length: int) -> int:
    """Where the last sentence in the second half of `text[:length]` ends, or -1."""
    if length <= 0:
        return -1
    # A sentence end in the first half would throw away too much of the text.
    half = length // 2
    second = text[half:length]
    last = max(map(second.rfind, _WIDE_SENTENCE_END))
    for char in _ASCII_SENTENCE_END:
        # "3.5" or "e.g" are no sentence ends: a space or the text's end must follow.
        end = second.rfind(char)
        while end > last:
            after = half + end + 1
            if after == len(text) or text[after].isspace():
                last = end
                break
            end = second.rfind(char, 0, end)
    return half + last if last >= 0 else -1


def _is_wide(char: str) -> bool:
    """CJK ideographs, kana, hangul and full-width forms: written without spaces between."""
    return char >= "\u2e80"


def _is_word(char: str) -> bool:
    """A character of a space-separated word (Latin letters, digits)."""
    return char.isalnum() and not _is_wide(char)
