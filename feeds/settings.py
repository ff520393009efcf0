"""Every setting declared once: its key, default, help and the check that converts its value.

Contains no YAML reading; feeds.config walks the file and applies these declarations.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

from feeds.model import CategoryPath
from feeds.selectors import why_invalid
from feeds.text import plain_text


class Invalid(Exception):
    """Why a value was rejected: (list index or None, message) pairs, every one reported."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.found: list[tuple[int | None, str]] = [(index, message)]


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()  # the default of a key every feed must set


@dataclass(frozen=True)
class Setting:
    """One key, declared once: dotted name, default as written in YAML, help, check/convert."""

    name: str
    default: object
    help: str
    check: Callable[[object], object]


_T = TypeVar("_T")


def describe(value: object) -> str:
    """A YAML value as a message names it, with the fix when quoting it is the fix."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}; put it in quotes"
    if isinstance(value, int | float):
        return f"the number {value}; put it in quotes"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}; put it in quotes"


def _each(value: object, convert: Callable[[object], _T]) -> list[_T]:
    """Convert every item of a list (one string counts as a list of one); report every bad item."""
    if value is None:
        items: list[object] = []
    elif isinstance(value, str):
        items = [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise Invalid(f"must be a list of strings, not {describe(value)}")
    out: list[_T] = []
    found: list[tuple[int | None, str]] = []
    for index, item in enumerate(items):
        try:
            out.append(convert(item))
        except Invalid as exc:
            found.extend((index, message) for _, message in exc.found)
    if found:
        error = Invalid(found[0][1])
        error.found = found
        raise error
    return out


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string, not {describe(value)}")
    return value


def _text(value: object) -> str:
    text = _string(value).strip()
    if not text:
        raise Invalid("must not be empty")
    return text


_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def _language(value: object) -> str:
    text = _text(value)
    if not _LANGUAGE.fullmatch(text):
        raise Invalid(f"must be a language tag such as 'zh-CN' or 'en', not {text!r}")
    return text


def _base_url(value: object) -> str:
    text = _text(value)
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise Invalid(
            f"must be an absolute http(s) URL such as 'https://example.org/', not {text!r}"
        )
    if parts.query or parts.fragment:
        raise Invalid(f"must not have a query or fragment: {text!r}")
    # Feed, entry and page URLs are joined onto it, so it must name a directory.
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _hub(value: object) -> str:
    if value in ("", None):
        return ""
    text = _text(value)
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise Invalid(f"must be an http(s) URL of a WebSub hub, or empty, not {text!r}")
    return text


def _timezone(value: object) -> ZoneInfo:
    name = _text(value)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        known = {zone.lower(): zone for zone in available_timezones()}
        close = difflib.get_close_matches(name.lower(), known, n=1)
        hint = f"; did you mean {known[close[0]]!r}?" if close else ""
        raise Invalid(
            f"must be an IANA time zone such as 'Asia/Shanghai' or 'UTC', not {name!r}{hint}"
        ) from None


def _extension(value: object) -> str:
    text = _text(value).lower()
    extension = text if text.startswith(".") else "." + text
    if extension == "." or re.search(r"[\s/\\]", extension):
        raise Invalid(f"must be a file extension such as '.md', not {text!r}")
    return extension


def _extensions(value: object) -> tuple[str, ...]:
    extensions = tuple(dict.fromkeys(_each(value, _extension)))
    if not extensions:
        raise Invalid("must list at least one file extension, such as [.md, .txt]")
    return extensions


def _positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("must be a positive integer")
    return value


def _byte_cap(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid("must be a number of bytes, or 0 for no cap")
    if 0 < value < 4096:
        raise Invalid("must be at least 4096 bytes (a feed's header alone takes about 1 KB)")
    return value


def _pattern(value: object) -> str:
    pattern = _string(value)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise Invalid(
            f"must be a regular expression; {pattern!r} is not one ({exc}); fix or remove it"
        ) from None
    return pattern


def _names(value: object) -> tuple[str, ...]:
    return tuple(_each(value, _text))


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid("must be a positive number of seconds")
    if not (math.isfinite(value) and value > 0):
        raise Invalid("must be a positive number of seconds")
    return float(value)


def _directory(value: object) -> Path:
    try:
        return Path(_text(value)).expanduser()
    except RuntimeError:  # "~" with no home directory to expand it to
        raise Invalid(
            "starts with '~' but there is no home directory; write the full path"
        ) from None


def _optional_directory(value: object) -> Path | None:
    return None if value in ("", None) else _directory(value)


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise Invalid(f"must be true or false, not {describe(value)}")


def _category_feeds(value: object) -> bool:
    # YAML 1.1 reads a bare `off` as false, so the booleans are accepted too.
    if value is True or value == "auto":
        return True
    if value is False or value == "off":
        return False
    raise Invalid(f"must be 'auto' or 'off', not {describe(value)}")


def _selector(value: object) -> str:
    selector = _text(value)
    reason = why_invalid(selector)
    if reason is not None:
        raise Invalid(
            f"must be a CSS selector; {selector!r} is not one ({reason}); fix or remove it"
        )
    return selector


def _selectors(value: object) -> tuple[str, ...]:
    return tuple(_each(value, _selector))


_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")


def _slug(value: object) -> str:
    slug = _string(value)
    if not _SLUG.fullmatch(slug):
        raise Invalid(
            f"must be lower-case letters, digits and '-', starting with a letter or digit, "
            f"at most 80 characters (it names the feed's URL), not {slug!r}"
        )
    return slug


def _category_path(value: object) -> CategoryPath:
    if isinstance(value, str):
        segments: list[str] = value.split("/")
    elif isinstance(value, list):
        segments = [_string(segment) for segment in value]
    else:
        raise Invalid(f"must be a category path such as '金融/新浪财经', not {describe(value)}")
    # Article category names are normalised the same way, so the two compare equal.
    path = tuple(plain_text(segment) for segment in segments)
    if not path or "" in path:
        raise Invalid(
            f"must be a category path such as '金融/新浪财经' with no empty segment, not {value!r}"
        )
    return path


def _category_paths(value: object) -> tuple[CategoryPath, ...]:
    return tuple(dict.fromkeys(_each(value, _category_path)))


SETTINGS: tuple[Setting, ...] = (
    Setting("site.title", "feeds", "Title of the site: the index page and the OPML file.", _text),
    Setting(
        "site.base_url",
        "http://127.0.0.1:8080/",
        "Absolute http(s) URL the published tree is served from; feed and entry links are "
        "built on it. A missing trailing `/` is added.",
        _base_url,
    ),
    Setting("site.language", "zh-CN", "Language tag of the feeds.", _language),
    Setting("site.description", "", "Description of the site.", _string),
    Setting(
        "source.dir",
        "examples/articles",
        "Directory of article files, read recursively.",
        _directory,
    ),
    Setting(
        "source.timezone",
        "Asia/Shanghai",
        "IANA time zone of article dates written without one.",
        _timezone,
    ),
    Setting(
        "source.extensions",
        (".md", ".markdown", ".txt", ".html"),
        "File extensions read as articles (case-insensitive; the leading `.` is optional).",
        _extensions,
    ),
    Setting(
        "source.max_bytes",
        5_000_000,
        "Article files bigger than this many bytes are rejected.",
        _positive_int,
    ),
    Setting("output.dir", "public", "Directory the published tree is written to.", _directory),
    Setting(
        "websub.hub",
        "",
        'URL of a WebSub hub: feeds name it (`rel="hub"`) and it is told of every feed a '
        "build changes, so subscribers hear of new articles at once. Empty: no hub.",
        _hub,
    ),
    Setting(
        "state.dir",
        "",
        "Directory for the build status (and the catalogue); empty: `<output.dir>/.feeds`, "
        "which is never served.",
        _optional_directory,
    ),
    Setting(
        "schedule.interval",
        60,
        "Seconds between rescans of `source.dir`; file events trigger a build sooner.",
        _seconds,
    ),
    Setting(
        "schedule.watch",
        True,
        "Watch `source.dir` for file events and rebuild within a second; `false` for mounts "
        "that deliver no events (the periodic rescan still runs).",
        _flag,
    ),
    Setting(
        "schedule.settle",
        0.5,
        "Seconds a file must stay unmodified before it is read, so a file still being "
        "written is not published half-way (when the writer closes it, it is read at once).",
        _seconds,
    ),
    Setting(
        "category_feeds",
        "auto",
        "`auto`: one feed per category path node, besides the configured `feeds`; "
        "`off`: only the configured `feeds`.",
        _category_feeds,
    ),
    Setting(
        "clean.remove",
        (".appendQr_wrap", ".app-kaihu-qr", "#left_hzh_ad", ".tech-quotation", "p.article-editor"),
        "CSS selectors of cruft removed from article bodies before sanitising "
        "(the editor credit is kept as metadata).",
        _selectors,
    ),
    Setting(
        "clean.summary_length",
        150,
        "Length in characters of a summary derived from the body.",
        _positive_int,
    ),
)

FEEDS_HELP = (
    "The configured feeds, each a mapping with the `feeds[].` keys below; "
    "a feed is published as `feeds/<slug>.atom`, `.rss` and `.json`."
)

FEED_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "feeds[].slug",
        REQUIRED,
        "Name of the feed in its URLs: lower-case letters, digits and `-`, at most 80 "
        "characters, unique.",
        _slug,
    ),
    Setting("feeds[].title", REQUIRED, "Title of the feed.", _text),
    Setting("feeds[].description", "", "Description of the feed.", _string),
    Setting(
        "feeds[].categories",
        (),
        "Category path prefixes the feed takes articles from, one string or a list; "
        "`金融/新浪财经` names a deeper node. Empty: every article.",
        _category_paths,
    ),
    Setting(
        "feeds[].exclude",
        (),
        "Category path prefixes left out of the feed, written like `categories`.",
        _category_paths,
    ),
    Setting("feeds[].limit", 50, "Maximum number of entries, newest first.", _positive_int),
    Setting(
        "feeds[].authors",
        (),
        "Only articles by one of these authors (their names as written), one string or a "
        "list. Empty: any author.",
        _names,
    ),
    Setting(
        "feeds[].exclude_authors",
        (),
        "Articles by these authors are left out, written like `authors`.",
        _names,
    ),
    Setting(
        "feeds[].match",
        "",
        "A regular expression (Python syntax): only articles whose title or body text it "
        "matches somewhere, e.g. `(?i)A股|港股`. Empty: no keyword filter.",
        _pattern,
    ),
    Setting(
        "feeds[].exclude_match",
        "",
        "A regular expression: articles whose title or body text it matches are left out.",
        _pattern,
    ),
    Setting(
        "feeds[].max_bytes",
        0,
        "Largest size in bytes of each of the feed's documents; the oldest entries are left "
        "out until it fits (aggregators refuse large feeds: FeedBurner's limit was 512 KB). "
        "0: no cap.",
        _byte_cap,
    ),
)


def _yaml_inline(value: object) -> str:
    if value is REQUIRED:
        return "required"
    if isinstance(value, tuple):
        value = list(value)
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 20)
    return dumped.removesuffix("\n").removesuffix("\n...")


def settings_markdown() -> str:
    """The README's table of every setting (key, default, meaning), generated from the tables."""
    rows = [(s.name, _yaml_inline(s.default), s.help) for s in SETTINGS]
    rows.append(("feeds", "[]", FEEDS_HELP))
    rows += [(s.name, _yaml_inline(s.default), s.help) for s in FEED_SETTINGS]
    lines = ["| Key | Default | Meaning |", "| --- | --- | --- |"]
    for name, default, meaning in rows:
        shown = "*required*" if default == "required" else f"`{default}`"
        cell = meaning.replace("|", "\\|")
        lines.append(f"| `{name}` | {shown} | {cell} |")
    return "\n".join(lines) + "\n"
