"""A title whose quotation marks the scraper replaced by `_` gets them back from its body.

The sample's title reads `教育部升级_国家中小学智慧教育平台_，资源数量增加一倍` while its body
quotes “国家中小学智慧教育平台”. The marks around `_X_` are restored only where the body
holds X between quotation marks: without that evidence `snake_case`, `a_b_c`, `__init__`
and lone underscores stay as written. Pure: values in, value out.
"""

from __future__ import annotations

from feeds.text import html_text

# The quotation marks of Chinese and English text: “” and "" (what the scraper's sources
# use), 「」 and 『』 (Taiwan, Hong Kong and Japanese usage), ‘’ (quotes inside quotes) and
# the full-width ＂ of GB text. Not the ASCII apostrophe: "it's" and "'90s" would be taken
# for marks. Not 《》: they name works, and are not what the scraper replaced.
_QUOTES = (("“", "”"), ('"', '"'), ("「", "」"), ("『", "』"), ("‘", "’"), ("＂", "＂"))


def repaired_title(title: str, body_html: str) -> str:
    """`title` with each `_X_` given the quotation marks its body puts around X, if any."""
    if title.count("_") < 2:
        return title  # most titles: nothing to repair, and the body is not even read
    text = html_text(body_html)
    pieces: list[str] = []
    kept = 0  # title[:kept] is done
    start = title.find("_")
    while (end := title.find("_", start + 1)) != -1:
        # A run of underscores (`__init__`) is code or a blank to fill in, not a lost mark.
        doubled = title[start - 1 : start] == "_" or title[end + 1 : end + 2] == "_"
        marks = None if doubled else _marks_around(title[start + 1 : end], text)
        if marks is None:
            start = end  # this closing underscore may open the next `_X_`
            continue
        pieces.append(f"{title[kept:start]}{marks[0]}{title[start + 1 : end]}{marks[1]}")
        kept = end + 1
        start = title.find("_", kept)
        if start == -1:
            break
    return "".join(pieces) + title[kept:]


def _marks_around(quoted: str, text: str) -> tuple[str, str] | None:
    """The pair of marks `text` first puts around exactly `quoted`; None when it never does."""
    if not quoted.strip():
        return None
    found = [(text.find(f"{open_}{quoted}{close}"), (open_, close)) for open_, close in _QUOTES]
    at = [(index, marks) for index, marks in found if index >= 0]
    return min(at)[1] if at else None
