"""HTTP conditional requests (RFC 9110 §13): which status a request's preconditions call for.

Pure: takes header values, returns 304, 412 or None (serve the representation).
"""

from __future__ import annotations

from datetime import datetime

from werkzeug.http import parse_date, parse_etags


def evaluate(
    method: str,
    etag: str,
    last_modified: int,
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: str | None = None,
    if_unmodified_since: str | None = None,
) -> int | None:
    """The status the preconditions call for, in RFC 9110 §13.2.2 order, or None for 200.

    `etag` is the representation's strong entity tag without quotes; `last_modified`
    is in whole epoch seconds, as sent in Last-Modified.
    """
    safe = method in ("GET", "HEAD")
    # Step 1-2: If-Match, else If-Unmodified-Since. A failed one means 412.
    if if_match is not None:
        tags = parse_etags(if_match)
        if not (tags.star_tag or tags.contains(etag)):  # strong comparison
            return 412
    elif if_unmodified_since is not None:
        since = _date(if_unmodified_since)
        if since is not None and last_modified > since:
            return 412
    # Step 3-4: If-None-Match, else If-Modified-Since. A match means 304 for GET and HEAD.
    if if_none_match is not None:
        tags = parse_etags(if_none_match)
        if tags.star_tag or tags.contains_weak(etag):  # weak comparison (§13.1.2)
            return 304 if safe else 412
    elif safe and if_modified_since is not None:
        since = _date(if_modified_since)
        if since is not None and last_modified <= since:
            return 304
    return None


def _date(value: str) -> int | None:
    # An invalid date makes the header be ignored (RFC 9110 §13.1.3, §13.1.4).
    parsed: datetime | None = parse_date(value)
    return int(parsed.timestamp()) if parsed is not None else None
