"""The checks that turn a YAML value into a setting's value, or say why it cannot be one.

Each takes the value as YAML built it and returns the converted value or raises Invalid
with a message that says what is expected. Contains no YAML reading and no file access.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import SplitResult, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cssselect import ExpressionError, SelectorError
from lxml.cssselect import CSSSelector

from feeds.text import plain_text

# One Hexo category path, parent first: ("金融", "新浪财经", "新浪财经－国內").
CategoryPath = tuple[str, ...]
Host = tuple[str, int | None]  # lower-case name, and the port when one was written

MIN_KEY_LENGTH = 32  # characters of an image proxy key
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def parse_host(text: str) -> Host | None:
    """('n.sinaimg.cn', None) for 'n.sinaimg.cn', ('127.0.0.1', 8123) for '127.0.0.1:8123';
    None when `text` is not a lower-case host name or address with an optional port."""
    try:
        parts = urlsplit("//" + text)
        name, port = parts.hostname, parts.port
    except ValueError:  # a bad port, an unclosed bracket
        return None
    if not name or port == 0:
        return None
    if ":" in name:  # IPv6, written in brackets
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
        shown = f"[{name}]"
    elif all(_LABEL.fullmatch(label) for label in name.split(".")):
        shown = name
    else:
        return None
    # Anything urlsplit let pass besides the host and port (a path, user info, "host:").
    return (name, port) if text == (shown if port is None else f"{shown}:{port}") else None


def why_invalid(selector: str) -> str | None:
    """Why `selector` is not a CSS selector the cleaner can use, or None when it is."""
    try:
        CSSSelector(selector)
    except (SelectorError, ExpressionError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


class Invalid(Exception):
    """Why a value was rejected: (list index or None, message) pairs, every one reported."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.found: list[tuple[int | None, str]] = [(index, message)]


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


def each(value: object, convert: Callable[[object], _T]) -> list[_T]:
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


def string(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string, not {describe(value)}")
    return value


def nonempty_text(value: object) -> str:
    text = string(value).strip()
    if not text:
        raise Invalid("must not be empty")
    return text


_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def language(value: object) -> str:
    text = nonempty_text(value)
    if not _LANGUAGE.fullmatch(text):
        raise Invalid(f"must be a language tag such as 'zh-CN' or 'en', not {text!r}")
    return text


def _web_url(text: str) -> SplitResult | None:
    """The parts of an absolute http(s) URL, or None when `text` is not one."""
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    return parts if parts.scheme in ("http", "https") and host else None


def base_url(value: object) -> str:
    text = nonempty_text(value)
    parts = _web_url(text)
    if parts is None:
        raise Invalid(
            f"must be an absolute http(s) URL such as 'https://example.org/', not {text!r}"
        )
    if parts.query or parts.fragment:
        raise Invalid(f"must not have a query or fragment: {text!r}")
    # Feed, entry and page URLs are joined onto it, so it must name a directory.
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def hub(value: object) -> str:
    if value in ("", None):
        return ""
    text = nonempty_text(value)
    if _web_url(text) is None:
        raise Invalid(f"must be an http(s) URL of a WebSub hub, or empty, not {text!r}")
    return text


def timezone(value: object) -> ZoneInfo:
    name = nonempty_text(value)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        known = {zone.lower(): zone for zone in available_timezones()}
        close = difflib.get_close_matches(name.lower(), known, n=1)
        hint = f"; did you mean {known[close[0]]!r}?" if close else ""
        raise Invalid(
            f"must be an IANA time zone such as 'Asia/Shanghai' or 'UTC', not {name!r}{hint}"
        ) from None


def extension(value: object) -> str:
    text = nonempty_text(value).lower()
    extension = text if text.startswith(".") else "." + text
    if extension == "." or re.search(r"[\s/\\]", extension):
        raise Invalid(f"must be a file extension such as '.md', not {text!r}")
    return extension


def extensions(value: object) -> tuple[str, ...]:
    extensions = tuple(dict.fromkeys(each(value, extension)))
    if not extensions:
        raise Invalid("must list at least one file extension, such as [.md, .txt]")
    return extensions


def positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("must be a positive integer")
    return value


def byte_cap(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid("must be a number of bytes, or 0 for no cap")
    if 0 < value < 4096:
        raise Invalid("must be at least 4096 bytes (a feed's header alone takes about 1 KB)")
    return value


def pattern(value: object) -> str:
    pattern = string(value)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise Invalid(
            f"must be a regular expression; {pattern!r} is not one ({exc}); fix or remove it"
        ) from None
    return pattern


def names(value: object) -> tuple[str, ...]:
    return tuple(each(value, nonempty_text))


def seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid("must be a positive number of seconds")
    if not (math.isfinite(value) and value > 0):
        raise Invalid("must be a positive number of seconds")
    return float(value)


def directory(value: object) -> Path:
    try:
        return Path(nonempty_text(value)).expanduser()
    except RuntimeError:  # "~" with no home directory to expand it to
        raise Invalid(
            "starts with '~' but there is no home directory; write the full path"
        ) from None


def optional_directory(value: object) -> Path | None:
    return None if value in ("", None) else directory(value)


def flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise Invalid(f"must be true or false, not {describe(value)}")


def image_host(value: object) -> str:
    host = nonempty_text(value).lower()
    if parse_host(host) is None:
        raise Invalid(
            f"must be a host name such as 'n.sinaimg.cn', or 'host:port' when the port is "
            f"not the scheme's default ('127.0.0.1:8123'), not {host!r}"
        )
    return host


def image_hosts(value: object) -> tuple[str, ...]:
    return tuple(dict.fromkeys(each(value, image_host)))


def image_key(value: object) -> str:
    key = string(value)
    if key and len(key) < MIN_KEY_LENGTH:
        raise Invalid(
            f"must be empty (a key is made and kept in state.dir) or at least "
            f"{MIN_KEY_LENGTH} characters, such as the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
    return key


def updated_from(value: object) -> str:
    if value in ("date", "mtime"):
        return str(value)
    raise Invalid(f"must be 'date' or 'mtime', not {describe(value)}")


def category_feeds(value: object) -> bool:
    # YAML 1.1 reads a bare `off` as false, so the booleans are accepted too.
    if value is True or value == "auto":
        return True
    if value is False or value == "off":
        return False
    raise Invalid(f"must be 'auto' or 'off', not {describe(value)}")


def selector(value: object) -> str:
    selector = nonempty_text(value)
    reason = why_invalid(selector)
    if reason is not None:
        raise Invalid(
            f"must be a CSS selector; {selector!r} is not one ({reason}); fix or remove it"
        )
    return selector


def selectors(value: object) -> tuple[str, ...]:
    return tuple(each(value, selector))


def image_pattern(value: object) -> str:
    pattern = nonempty_text(value)
    # A glob is matched against the whole URL: "343233024.png" alone would match nothing.
    if not pattern.startswith(("*", "?", "[", "http://", "https://")):
        raise Invalid(
            "must be a glob of the whole image URL, starting with 'http' or a wildcard, such "
            f"as '*://n.sinaimg.cn/finance/cece9e13/*' or '*/qr.png', not {pattern!r}"
        )
    return pattern


def image_patterns(value: object) -> tuple[str, ...]:
    return tuple(dict.fromkeys(each(value, image_pattern)))


_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")


def slug(value: object) -> str:
    slug = string(value)
    if not _SLUG.fullmatch(slug):
        raise Invalid(
            f"must be lower-case letters, digits and '-', starting with a letter or digit, "
            f"at most 80 characters (it names the feed's URL), not {slug!r}"
        )
    return slug


def category_path(value: object) -> CategoryPath:
    if isinstance(value, str):
        segments: list[str] = value.split("/")
    elif isinstance(value, list):
        segments = [string(segment) for segment in value]
    else:
        raise Invalid(f"must be a category path such as '金融/新浪财经', not {describe(value)}")
    # Article category names are normalised the same way, so the two compare equal.
    path = tuple(plain_text(segment) for segment in segments)
    if not path or "" in path:
        raise Invalid(
            f"must be a category path such as '金融/新浪财经' with no empty segment, not {value!r}"
        )
    return path


def category_paths(value: object) -> tuple[CategoryPath, ...]:
    return tuple(dict.fromkeys(each(value, category_path)))
