"""Plain-text helpers shared by the stages. Contains no business logic."""

from __future__ import annotations

import html
import re

# XML 1.0 allows #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF];
# anything else makes a feed unparseable, so it is dropped wherever text enters one.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Zero-width characters and bidi controls are invisible, yet they make equal names differ and
# can reorder how a title displays (Unicode TR #36, "Bidirectional Text Spoofing"), so no
# plain-text field keeps them.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def xml_safe(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry, keeping tab, LF and CR."""
    return _XML_ILLEGAL.sub("", text)


def plain_text(value: str) -> str:
    """Strip markup, entities and invisible characters, collapse whitespace: for names, titles.

    Readers render HTML in RSS titles inconsistently, so markup there is a scraping
    artefact to remove, not text to escape.
    """
    text = _TAG.sub(" ", value)
    text = _INVISIBLE.sub("", html.unescape(text))  # also those written as &#8203; and the like
    text = _TAG.sub(" ", text)  # markup that was entity-escaped the first time round
    return _SPACE.sub(" ", xml_safe(text)).strip()
