"""Front matter: split it from the body at its fences and load it as YAML or TOML, safely.

Keeps each top-level key's line for messages. Pure: takes decoded text, reads no files.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import cast

import yaml

from feeds.errors import ArticleError

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

MAX_FRONT_MATTER = 64 * 1024
# Characters YAML refuses in a stream; a scraped title may carry them and they would be
# dropped as XML-illegal anyway, so they are removed instead of failing the article.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_YAML_CORE = "tag:yaml.org,2002:"
_MAY_HIDE = re.compile("[&*!]")
_SAFE_TAGS = {None, "!"} | {
    _YAML_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
}
_TOO_DEEP = "front matter is nested too deeply: front matter holds text, numbers, dates and lists"
_TOML_POSITION = re.compile(r"at line (\d+), column (\d+)")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
_FENCE_HELP = (
    "the file must start with '---', then YAML keys such as 'title:' and 'date:', then '---' "
    "(or TOML between '+++' lines)"
)


# Plain scalars whose tags are remembered, at most: the keys, category names, authors and
# booleans that front matters repeat (dates and titles are new each time).
_TAGS_KEPT = 4096
_plain_tags: dict[str, str] = {}
_SCALAR = yaml.ScalarNode


class _Loader(_SafeLoader):
    """The safe loader, resolving the tag of each plain scalar once per text.

    libyaml asks the loader's resolver, in Python, for every scalar's tag; the resolver tries
    the regular expressions that start with the scalar's first character. With no path
    resolver (the safe loader has none), a plain scalar's tag depends on its text alone, and
    any other scalar (quoted, or tagged '!') is text.
    """

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is not _SCALAR or self.yaml_path_resolvers:
            return cast(str, super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
        if not implicit[0]:
            return self.DEFAULT_SCALAR_TAG
        tag = _plain_tags.get(value)
        if tag is None:
            if len(_plain_tags) >= _TAGS_KEPT:
                _plain_tags.clear()
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            _plain_tags[value] = tag
        return tag


@dataclass
class FrontMatter:
    """An article's front matter as loaded, with where each key and the body start."""

    data: dict[str, object]
    lines: dict[str, int]  # top-level key -> its line in the file
    raw: dict[str, str] = field(default_factory=dict)  # YAML scalar text, before typing
    body: str = ""
    body_line: int = 1
    fence_line: int = 1  # the opening fence's: where a missing key goes


def _split(text: str, source: str) -> tuple[str, str, int, str, int]:
    """Text -> (fence, front matter, its first line, body, body line)."""
    # Only the text up to the closing fence is looked at: a body is long.
    start = len(text) - len(text.lstrip())
    start = text.rfind("\n", 0, start) + 1  # the start of the first non-blank line
    skipped = text.count("\n", 0, start)
    end_of_line = text.find("\n", start)
    fence = (text[start:] if end_of_line < 0 else text[start:end_of_line]).strip()
    if fence not in ("---", "+++"):
        raise ArticleError(source, f"no front matter: {_FENCE_HELP}", 1)
    front_start = end_of_line + 1 if end_of_line >= 0 else len(text)
    closing = _closing_line(text, fence, front_start)
    front = text[front_start : len(text) if closing < 0 else closing]
    # What the front matter is in UTF-8, counting a line end after its last line.
    size = len(front) if front.isascii() else len(front.encode("utf-8", "replace"))
    if size + (closing < 0 and not text.endswith("\n")) > MAX_FRONT_MATTER:
        raise ArticleError(
            source, "front matter is larger than 64 KB: move long text into the body", skipped + 1
        )
    if closing < 0:
        raise ArticleError(
            source,
            f"front matter opened with '{fence}' is never closed: "
            f"add a line with only '{fence}' after the last key",
            skipped + 1,
        )
    lines_seen = front.count("\n")
    front = front.removesuffix("\n")
    next_line = text.find("\n", closing)
    body_start = len(text) if next_line < 0 else next_line + 1
    first = skipped + 2
    return fence, front, first, text[body_start:], first + lines_seen + 1


def _closing_line(text: str, fence: str, front_start: int) -> int:
    """Where the first line from `front_start` on that is `fence` (and spaces) starts; -1 if none.

    Found with str.find, not line by line: most front matters are a dozen lines, and the
    candidates few. `front_start` is where a line starts.
    """
    at = front_start - 1  # the line end before it, or -1 at the start of the text
    while True:
        at = text.find(fence, at + 1)
        if at < 0:
            return -1
        if at == front_start or (at > front_start and text[at - 1] == "\n"):
            end = text.find("\n", at)
            if text[at : len(text) if end < 0 else end].rstrip() == fence:
                return at


def parse_front_matter(text: str, source: str) -> FrontMatter:
    """Split decoded text into front matter and body; raise ArticleError saying how to fix it."""
    # CRLF and lone CR count as one line end each, as YAML counts them.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.lstrip("\ufeff")
    fence, front, first, body, body_line = _split(text, source)
    if fence == "+++":
        fm = _load_toml(front, first, source)
    else:
        fm = _load_yaml(_UNPRINTABLE.sub("", front), first, source)
    fm.body, fm.body_line, fm.fence_line = body, body_line, first - 1
    return fm


def _load_toml(front: str, first: int, source: str) -> FrontMatter:
    try:
        data = tomllib.loads(front)
    except RecursionError:
        raise ArticleError(source, _TOO_DEEP, first) from None
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_POSITION.search(str(exc))
        line = first + int(found.group(1)) - 1 if found else first
        reason = _TOML_POSITION.sub("", str(exc)).strip().rstrip("()").strip()
        raise ArticleError(
            source, f"front matter is not valid TOML: {reason}: quote text values", line
        ) from None
    lines: dict[str, int] = {}
    for i, text in enumerate(front.split("\n")):
        if text.lstrip().startswith("["):
            break  # keys after a table header belong to that table
        key = _TOML_KEY.match(text)
        if key:
            lines.setdefault(key.group(1), first + i)
    return FrontMatter(data=dict(data), lines=lines)


def _load_yaml(front: str, first: int, source: str) -> FrontMatter:
    try:
        # A first pass over the events sees anchors and tags before anything is built, so an
        # alias bomb is refused in linear time and no tag ever reaches a constructor. Text
        # without '&', '*' and '!' can hold no anchor, alias or tag: it needs no such pass.
        if _MAY_HIDE.search(front):
            for event in yaml.parse(front, Loader=_Loader):
                _check_event(event, first, source)
        loader = _Loader(front)
        try:
            node = loader.get_single_node()
            data = _construct(loader, node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, first, source) from None
    except yaml.YAMLError as exc:
        raise ArticleError(source, f"front matter is not valid YAML: {exc}", first) from None
    except RecursionError:  # the pure-Python loader, without libyaml's depth limit
        raise ArticleError(source, _TOO_DEEP, first) from None
    if node is None:
        return FrontMatter(data={}, lines={})  # empty: the missing title is reported next
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        kind = "a list" if isinstance(data, list) else "plain text"
        raise ArticleError(source, f"front matter is {kind}, not keys: {_FENCE_HELP}", first)
    lines: dict[str, int] = {}
    raw: dict[str, str] = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            lines.setdefault(key.value, first + key.start_mark.line)
            if isinstance(value, yaml.ScalarNode):
                raw.setdefault(key.value, value.value)
    return FrontMatter(data={str(k): v for k, v in data.items()}, lines=lines, raw=raw)


_STR, _SEQ, _MAP = (_YAML_CORE + kind for kind in ("str", "seq", "map"))


def _construct(loader: _Loader, node: yaml.Node) -> object:
    """What `loader.construct_document(node)` gives, built directly where the front matter
    has the usual shape: text keys whose values are text or lists of text. Any other value
    (a number, a date, a nested mapping) is left to the loader's own constructors, and any
    other document to the loader entirely. PyYAML's constructors are Python code, and they
    took a third of the loading time of a typical front matter."""
    if not (
        type(node) is yaml.MappingNode
        and node.tag == _MAP
        and all(type(key) is yaml.ScalarNode and key.tag == _STR for key, _ in node.value)
    ):
        return loader.construct_document(node)
    return {key.value: _value(loader, value) for key, value in node.value}


def _value(loader: _Loader, node: yaml.Node) -> object:
    if type(node) is yaml.ScalarNode and node.tag == _STR:
        return node.value
    if (
        type(node) is yaml.SequenceNode
        and node.tag == _SEQ
        and all(type(item) is yaml.ScalarNode and item.tag == _STR for item in node.value)
    ):
        return [item.value for item in node.value]
    return loader.construct_object(node, deep=True)


def _check_event(event: yaml.Event, first: int, source: str) -> None:
    line = first + event.start_mark.line if event.start_mark is not None else first
    if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
        raise ArticleError(
            source,
            "front matter uses a YAML anchor or alias ('&name' / '*name'): write the value "
            "out in full, or quote it if '&' or '*' is part of the text",
            line,
        )
    tag = getattr(event, "tag", None)
    implicit = getattr(event, "implicit", False)
    if tag not in _SAFE_TAGS and not (implicit is True or implicit == (True, True)):
        shown = str(tag).replace(_YAML_CORE, "!!")
        raise ArticleError(
            source,
            f"front matter uses the YAML tag '{shown}', which is not allowed: remove the tag "
            "(front matter holds plain text, numbers, dates and lists)",
            line,
        )


# What libyaml was reading when it failed, for the errors found only lines later: a list,
# mapping or quote left open. The line it began on is where the fix goes.
_UNCLOSED = {
    "while parsing a flow sequence": ("a [ list", "close it with ']', or quote the value"),
    "while parsing a flow mapping": ("a { mapping", "close it with '}', or quote the value"),
    "while scanning a quoted scalar": ("a quoted value", "close the quote"),
}


def _yaml_error(exc: yaml.MarkedYAMLError, first: int, source: str) -> ArticleError:
    """The error to report: at the line to fix, with how to fix it."""
    mark = exc.problem_mark or exc.context_mark
    line = first + mark.line if mark is not None else first
    unclosed = _UNCLOSED.get(exc.context or "")
    if unclosed is not None and exc.context_mark is not None and mark is not None:
        begun = first + exc.context_mark.line
        if begun != line:
            what, fix = unclosed
            return ArticleError(
                source,
                f"front matter is not valid YAML: {what} begun on this line is not closed "
                f"({exc.problem} on line {line}): {fix}",
                begun,
            )
    problem = exc.problem or exc.context
    return ArticleError(
        source, f"front matter is not valid YAML: {problem}: {_yaml_fix(exc)}", line
    )


def _yaml_fix(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or ""
    if "mapping values are not allowed" in problem:
        return "a value contains ': '; quote the value, e.g. title: '原标题: 新闻'"
    if "'\\t'" in problem:
        return "indent with spaces, not tabs"
    return (
        "check the indentation, and quote values that contain ': ' or ' #' or that start "
        "with one of [ ] { } > | * & ! % @ `"
    )
