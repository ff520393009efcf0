"""The documents of the feeds a build renders: which feeds changed since the last build,
each one's entries cut to fit its `max_bytes`, and with `archives: true` what leaves each
feed for its archive and the link to its newest archive document."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from feeds.build.archives import (
    ArchivePlan,
    Restore,
    Restored,
    newest_document,
    plan_archives,
    record_archives,
    restore,
)
from feeds.build.contents import SiteContents
from feeds.build.signatures import feed_signature, with_archive
from feeds.catalogue.archive_tables import ArchiveState
from feeds.catalogue.last_build import FeedState
from feeds.catalogue.records import Listing
from feeds.catalogue.store import Catalogue
from feeds.config import Config, FeedSpec, SiteConfig
from feeds.model import Article, Fragments, Selection
from feeds.render.formats import entry_template, filled, render_documents
from feeds.render.views import render_feed_view
from feeds.tree.urls import archive_path, entry_id, feed_path, feed_view_path
from feeds.tree.writer import Document

log = logging.getLogger("feeds")

_LONGEST_ARCHIVE = 10**12  # a document number with more digits than any feed will reach


@dataclass(frozen=True)
class FeedsToRender:
    """The feeds whose documents a build renders, and what it chose them by."""

    selections: Mapping[str, Selection[Listing]]  # by slug, in publishing order
    signatures: Mapping[str, str]  # every feed's, by slug, without its archive link
    archives: Mapping[str, ArchiveState]  # each feed's archive as stored (archives on)


@dataclass(frozen=True)
class FeedDocuments:
    """The feed documents a build writes, and what the next build compares with."""

    documents: Mapping[str, Document]  # by path
    plans: Mapping[str, ArchivePlan]  # with archives on: each feed's archive after the build
    signatures: Mapping[str, str]  # every feed's, by slug, with its archive link
    held: Mapping[str, int]  # how many entries each rendered feed's documents hold, by slug


def feeds_to_render(
    contents: SiteContents,
    *,
    last: Mapping[str, FeedState],
    render: str,
    archives: Mapping[str, ArchiveState] | None,
    full: bool,
) -> FeedsToRender:
    """The feeds whose signature differs from the `last` build's, every feed when `full`.
    `render`: the signature of the settings every feed shows; `archives`: each feed's
    archive as stored, None with archives off (a feed with no archive yet is rendered)."""
    signatures: dict[str, str] = {}
    chosen: dict[str, Selection[Listing]] = {}
    for selection in contents.selections:
        slug = selection.spec.slug
        signatures[slug] = feed_signature(render, selection, contents.newest)
        state = archives.get(slug) if archives is not None else None
        # The Atom document links its newest archive document: that number signs it too.
        archive = newest_document(state.total, state.size) if state else 0
        previous = last[slug].signature if slug in last else None
        stale = previous != with_archive(signatures[slug], archive)
        if full or stale or (archives is not None and state is None):
            chosen[slug] = selection
    return FeedsToRender(chosen, signatures, archives or {})


@dataclass(frozen=True)
class _Renderer:
    """Renders a feed's documents with what every feed of the site shares."""

    site: SiteConfig
    ttl_minutes: int
    newest: datetime  # the time of the site: a feed with no entry carries it
    hub: str

    def __call__(
        self, spec: FeedSpec, entries: Sequence[Fragments], archive: int
    ) -> dict[str, bytes]:
        return render_documents(
            self.site, spec, entries, self.ttl_minutes, self.newest, hub=self.hub, archive=archive
        )


def feed_documents(
    config: Config,
    catalogue: Catalogue,
    contents: SiteContents,
    chosen: FeedsToRender,
    changed: AbstractSet[str],
) -> FeedDocuments:
    """The documents of the `chosen` feeds, by path; with archives on, also what leaves each
    feed for its archive, stored in the catalogue. A feed whose newest archive document
    changes is rendered too (its `prev-archive` link moves). `changed`: the sources read or
    gone this build."""
    ttl_minutes = max(1, round(config.schedule.interval / 60))
    render = _Renderer(config.site, ttl_minutes, contents.newest, config.websub.hub)
    make_entry = partial(entry_template, config.site)
    to_render = dict(chosen.selections)
    serialised = _serialised(catalogue, list(to_render.values()), make_entry)
    trial: dict[str, dict[str, bytes]] = {}  # documents rendered while fitting max_bytes
    for slug, selection in to_render.items():
        if selection.spec.max_bytes:
            serialised[slug], trial[slug] = _within(
                render, selection.spec, serialised[slug], archives=config.archives
            )
    plans: dict[str, ArchivePlan] = {}
    if config.archives:
        plans = _archive_plans(config.output.dir, catalogue, contents, chosen, serialised, changed)
        moved = [p.slug for p in plans.values() if p.newest != p.previous]
        for slug in (slug for slug in moved if slug not in to_render):
            # The same entries as last time, with a new prev-archive link.
            selection = contents.by_slug[slug]
            kept = selection.entries[: len(chosen.archives[slug].shown)]
            to_render[slug] = selection
            serialised |= _serialised(catalogue, [Selection(selection.spec, kept)], make_entry)
    documents: dict[str, Document] = {}
    for slug, selection in to_render.items():
        archive = plans[slug].newest if slug in plans else 0
        formats = trial.get(slug) if not archive else None
        if formats is None:
            formats = render(selection.spec, serialised[slug], archive)
        modified = max((e.updated for e in serialised[slug]), default=contents.newest.timestamp())
        for fmt, data in formats.items():
            documents[feed_path(slug, fmt)] = Document(data, modified)
        view = render_feed_view(
            config.site, selection.spec, serialised[slug], config.source.timezone
        )
        documents[feed_view_path(slug)] = Document(view, modified)
    signatures = {
        slug: with_archive(feed, plans[slug].newest if slug in plans else 0)
        for slug, feed in chosen.signatures.items()
    }
    held = {slug: len(entries) for slug, entries in serialised.items()}
    return FeedDocuments(documents, plans, signatures, held)


def _serialised(
    catalogue: Catalogue,
    selections: Sequence[Selection[Listing]],
    make_entry: Callable[[Article], Fragments],
) -> dict[str, list[Fragments]]:
    """Each feed's entries, serialised, by slug."""
    sources = {e.source for s in selections for e in s.entries}
    fragments = filled(catalogue.entry_templates(sources, make_entry))
    return {s.spec.slug: [fragments[e.source] for e in s.entries] for s in selections}


def _archive_plans(
    output_dir: Path,
    catalogue: Catalogue,
    contents: SiteContents,
    chosen: FeedsToRender,
    serialised: Mapping[str, Sequence[Fragments]],
    changed: AbstractSet[str],
) -> dict[str, ArchivePlan]:
    """Every feed's archive after this build, stored in the catalogue (see plan_archives)."""
    shown = {
        slug: [s.id for s in selection.entries[: len(serialised[slug])]]
        if slug in chosen.selections
        else list(chosen.archives[slug].shown)
        for slug, selection in contents.by_slug.items()
    }
    published = _published_archive(output_dir, contents.listings)
    plans = plan_archives(catalogue, contents, shown, chosen.archives, changed, published)
    # The archive documents are rendered from what is stored.
    record_archives(catalogue, plans, chosen.archives.keys())
    return plans


def _published_archive(output_dir: Path, listings: Sequence[Listing]) -> Restore:
    """Reads back a feed's archive documents from the output dir (see archives.restore)."""
    article_ids: dict[str, str] = {}

    def published(spec: FeedSpec) -> Restored | None:
        documents = []
        for number in itertools.count(1):
            try:
                documents.append((output_dir / archive_path(spec.slug, number)).read_bytes())
            except FileNotFoundError:
                break
        if not documents:
            return None
        if not article_ids:  # made once, and only when there is something to restore
            article_ids.update((entry_id(s.id), s.id) for s in listings)
        log.warning(
            "archive of feed %r: read back from its %d documents", spec.slug, len(documents)
        )
        return restore(spec.slug, documents, spec.limit, article_ids)

    return published


def _within(
    render: _Renderer, spec: FeedSpec, entries: list[Fragments], *, archives: bool
) -> tuple[list[Fragments], dict[str, bytes]]:
    """The newest entries whose documents all fit in `spec.max_bytes`, and the documents.

    With `archives` on, the documents link an archive document whose number is not known
    yet: room is kept for the longest such link, and the documents are rendered again."""
    archive = _LONGEST_ARCHIVE if archives else 0

    def fits(documents: dict[str, bytes]) -> bool:
        return max(len(data) for data in documents.values()) <= spec.max_bytes

    documents = render(spec, entries, archive)
    if fits(documents):
        return entries, documents
    low, high = 0, len(entries)  # render(low) fits (or low is 0); render(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        if fits(render(spec, entries[:middle], archive)):
            low = middle
        else:
            high = middle
    return entries[:low], render(spec, entries[:low], archive)
