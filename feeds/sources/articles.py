"""One article file's bytes -> ParsedArticle: what its front matter fields mean.

Title, dates, categories, tags, id, image, author, link and summary are read here; decoding
is feeds.sources.encoding's job, and fence splitting and YAML/TOML loading
feeds.sources.frontmatter's.
Pure: no disk access. The caller reads the file and passes its bytes and mtime.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from feeds.errors import ArticleError
from feeds.model import CategoryPath, ParsedArticle
from feeds.sources.encoding import decode
from feeds.sources.frontmatter import FrontMatter, parse_front_matter
from feeds.text import encodable, plain_text, xml_safe

__all__ = ["decode", "parse_article"]  # decode stays importable from here, as it always was

_FUTURE_SLACK = timedelta(days=1)
# Earlier dates are typos or placeholders, and year-1 times cannot even be converted to UTC.
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_DATE_FORMS = (
    "'Tue, 15 Mar 2022 14:04:32 GMT' (RFC 822), '2022-03-15 14:04:32' or "
    "'2022-03-15T14:04:32+08:00' (ISO 8601), '2022-03-15' (a date), or 1647353072 (Unix time)"
)


def _where(source: str, line: int | None) -> str:
    return f"{source}:{line}" if line is not None else source


# --- fields -----------------------------------------------------------------------------------


def _name(value: object) -> str | None:
    """A scalar -> cleaned text; None for lists, mappings, booleans and nulls."""
    if value.__class__ is str:  # most names: the checks below are for the other scalars
        return plain_text(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float | date):
        return None
    return plain_text(str(value))


def _title(fm: FrontMatter, source: str) -> str:
    line = fm.lines.get("title", fm.fence_line)
    value = fm.data.get("title")
    if value is None or value == "":
        raise ArticleError(source, "the title is missing or empty: add 'title: ...'", line)
    # A YAML title such as 1.10 or 2022-03-15 is text to the author; keep it as written.
    text = value if isinstance(value, str) else fm.raw.get("title", value)
    title = _name(text)
    if title is None:
        raise ArticleError(source, "the title must be text: write it on one line, quoted", line)
    if not title:
        raise ArticleError(source, "the title is empty once markup is removed", line)
    return title


def _to_datetime(value: object, zone: tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if (gmt := _RFC822_GMT.fullmatch(text)) is not None:
        with contextlib.suppress(ValueError):  # out of range: the parsers below say so too
            return _gmt(gmt)
    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            return _to_datetime(parse(text), zone)
        except (ValueError, TypeError, IndexError):
            continue
    return None


# The date scrapers write most (`Tue, 15 Mar 2022 14:04:32 GMT`), read here as
# parsedate_to_datetime reads it, without its general parser. A two-digit or early year is
# left to that parser, which reads "22" as 2022.
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_RFC822_GMT = re.compile(
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{{2}}) ({'|'.join(_MONTHS)}) ([1-9][0-9]{{3}}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)


def _gmt(match: re.Match[str]) -> datetime:
    day, month, year, hour, minute, second = match.groups()
    month_number = _MONTHS.index(month) + 1
    return datetime(
        int(year), month_number, int(day), int(hour), int(minute), int(second), tzinfo=UTC
    )


@dataclass(frozen=True)
class _FileTimes:
    """What the reader knows of a file's times besides its front matter."""

    mtime: float  # epoch seconds: a copy or a clone resets it
    # When a build first read the content that replaced what the catalogue held (epoch
    # seconds); None when no change of content was ever seen.
    changed: float | None
    updated_from: str  # source.updated: "date" or "mtime"


def _at(seconds: float, zone: tzinfo) -> datetime:
    # Whole seconds: feed and HTTP dates carry no more, and a touch should not show as an edit.
    return datetime.fromtimestamp(int(seconds), tz=UTC).astimezone(zone)


def _dates(
    fm: FrontMatter, source: str, zone: tzinfo, times: _FileTimes, now: datetime
) -> tuple[datetime, datetime, list[str]]:
    warnings: list[str] = []
    modified = _at(times.mtime, zone)
    found: dict[str, datetime | None] = {}
    for key in ("date", "updated"):
        value = fm.data.get(key)
        line = fm.lines.get(key)
        if value is None or value == "":
            found[key] = None
            continue
        parsed = _to_datetime(value, zone)
        if parsed is None:
            raise ArticleError(
                source, f"{key} {value!r} is not a date: write it as {_DATE_FORMS}", line
            )
        if parsed < _EARLIEST:
            raise ArticleError(
                source,
                f"{key} {fm.raw.get(key, value)!r} is before 1900: check the year, or remove it",
                line,
            )
        if parsed > now + _FUTURE_SLACK:
            where = _where(source, line)
            warnings.append(f"{where}: {key} is in the future; using the file's modification time")
            parsed = modified
        found[key] = parsed
    published = found["date"]
    if published is None:
        warnings.append(f"{source}: no date; using the file's modification time: add 'date: ...'")
        published = modified
    updated = _updated(found["updated"], times, zone) or published
    return published, max(updated, published), warnings


def _updated(written: datetime | None, times: _FileTimes, zone: tzinfo) -> datetime | None:
    """The front matter's `updated`, else what source.updated says; None: the `date`."""
    if written is not None:
        return written
    if times.updated_from == "mtime":
        return _at(times.mtime, zone)
    # A copy, a clone or a touch keeps the content, and with it the dates; only a change
    # of content that a build saw moves `updated` on (issue 12).
    if times.changed is not None:
        return _at(times.changed, zone)
    return None


def _categories(fm: FrontMatter, source: str) -> tuple[tuple[CategoryPath, ...], list[str]]:
    key = "categories" if "categories" in fm.data else "category"
    warnings: list[str] = []
    if key == "categories" and "category" in fm.data:
        where = _where(source, fm.lines.get("category"))
        warnings.append(f"{where}: 'category' ignored because 'categories' is set")
    value = fm.data.get(key)
    line = fm.lines.get(key)
    hint = f"{key} must be a name, a list (one path, parent first) or a list of such lists"
    if value is None:
        return (), warnings
    # Hexo: a flat list is ONE path, parent -> child; a list holding lists is several paths.
    several = isinstance(value, list) and any(isinstance(item, list) for item in value)
    items = value if several and isinstance(value, list) else [value]
    paths: list[CategoryPath] = []
    for item in items:
        names = [_name(n) for n in (item if isinstance(item, list) else [item])]
        if any(n is None for n in names):
            raise ArticleError(source, f"{hint}; found {value!r}", line)
        path = tuple(n for n in names if n)
        if path and path not in paths:
            paths.append(path)
    return tuple(paths), warnings


def _tags(fm: FrontMatter, source: str) -> tuple[str, ...]:
    value = fm.data.get("tags")
    if value is None:
        return ()
    names = [_name(v) for v in (value if isinstance(value, list) else [value])]
    if any(n is None for n in names):
        raise ArticleError(source, "tags must be a name or a list of names", fm.lines.get("tags"))
    return tuple(dict.fromkeys(n for n in names if n))


def _id(fm: FrontMatter, source: str) -> str:
    line = fm.lines.get("id")
    if "id" in fm.data:
        value = fm.data["id"]
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ArticleError(source, "id must be text or a whole number: quote it", line)
        found = str(value).strip()
    else:
        found = _without_suffix(source) if source.strip("/.") else ""
    # A file name with bytes that are not UTF-8, or a YAML "\ud800", gives lone surrogates,
    # which nothing downstream can encode; the escaped form is just as stable.
    found = encodable(found)
    if not found:
        raise ArticleError(source, "the id is empty: remove 'id:' or give it a value", line)
    return found


def _without_suffix(source: str) -> str:
    """str(PurePosixPath(source).with_suffix("")), without building the path when `source` is
    already as pathlib writes it (no empty or "." component), as scanned sources are."""
    parts = source.split("/")
    if not all(parts) or "." in parts:
        return str(PurePosixPath(source).with_suffix(""))
    name = parts[-1]
    dot = name.rfind(".")
    # pathlib's suffix: from the last dot, which neither starts nor ends the name.
    return source[: len(source) - len(name) + dot] if 0 < dot < len(name) - 1 else source


def _url(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    url = value.strip()
    if url.startswith("//"):
        url = "https:" + url
    # Whitespace and control characters have no place in a URL, and one that XML cannot
    # carry would make the whole feed fail to serialise.
    # (isprintable() is False for every separator but the ASCII space.)
    if not url.isprintable() or " " in url or xml_safe(url) != url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 bracket)
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _image(fm: FrontMatter, source: str) -> tuple[str | None, list[str]]:
    warnings: list[str] = []
    for key in ("headimg", "thumbnail", "cover"):
        value = fm.data.get(key)
        if value is None or value == "":
            continue
        url = _url(value)
        if url:
            return url, warnings
        where = _where(source, fm.lines.get(key))
        warnings.append(f"{where}: {key} {value!r} is not an http(s) URL; ignored")
    return None, warnings


def _author(fm: FrontMatter, source: str) -> tuple[str | None, list[str]]:
    value = fm.data.get("author")
    if isinstance(value, dict):
        value = value.get("name")
    if value is None:
        return None, []
    name = _name(value)
    if name is None:
        where = _where(source, fm.lines.get("author"))
        return None, [f"{where}: author must be a name or {{name: ...}}; ignored"]
    return name or None, []


def _link(fm: FrontMatter) -> tuple[str, str | None]:
    # `source` is often a publisher's name rather than a URL; such a value stays in `extra`.
    for key in ("link", "url", "source"):
        url = _url(fm.data.get(key))
        if url:
            return key, url
    return "", None


def _summary(fm: FrontMatter) -> tuple[str, str | None]:
    for key in ("summary", "description", "excerpt"):
        name = _name(fm.data.get(key))
        if name:
            return key, name
    return "", None


# --- the article ------------------------------------------------------------------------------

_CONSUMED = {"title", "date", "updated", "categories", "category", "tags", "id"}
_CONSUMED |= {"headimg", "thumbnail", "cover", "author"}


def parse_article(
    data: bytes,
    source: str,
    *,
    timezone: tzinfo,
    mtime: float,
    changed: float | None = None,
    updated_from: str = "date",
    now: datetime | None = None,
) -> ParsedArticle:
    """Decode one article file and read its front matter; raise ArticleError when unusable.

    Dates without a zone are in `timezone`. A missing `date` falls back to the file's mtime
    with a warning rather than an error: scraped files often lack one, and the file time is
    the best estimate of when the item appeared. `updated` is the front matter's, else
    `mtime` when `updated_from` is "mtime", else `changed` (when a build first read this
    content in place of other content), else the `date`. `now` (default: the current UTC
    time) decides which dates lie in the future.
    """
    text, decoded = decode(data, source)
    fm = parse_front_matter(text, source)
    article_id, title = _id(fm, source), _title(fm, source)
    when = now if now is not None else datetime.now(tz=UTC)
    times = _FileTimes(mtime, changed, updated_from)
    published, updated, warnings = _dates(fm, source, timezone, times, when)
    categories, category_warnings = _categories(fm, source)
    image, image_warnings = _image(fm, source)
    author, author_warnings = _author(fm, source)
    link_key, link = _link(fm)
    summary_key, summary = _summary(fm)
    used = _CONSUMED | {link_key, summary_key}
    return ParsedArticle(
        id=article_id,
        source=source,
        title=title,
        published=published,
        updated=updated,
        categories=categories,
        tags=_tags(fm, source),
        author=author,
        image=image,
        link=link,
        summary=summary,
        body=fm.body,
        body_line=fm.body_line,
        extra={k: v for k, v in fm.data.items() if k not in used},
        warnings=(
            *decoded,
            *warnings,
            *category_warnings,
            *image_warnings,
            *author_warnings,
        ),
    )
