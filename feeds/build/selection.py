"""Config feeds + articles -> the feeds to publish, each with its ordered entries. Pure.

Works on anything that has an id, a published time and category paths: full Articles,
or the catalogue's body-less listings when only the choice of entries is needed. Also
says which configured categories no article is under, and which paths in use come closest.
"""

from __future__ import annotations

import difflib
import heapq
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, Protocol, TypeVar

from feeds.config import Config, FeedSpec
from feeds.model import Article, CategoryPath, E, Feed, Placed, Selection
from feeds.render.i18n import translations
from feeds.text import html_text
from feeds.tree.urls import category_slug

ALL_SLUG = "all"
DEFAULT_LIMIT = 50


class Dated(Protocol):
    """What ordering entries needs to know of an article."""

    @property
    def id(self) -> str: ...
    @property
    def published(self) -> datetime: ...


D = TypeVar("D", bound=Dated)


def feed_specs(config: Config, nodes: Iterable[CategoryPath]) -> tuple[FeedSpec, ...]:
    """The configured feeds, then `all`, then one per category node in use (`nodes`, sorted)
    when `category_feeds: auto`."""
    specs = list(config.feeds)
    taken = {spec.slug for spec in specs}
    gettext = translations(config.site.language).gettext  # the subtitles are the site's words
    site = config.site.title
    if ALL_SLUG not in taken:
        specs.append(
            FeedSpec(
                slug=ALL_SLUG,
                title=site,
                description=config.site.description
                or gettext("Every article of %(site)s") % {"site": site},
                categories=(),
                exclude=(),
                limit=DEFAULT_LIMIT,
            )
        )
        taken.add(ALL_SLUG)
    if config.category_feeds:
        # A configured feed on exactly one node already is that node's feed: no twin.
        configured = {
            s.categories[0] for s in config.feeds if len(s.categories) == 1 and not s.exclude
        }
        for node in nodes:
            if node in configured:
                continue
            slug = category_slug(node)
            if slug in taken:  # a configured feed already uses this plain ASCII slug
                slug = category_slug(node, with_digest=True)
            taken.add(slug)
            specs.append(
                FeedSpec(
                    slug=slug,
                    title=" › ".join(node),
                    description=gettext("%(site)s: %(category)s")
                    % {"site": site, "category": " › ".join(node)},
                    categories=(node,),
                    exclude=(),
                    limit=DEFAULT_LIMIT,
                )
            )
    return tuple(specs)


def category_nodes(articles: Iterable[Placed]) -> list[CategoryPath]:
    """Every node of the category tree (each prefix of each path), sorted."""
    nodes: set[CategoryPath] = set()
    for categories in {article.categories for article in articles}:
        nodes |= nodes_of(categories)
    return sorted(nodes)


@lru_cache(maxsize=4096)  # asked of every article, for each feed: few distinct values
def nodes_of(categories: tuple[CategoryPath, ...]) -> frozenset[CategoryPath]:
    """Every node an article with these category paths is under: each prefix of each."""
    return frozenset(path[:depth] for path in categories for depth in range(1, len(path) + 1))


def select_feed(spec: FeedSpec, articles: Sequence[Article]) -> Feed:
    """The entries of one feed: matching articles, newest first, at most `spec.limit`."""
    chosen = select_feeds([spec], in_order(newest_first(articles)), lambda a: html_text(a.content))
    return chosen[0]


def select_feeds(
    specs: Sequence[FeedSpec],
    newest_under: Callable[[CategoryPath | None], Iterable[tuple[Any, E]]],
    text_of: Callable[[E], str] | None = None,
) -> list[Selection[E]]:
    """The entries of every feed, from its nodes' articles.

    `newest_under(node)` gives the articles under a category node (None: every article),
    newest first, each with a key that orders them so, the same for an article under
    several nodes (see in_order). An archive has tens of thousands of articles and a
    feed shows fifty: each feed reads from the front of its nodes' lists and stops at its
    limit. `text_of` gives an article's body text, for feeds that filter on it (asked
    only for the candidates).
    """
    selections = []
    for spec in specs:
        if spec.categories:
            lists = [newest_under(node) for node in spec.categories]
            candidates = _unique(heapq.merge(*lists, key=itemgetter(0)))
        else:
            candidates = iter(newest_under(None))
        chosen: list[E] = []
        for _, article in candidates:
            if len(chosen) == spec.limit:
                break
            if spec.exclude and not nodes_of(article.categories).isdisjoint(spec.exclude):
                continue
            if _passes(spec, article, text_of):
                chosen.append(article)
        selections.append(Selection(spec, tuple(chosen)))
    return selections


def in_order(ordered: Sequence[E]) -> Callable[[CategoryPath | None], Iterator[tuple[int, E]]]:
    """`select_feeds`'s view of articles given newest first, keyed by their place, with one
    index of every node."""
    under: dict[CategoryPath, list[int]] = {}  # node -> positions in `ordered`, ascending
    for position, article in enumerate(ordered):
        for node in nodes_of(article.categories):
            under.setdefault(node, []).append(position)

    def newest_under(node: CategoryPath | None) -> Iterator[tuple[int, E]]:
        positions = range(len(ordered)) if node is None else under.get(node, [])
        return ((position, ordered[position]) for position in positions)

    return newest_under


def belongs(spec: FeedSpec, article: E, text_of: Callable[[E], str] | None = None) -> bool:
    """Whether an article belongs in a feed, its limit aside: one article's answer to what
    `select_feeds` decides for all of them at once."""
    nodes = nodes_of(article.categories)
    if spec.categories and nodes.isdisjoint(spec.categories):
        return False
    if not nodes.isdisjoint(spec.exclude):
        return False
    return _passes(spec, article, text_of)


def _passes(spec: FeedSpec, article: E, text_of: Callable[[E], str] | None) -> bool:
    """The author and keyword filters of a feed."""
    if spec.authors and article.author not in spec.authors:
        return False
    if spec.exclude_authors and article.author in spec.exclude_authors:
        return False
    if not spec.filters_text:
        return True
    if text_of is None:
        raise ValueError(f"feed {spec.slug!r} filters on article text, but none was given")

    def found(pattern: str) -> bool:
        regex = _regex(pattern)
        return bool(regex.search(article.title) or regex.search(text_of(article)))

    if spec.match and not found(spec.match):
        return False
    return not (spec.exclude_match and found(spec.exclude_match))


@lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _unique(keyed: Iterable[tuple[Any, E]]) -> Iterator[tuple[Any, E]]:
    """Each article once, from lists merged in order of their keys (so duplicates are
    adjacent)."""
    last: object = object()
    for key, article in keyed:
        if key != last:
            yield key, article
            last = key


def newest_first(articles: Iterable[D]) -> list[D]:
    """Newest published first; the id breaks ties so the order never depends on the scan."""
    return sorted(articles, key=lambda a: (-a.published.timestamp(), a.id))


# --- configured categories that match nothing -------------------------------------------------

# What people write between the names of a path, or inside one ("新浪财经－国內"); after NFKC,
# which makes fullwidth forms such as "－" and "＞" plain ASCII.
_SEPARATORS = re.compile(r"[\s/\\|>›»\-—·]+")
CLOSE_ENOUGH = 0.5  # share of what was written found in order in a path: 1 name of 2 characters
SUGGESTED = 3


def unmatched_categories(config: Config, nodes: Sequence[CategoryPath]) -> list[str]:
    """A warning for each category of a configured feed that is no node in use (`nodes`,
    sorted: no article's category path starts with it, and its feed would stay empty),
    naming the closest paths in use."""
    if not any(spec.categories for spec in config.feeds):
        return []
    present = set(nodes)
    where = str(config.path) if config.path is not None else "the configuration"
    warnings = []
    for index, spec in enumerate(config.feeds):
        for category in spec.categories:
            if category in present:
                continue
            closest = closest_paths(category, nodes)
            if closest:
                hint = "closest in use: " + ", ".join(repr("/".join(p)) for p in closest)
            elif nodes:
                tops = sorted({node[0] for node in nodes})
                hint = "no category in use comes close; top-level ones: " + ", ".join(
                    repr(name) for name in tops[:5]
                )
            else:
                hint = "no article has a category yet"
            warnings.append(
                f"{where}: feeds[{index}] ({spec.slug}): category {'/'.join(category)!r} "
                f"matches no article; {hint} (write a path from the top level, names joined "
                "by '/', spelt as the articles spell them)"
            )
    return warnings


def closest_paths(
    category: CategoryPath, nodes: Sequence[CategoryPath], n: int = SUGGESTED
) -> list[CategoryPath]:
    """The category paths in `nodes` that look most like `category`, best first.

    Either side may use other separators, spaces or fullwidth forms; a variant character
    (国内 for 国內) or a level left out counts as a small difference; and `category` may
    name only the last levels of a path. Ranked by how much of `category` a path holds,
    in order, then by how little else it holds (difflib's ratio).
    """
    wanted = _normalise(" ".join(category))
    if not wanted:
        return []
    scored = []
    for node in nodes:
        # Each tail of the path, whole path included: "新浪财经－国內" is the end of
        # 金融/新浪财经/新浪财经－国內.
        best = max(
            _likeness(wanted, _normalise(" ".join(node[start:]))) for start in range(len(node))
        )
        if best[0] >= CLOSE_ENOUGH:
            scored.append((best, node))
    scored.sort(key=lambda item: (-item[0][0], -item[0][1], len(item[1]), item[1]))
    return [node for _, node in scored[:n]]


def _likeness(wanted: str, found: str) -> tuple[float, float]:
    """(share of `wanted` that `found` holds in order, difflib's ratio of the two)."""
    matcher = difflib.SequenceMatcher(None, wanted, found, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    return same / len(wanted), 2 * same / (len(wanted) + len(found))


@lru_cache(maxsize=4096)
def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SEPARATORS.sub(" ", folded).strip()
