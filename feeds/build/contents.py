"""What the site holds this build, as the catalogue has it: one article per id, each feed's
entries, and the time of the site. Reads the catalogue, writes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from feeds.build.selection import category_nodes, feed_specs, select_feeds, unmatched_categories
from feeds.catalogue.records import FeedOrder, Listing, feed_order
from feeds.catalogue.store import Catalogue
from feeds.config import Config
from feeds.model import CategoryPath, Selection


@dataclass(frozen=True)
class SiteContents:
    """The articles and feeds this build publishes."""

    duplicates: Sequence[tuple[Listing, str]]  # the files whose id another one has, and why
    selections: Sequence[Selection[Listing]]  # every feed, in publishing order
    unmatched: tuple[str, ...]  # warnings about configured categories no article is under
    newest: datetime  # the time of the site (see site_time)
    empty_since: int | None  # to keep for the next build (see LastBuild.empty_since)
    read_listings: Callable[[], list[Listing]] = field(repr=False, compare=False)

    @cached_property
    def listings(self) -> list[Listing]:
        """Every article, one per id, newest first: read whole only where every article
        counts (archives)."""
        return self.read_listings()

    @cached_property
    def by_slug(self) -> dict[str, Selection[Listing]]:
        """Every feed by slug."""
        return {s.spec.slug: s for s in self.selections}

    @cached_property
    def by_id(self) -> dict[str, Listing]:
        """Every article by id (archives look articles up by id)."""
        return {s.id: s for s in self.listings}


def site_contents(config: Config, catalogue: Catalogue, empty_since: int | None) -> SiteContents:
    """The contents of the site; `empty_since` as the last build kept it. Reads what the
    feeds show and the articles that share an id, not every article."""
    _, duplicates = winners(catalogue.sharing_ids())
    lost = frozenset(listing.source for listing, _ in duplicates)
    newest, empty_since = site_time(catalogue.newest_update(lost), empty_since)
    nodes = _nodes_in_use(catalogue, lost, [listing for listing, _ in duplicates])

    def newest_under(node: CategoryPath | None) -> Iterator[tuple[FeedOrder, Listing]]:
        listings = catalogue.newest_under(node)
        return ((feed_order(s), s) for s in listings if s.source not in lost)

    def read_listings() -> list[Listing]:
        return [s for s in catalogue.listings() if s.source not in lost]

    selections = select_feeds(feed_specs(config, nodes), newest_under, catalogue.body_text)
    unmatched = tuple(unmatched_categories(config, nodes))
    return SiteContents(duplicates, selections, unmatched, newest, empty_since, read_listings)


def _nodes_in_use(
    catalogue: Catalogue, lost: frozenset[str], losers: Sequence[Listing]
) -> list[CategoryPath]:
    """Every node of the category tree an article is under, but the articles `lost` (whose
    id another one has): a node only they are under is none of the site's."""
    nodes = catalogue.category_nodes()
    if not lost:
        return nodes
    doubtful = set(category_nodes(losers))
    return [
        node
        for node in nodes
        if node not in doubtful or any(s.source not in lost for s in catalogue.newest_under(node))
    ]


def site_time(newest: float | None, empty_since: int | None) -> tuple[datetime, int | None]:
    """The time of the site: its newest entry's (`newest`, the latest `updated` of its
    articles), which also dates a feed with no entry yet; and the `empty_since` to keep.
    With no article at all, the time the site was first published so, kept: the feeds'
    bytes (and Last-Modified) must not change from build to build. Once there are
    articles it is forgotten: the next empty site gets a time of its own.
    """
    if newest is not None:
        return datetime.fromtimestamp(newest, UTC), None
    if empty_since is None:
        empty_since = int(time.time())
    return datetime.fromtimestamp(empty_since, UTC), empty_since


def winners(listings: list[Listing]) -> tuple[list[Listing], list[tuple[Listing, str]]]:
    """One article per id: the first file by path keeps it; the others are errors."""
    owner: dict[str, str] = {}
    for listing in listings:
        if listing.id not in owner or listing.source < owner[listing.id]:
            owner[listing.id] = listing.source
    if len(owner) == len(listings):  # no two share an id: the usual case, at every build
        return listings, []
    kept = [s for s in listings if owner[s.id] == s.source]  # still newest first
    losers = [
        (
            s,
            f"{s.source}: id {s.id!r} is already used by {owner[s.id]}: "
            "give one of them a different `id` in its front matter",
        )
        for s in sorted((s for s in listings if owner[s.id] != s.source), key=lambda s: s.source)
    ]
    return kept, losers
