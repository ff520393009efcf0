"""YAML -> a frozen, typed Config. Every problem is reported at once, with key path and line.

The settings themselves (defaults, help, checks) are declared in feeds.config.settings.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from feeds.config import values as v
from feeds.config.sections import (
    CleanConfig,
    Config,
    FeedSpec,
    ImagesConfig,
    OutputConfig,
    ScheduleConfig,
    SiteConfig,
    SourceConfig,
    StateConfig,
    WebSubConfig,
)
from feeds.config.settings import (
    FEED_SETTINGS,
    REQUIRED,
    SETTINGS,
    Invalid,
    Setting,
    describe,
)
from feeds.errors import ConfigError

_FEED_PREFIX = "feeds[]."
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_BAD = object()  # a value already reported as a problem
# Tags SafeLoader constructs; any other tag (!!python/object, ...) is reported, never constructed.
_PLAIN_TAGS = frozenset(tag for tag in yaml.SafeLoader.yaml_constructors if tag)


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _tag_message(tag: str) -> str:
    return (
        f"the YAML tag {_short(tag)} is not allowed; remove it "
        "(only plain strings, numbers, lists and mappings are)"
    )


def _kind(node: Node) -> str:
    if node.tag in (_SEQ, _MAP):
        return "a list" if node.tag == _SEQ else "a mapping"
    if isinstance(node, ScalarNode):
        return "empty (null)" if node.tag == _NULL else f"the value {node.value!r}"
    return f"a {_short(node.tag)}"  # !!set, !!omap, !!pairs


def _sections() -> dict[str, dict[str, Setting]]:
    """SETTINGS grouped by their first name segment; a top-level setting is its own group."""
    sections: dict[str, dict[str, Setting]] = {}
    for setting in SETTINGS:
        head, _, tail = setting.name.partition(".")
        sections.setdefault(head, {})[tail] = setting
    return sections


class _Reader:
    """Walks the composed YAML nodes, converting values and collecting every problem."""

    def __init__(self, loader: yaml.SafeLoader, where: str) -> None:
        self.loader = loader
        self.where = where
        self.problems: list[tuple[int, str]] = []

    def report(self, key: str, message: str, node: Node) -> None:
        line = node.start_mark.line + 1
        self.problems.append((line, f"{key}: {message} ({self.where}:{line})"))

    def entries(
        self, node: Node | None, key: str, known: Iterable[str], *, null_ok: bool = True
    ) -> dict[str, Node] | None:
        """A mapping's value nodes by key; reports a non-mapping, unknown and duplicate keys."""
        known = list(known)
        if node is None or (null_ok and node.tag == _NULL):
            return {}
        if node.tag not in _PLAIN_TAGS:
            self.report(key or "top level", _tag_message(node.tag), node)
            return None
        if not isinstance(node, MappingNode) or node.tag != _MAP:
            self.report(
                key or "top level",
                f"must be a mapping with keys such as {', '.join(known)}, not {_kind(node)}",
                node,
            )
            return None
        own = {id(key_node) for key_node, _ in node.value if key_node.tag != _MERGE}
        try:
            self.loader.flatten_mapping(node)  # `<<` merge keys; own keys then override
        except yaml.constructor.ConstructorError as exc:
            self.report(key or "top level", f"{exc.problem}; fix the `<<` merge key", node)
            return None
        found: dict[str, Node] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = self.value(key, key_node)
            if name is _BAD:
                continue
            if not isinstance(name, str):
                self.report(
                    key or "top level",
                    f"has a key that is not a string, but {describe(name).partition(';')[0]}",
                    key_node,
                )
                continue
            child = f"{key}.{name}" if key else name
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"expected one of {', '.join(known)}"
                )
                if not key and name in {setting.name for setting in SETTINGS}:
                    head, _, tail = name.partition(".")
                    hint = f"write it nested: '{head}:' with '{tail}:' indented below it"
                self.report(child, f"unknown key; {hint}", key_node)
            elif id(key_node) in own and name in lines:
                self.report(child, f"is set twice (also on line {lines[name]}); keep one", key_node)
            if id(key_node) in own:
                lines[name] = key_node.start_mark.line + 1
            found[name] = value_node
        return found

    def value(self, key: str, node: Node) -> object:
        """The plain value of a node, or _BAD after reporting a tag that is not plain data."""
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            line = (exc.problem_mark or node.start_mark).line + 1
            tag = re.search(r"for the tag '([^']*)'", exc.problem or "")
            message = _tag_message(tag[1]) if tag else f"{exc.problem}; fix the value"
            self.problems.append((line, f"{key or 'top level'}: {message} ({self.where}:{line})"))
            return _BAD
        except (ValueError, TypeError) as exc:  # e.g. `!!int x`: SafeConstructor lets these out
            self.report(key or "top level", f"does not match its YAML tag ({exc}); fix it", node)
            return _BAD

    def setting(self, setting: Setting, key: str, node: Node | None) -> object:
        """The converted value of one setting: its default when absent, _BAD when reported."""
        if node is None:
            return setting.check(setting.default)
        raw = self.value(key, node)
        if raw is _BAD:
            return _BAD
        try:
            return setting.check(raw)
        except Invalid as exc:
            for index, message in exc.found:
                if index is not None and isinstance(node, SequenceNode):
                    self.report(f"{key}[{index}]", message, node.value[index])
                else:
                    self.report(key, message, node)
            return _BAD

    def feeds(self, node: Node | None) -> list[FeedSpec]:
        """The configured feeds; reports every problem in every feed, and duplicate slugs."""
        if node is None or node.tag == _NULL:
            return []
        if not isinstance(node, SequenceNode) or node.tag != _SEQ:
            message = (
                _tag_message(node.tag)
                if node.tag not in _PLAIN_TAGS
                else f"must be a list of mappings with slug and title, not {_kind(node)}"
            )
            self.report("feeds", message, node)
            return []
        known = [setting.name.removeprefix(_FEED_PREFIX) for setting in FEED_SETTINGS]
        specs: list[FeedSpec] = []
        slugs: dict[str, tuple[str, int]] = {}
        for index, item in enumerate(node.value):
            key = f"feeds[{index}]"
            entries = self.entries(item, key, known, null_ok=False)
            if entries is None:
                continue
            values: dict[str, Any] = {}
            for setting, name in zip(FEED_SETTINGS, known, strict=True):
                found = entries.get(name)
                if found is None and setting.default is REQUIRED:
                    self.report(f"{key}.{name}", f"is missing; every feed needs a {name}", item)
                    values[name] = _BAD
                else:
                    values[name] = self.setting(setting, f"{key}.{name}", found)
            slug = values["slug"]
            if isinstance(slug, str):
                line = entries["slug"].start_mark.line + 1
                if slug in slugs:
                    other, other_line = slugs[slug]
                    self.report(
                        f"{key}.slug",
                        f"{slug!r} is already used by {other} (line {other_line}); "
                        "slugs must be unique",
                        entries["slug"],
                    )
                else:
                    slugs[slug] = (key, line)
            if _BAD not in values.values():
                specs.append(FeedSpec(**values))
        return specs

    def config(self, root: Node | None, path: Path | None, base_dir: Path) -> Config:
        """The whole Config, or ConfigError listing every problem in file order."""
        sections = _sections()
        top = self.entries(root, "", [*sections, "feeds"]) or {}
        values: dict[str, Any] = {}
        for head, section in sections.items():
            if "" in section:  # a top-level setting such as category_feeds
                values[head] = self.setting(section[""], head, top.get(head))
                continue
            entries = self.entries(top.get(head), head, section) or {}
            for tail, setting in section.items():
                values[setting.name] = self.setting(setting, setting.name, entries.get(tail))
        feeds = self.feeds(top.get("feeds"))
        if self.problems:
            ordered = sorted(dict.fromkeys(self.problems), key=lambda problem: problem[0])
            raise ConfigError([message for _, message in ordered])
        # `base_dir / p` keeps an absolute p as it is.
        values = {k: base_dir / v if isinstance(v, Path) else v for k, v in values.items()}
        if values["state.dir"] is None:
            values["state.dir"] = values["output.dir"] / ".feeds"

        def pick(head: str) -> dict[str, Any]:
            return {k.partition(".")[2]: v for k, v in values.items() if k.startswith(head + ".")}

        return Config(
            site=SiteConfig(**pick("site")),
            source=SourceConfig(**pick("source")),
            output=OutputConfig(**pick("output")),
            websub=WebSubConfig(**pick("websub")),
            state=StateConfig(**pick("state")),
            schedule=ScheduleConfig(**pick("schedule")),
            clean=CleanConfig(**pick("clean")),
            category_feeds=values["category_feeds"],
            feeds=tuple(feeds),
            path=path,
            archives=values["archives"],
            images=ImagesConfig(**pick("images")),
        )


def _syntax_problem(exc: yaml.MarkedYAMLError, where: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    what = f"{exc.context}, {exc.problem}" if exc.context else str(exc.problem)
    if mark:
        what += f" at column {mark.column + 1}"
    if exc.context_mark and mark and exc.context_mark.line != mark.line:
        what += f" (the construct starts on line {exc.context_mark.line + 1})"
    return (
        f"YAML syntax error: {what}; check the indentation, and quote values "
        f"that contain ': ' or ' #' ({where}:{line})"
    )


def parse_config(text: str, path: Path | None = None, *, base_dir: Path | None = None) -> Config:
    """Validate YAML text into a Config; relative directories resolve against base_dir (or cwd)."""
    where = str(path) if path is not None else "<config>"
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError(
            [
                f"YAML syntax error: {exc.reason} #x{exc.character:04x}; "
                f"delete that character ({where}:{line})"
            ]
        ) from None
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise ConfigError([_syntax_problem(exc, where)]) from None
        return _Reader(loader, where).config(root, path, base_dir or Path.cwd())
    finally:
        loader.dispose()


def load_config(path: Path, *, base_dir: Path | None = None) -> Config:
    """Read and validate the config file at path."""
    how = "pass -c PATH or set FEEDS_CONFIG to use another file"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{path}: config file not found; create it, or {how}"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory, not a config file; {how}"]) from None
    except OSError as exc:
        raise ConfigError(
            [f"{path}: cannot read the config file ({exc.strerror}); {how}"]
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [
                f"config file: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                f"save it as UTF-8 ({path}:{line})"
            ]
        ) from None
    return with_environment(parse_config(text, path, base_dir=base_dir))


BASE_URL_ENV = "FEEDS_BASE_URL"


def key_location(path: Path, key: str) -> str:
    """Where a file sets a dotted key (`site.language`), as `path:line`, for a message about
    its value; `path` alone when the file does not say."""
    try:
        node: Node | None = yaml.compose(path.read_text("utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeError, yaml.YAMLError):
        return str(path)
    for name in key.split("."):
        if not isinstance(node, MappingNode):
            return str(path)
        node = next((value for k, value in node.value if k.value == name), None)
    return f"{path}:{node.start_mark.line + 1}" if node is not None else str(path)


def with_environment(config: Config) -> Config:
    """The config with what the environment overrides: FEEDS_BASE_URL for `site.base_url`,
    so that one container image serves any host."""
    url = os.environ.get(BASE_URL_ENV, "")
    if not url:
        return config
    try:
        base_url = v.base_url(url)
    except Invalid as exc:
        raise ConfigError(
            [f"{BASE_URL_ENV} (environment): {exc}; fix it, or unset it to use site.base_url"]
        ) from None
    return replace(config, site=replace(config.site, base_url=base_url))
