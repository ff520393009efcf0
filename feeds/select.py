"""Config feeds + articles -> the feeds to publish, each with its ordered entries. Pure.

Works on anything that has an id, a published time and category paths: full Articles,
or the catalogue's body-less summaries when only the choice of entries is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from feeds.config import Config, FeedSpec
from feeds.model import Article, CategoryPath
from feeds.urls import category_slug

ALL_SLUG = "all"
DEFAULT_LIMIT = 50


class Placed(Protocol):
    """What choosing and ordering entries needs to know of an article."""

    @property
    def id(self) -> str: ...
    @property
    def published(self) -> datetime: ...
    @property
    def categories(self) -> tuple[CategoryPath, ...]: ...


E = TypeVar("E", bound=Placed)


@dataclass(frozen=True)
class Selection(Generic[E]):
    """One feed to publish: what it is and the entries it holds, newest first."""

    spec: FeedSpec
    entries: tuple[E, ...]


Feed = Selection[Article]


def feed_specs(config: Config, articles: Iterable[Placed]) -> tuple[FeedSpec, ...]:
    """The configured feeds, then `all`, then one per category node when `category_feeds: auto`."""
    specs = list(config.feeds)
    taken = {spec.slug for spec in specs}
    if ALL_SLUG not in taken:
        specs.append(
            FeedSpec(
                slug=ALL_SLUG,
                title=config.site.title,
                description=config.site.description or f"Every article of {config.site.title}",
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
        for node in category_nodes(articles):
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
                    description=f"{config.site.title}: {' › '.join(node)}",
                    categories=(node,),
                    exclude=(),
                    limit=DEFAULT_LIMIT,
                )
            )
    return tuple(specs)


def category_nodes(articles: Iterable[Placed]) -> list[CategoryPath]:
    """Every node of the category tree (each prefix of each path), sorted."""
    nodes: set[CategoryPath] = set()
    for article in articles:
        for path in article.categories:
            nodes.update(path[:depth] for depth in range(1, len(path) + 1))
    return sorted(nodes)


def select_feed(spec: FeedSpec, articles: Sequence[E]) -> Selection[E]:
    """The entries of one feed: matching articles, newest first, at most `spec.limit`."""
    chosen = [
        a
        for a in articles
        if (not spec.categories or _under_any(a.categories, spec.categories))
        and not _under_any(a.categories, spec.exclude)
    ]
    return Selection(spec, tuple(newest_first(chosen)[: spec.limit]))


def newest_first(articles: Iterable[E]) -> list[E]:
    """Newest published first; the id breaks ties so the order never depends on the scan."""
    return sorted(articles, key=lambda a: (-a.published.timestamp(), a.id))


def _under_any(paths: Sequence[CategoryPath], prefixes: Sequence[CategoryPath]) -> bool:
    return any(path[: len(prefix)] == prefix for path in paths for prefix in prefixes)
