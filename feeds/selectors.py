"""The cruft selectors of `clean.remove`: checked once, and split into the simple
`tag.class#id` ones, matched during the cleaner's walk, and one compiled selector for
the rest (cssselect turns CSS into XPath for lxml)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cssselect import ExpressionError, SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from feeds.errors import ConfigError

_SIMPLE = re.compile(r"([a-zA-Z][\w-]*)?((?:[.#][\w-]+)*)")


def why_invalid(selector: str) -> str | None:
    """Why `selector` is not a CSS selector the cleaner can use, or None when it is."""
    try:
        CSSSelector(selector)
    except (SelectorError, ExpressionError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


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
        return (
            (self.name is None or element.tag == self.name)
            and (not self.ids or self.ids <= {element.get("id")})
            and self.classes.issubset((element.get("class") or "").split())
        )


class SimpleSelectors:
    """Several simple selectors, matched as one: the walk asks for every element."""

    def __init__(self, selectors: tuple[SimpleSelector, ...]) -> None:
        self.selectors = selectors
        # Tags some selector names alone; every other selector needs a class or an id.
        self._bare = frozenset(s.name for s in selectors if s.name and not s.classes and not s.ids)

    def match(self, element: etree._Element) -> bool:
        """True when any of the selectors names `element`."""
        if element.tag in self._bare:
            return True
        # Most elements of a body carry neither attribute: no selector left can name them.
        if element.get("class") is None and element.get("id") is None:
            return False
        return any(selector.match(element) for selector in self.selectors)


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
