"""What the cleaner removes from a body, compiled once.

The cruft selectors of `clean.remove`: checked once, and split into the simple
`tag.class#id` ones, matched during the cleaner's walk, and one compiled selector for
the rest (cssselect turns CSS into XPath for lxml). The image URL patterns of
`clean.drop_images`: shell globs, matched as one regular expression.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree
from lxml.cssselect import CSSSelector

from feeds.config.values import why_invalid
from feeds.errors import ConfigError

_SIMPLE = re.compile(r"([a-zA-Z][\w-]*)?((?:[.#][\w-]+)*)")


def selector_problems(remove: Sequence[str]) -> list[str]:
    """Describe every entry of `clean.remove` that is not a valid CSS selector."""
    return [
        f"clean.remove[{index}]: {selector!r} is not a valid CSS selector ({reason});"
        " correct it or delete the entry"
        for index, selector in enumerate(remove)
        if (reason := why_invalid(selector)) is not None
    ]


@dataclass(frozen=True)
class SimpleSelector:
    """A `tag.class#id` selector, matched inside the tree walk instead of by a selector engine."""

    name: str | None
    classes: frozenset[str]
    ids: frozenset[str]

    def match(self, element: etree._Element) -> bool:
        """True when `element` is what this selector names."""
        return self.matches(element.tag, (element.get("class") or "").split(), element.get("id"))

    def matches(self, tag: str, classes: list[str], id_value: str | None) -> bool:
        """match() for an element of this tag, class tokens and id, read once by the caller."""
        return (
            (self.name is None or tag == self.name)
            and (not self.ids or self.ids <= {id_value})
            and self.classes.issubset(classes)
        )


class SimpleSelectors:
    """Several simple selectors, matched as one: the walk asks for every element."""

    def __init__(self, selectors: tuple[SimpleSelector, ...]) -> None:
        self.selectors = selectors
        # Tags some selector names alone; every other selector needs a class or an id.
        self.bare = frozenset(s.name for s in selectors if s.name and not s.classes and not s.ids)
        # Each selector that needs a class filed under one of them (one that needs only ids,
        # under one of those): an element is checked against the few its tokens name.
        self._by_class: dict[str, list[SimpleSelector]] = {}
        self._by_id: dict[str, list[SimpleSelector]] = {}
        self._any_named = False  # a selector of no tag, class or id: names whatever has either
        for selector in selectors:
            if selector.classes:
                self._by_class.setdefault(min(selector.classes), []).append(selector)
            elif selector.ids:
                self._by_id.setdefault(min(selector.ids), []).append(selector)
            elif selector.name is None:
                self._any_named = True

    def match(self, element: etree._Element) -> bool:
        """True when any of the selectors names `element`."""
        if element.tag in self.bare:
            return True
        class_value, id_value = element.get("class"), element.get("id")
        # Most elements of a body carry neither attribute: no selector left can name them.
        if class_value is None and id_value is None:
            return False
        return self.match_named(element.tag, (class_value or "").split(), id_value)

    def match_named(self, tag: str, classes: list[str], id_value: str | None) -> bool:
        """match() for an element with a class or an id whose tag is not in `bare`, given
        that tag, its class tokens and its id."""
        if self._any_named:
            return True
        for token in classes:
            for selector in self._by_class.get(token, ()):
                if selector.matches(tag, classes, id_value):
                    return True
        if id_value is not None:
            for selector in self._by_id.get(id_value, ()):
                if selector.matches(tag, classes, id_value):
                    return True
        return False


@lru_cache(maxsize=16)
def compile_selectors(
    remove: tuple[str, ...],
) -> tuple[SimpleSelectors, CSSSelector | None]:
    """Split the cruft selectors into the common simple ones and one selector for the rest.

    Matching simple selectors during the walk saves a whole-tree pass per article.
    """
    problems = selector_problems(remove)
    if problems:
        raise ConfigError(problems)
    simple: list[SimpleSelector] = []
    rest: list[str] = []
    for selector in remove:
        found = _SIMPLE.fullmatch(selector.strip())
        if found is None:
            rest.append(selector)
            continue
        parts = re.findall(r"([.#])([\w-]+)", found.group(2) or "")
        simple.append(
            SimpleSelector(
                name=found.group(1).lower() if found.group(1) else None,
                classes=frozenset(value for kind, value in parts if kind == "."),
                ids=frozenset(value for kind, value in parts if kind == "#"),
            )
        )
    return SimpleSelectors(tuple(simple)), CSSSelector(", ".join(rest)) if rest else None


@lru_cache(maxsize=16)
def image_matcher(patterns: tuple[str, ...]) -> Callable[[str], object] | None:
    """A test of an absolute image URL against the `clean.drop_images` globs (fnmatch rules,
    case-sensitive, on the whole URL: `*` matches `/` too); None when there are no patterns."""
    if not patterns:
        return None
    return re.compile("|".join(fnmatch.translate(pattern) for pattern in patterns)).match
