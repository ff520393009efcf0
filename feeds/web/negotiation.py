"""Which representation of a feed a request gets: the feed document, or its HTML view.

A feed's address is shared as a link and opened in browsers, and polled by feed readers.
Browsers rank text/html first (`text/html,application/xhtml+xml,application/xml;q=0.9,
*/*;q=0.8`); readers name the feed types, or send `*/*` or nothing. A request gets the view
only when it ranks a page strictly above every feed type (RFC 9110, section 12.5.1): on a
tie the feed wins, so a reader never gets a page instead of its feed.
config/nginx.conf makes the same choice with a `map` of regular expressions; the tests run
one table of Accept headers through both.
"""

from __future__ import annotations

import re
from functools import lru_cache

PAGE_TYPES = ("text/html", "application/xhtml+xml")
# Every type a feed is served or asked for as: a reader that names any of them is a reader.
FEED_TYPES = (
    "application/atom+xml",
    "application/rss+xml",
    "application/feed+json",
    "application/json",
    "application/xml",
    "text/xml",
)
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")  # RFC 9110, section 12.4.2


@lru_cache(maxsize=256)  # readers and browsers send a handful of distinct headers
def prefers_page(accept: str) -> bool:
    """Whether an Accept header ranks an HTML page above every feed type."""
    ranges = _media_ranges(accept)
    if not ranges:
        return False  # no Accept, or none that parses: anything goes, and that is the feed
    page = max(_quality(ranges, media_type) for media_type in PAGE_TYPES)
    return page > max(_quality(ranges, media_type) for media_type in FEED_TYPES)


def _media_ranges(accept: str) -> list[tuple[str, str, float]]:
    """(type, subtype, q) of each well-formed media range; a malformed one is left out."""
    ranges = []
    for element in accept.split(","):
        media_range, *parameters = (part.strip() for part in element.split(";"))
        kind, slash, subtype = media_range.lower().partition("/")
        if not (slash and kind and subtype) or (kind == "*" and subtype != "*"):
            continue
        quality: float | None = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                quality = float(value) if _QVALUE.fullmatch(value.strip()) else None
        if quality is not None:
            ranges.append((kind, subtype, quality))
    return ranges


def _quality(ranges: list[tuple[str, str, float]], media_type: str) -> float:
    """The quality the most specific matching range gives `media_type` (RFC 9110, section
    12.5.1: `text/html;q=0.1, */*` ranks text/html at 0.1); 0 when none matches."""
    kind, _, subtype = media_type.partition("/")
    best, quality = -1, 0.0
    for range_kind, range_subtype, range_quality in ranges:
        if (range_kind, range_subtype) == (kind, subtype):
            specificity = 2
        elif (range_kind, range_subtype) == (kind, "*"):
            specificity = 1
        elif (range_kind, range_subtype) == ("*", "*"):
            specificity = 0
        else:
            continue
        if specificity > best or (specificity == best and range_quality > quality):
            best, quality = specificity, range_quality
    return quality
