"""The documents of the feeds a build renders: each feed's entries, cut to fit its
`max_bytes`, and with `archives: true` what leaves each feed for its archive and the link
to its newest archive document."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial

from feeds.build.archives import (
    ArchivePlan,
    Restore,
    Restored,
    plan_archives,
    record_archives,
    restore,
)
from feeds.catalogue.archive_tables import ArchiveState
from feeds.catalogue.records import Listing
from feeds.catalogue.store import Catalogue
from feeds.config import Config, FeedSpec
from feeds.model import Fragments, Selection
from feeds.render.formats import entry_template, filled, render_documents
from feeds.tree.urls import archive_path, entry_id, feed_path
from feeds.tree.writer import Document

log = logging.getLogger("feeds")

_LONGEST_ARCHIVE = 10**12  # a document number with more digits than any feed will reach


def feed_documents(
    config: Config,
    catalogue: Catalogue,
    selections: Mapping[str, Selection[Listing]],
    to_render: dict[str, Selection[Listing]],
    states: Mapping[str, ArchiveState],
    listings: Sequence[Listing],
    by_id: Mapping[str, Listing],
    changed: frozenset[str],
    newest: datetime,
) -> tuple[dict[str, Document], dict[str, ArchivePlan], dict[str, int]]:
    """The documents of the feeds to render, keyed by path, and how many entries each holds;
    with archives on, also what leaves each feed for its archive. A feed whose newest
    archive document changes is rendered too (its `prev-archive` link moves).
    `selections`: every feed by slug; `by_id`: every article by id (used with archives)."""
    ttl_minutes = max(1, round(config.schedule.interval / 60))
    make_entry = partial(entry_template, config.site)
    fragments = filled(
        catalogue.entry_templates(
            {e.source for s in to_render.values() for e in s.entries}, make_entry
        )
    )
    serialised = {slug: [fragments[e.source] for e in s.entries] for slug, s in to_render.items()}
    del fragments
    trial: dict[str, dict[str, bytes]] = {}  # documents rendered while fitting max_bytes
    for slug, selection in to_render.items():
        if selection.spec.max_bytes:
            serialised[slug], trial[slug] = _within(
                config, selection.spec, serialised[slug], ttl_minutes, newest
            )
    plans: dict[str, ArchivePlan] = {}
    if config.archives:
        shown = {
            slug: [s.id for s in selection.entries[: len(serialised[slug])]]
            if slug in to_render
            else list(states[slug].shown)
            for slug, selection in selections.items()
        }
        plans = plan_archives(
            catalogue,
            tuple(selections.values()),
            shown,
            states,
            listings,
            by_id,
            changed,
            lambda s: catalogue.body_text(s.source),
            _published_archive(config, listings),
        )
        # The archive documents are rendered from what is stored.
        record_archives(catalogue, plans, states.keys())
        moved = [
            p.slug for p in plans.values() if p.newest != p.previous and p.slug not in to_render
        ]
        for slug in moved:  # the same entries, a new prev-archive link
            selection = to_render[slug] = selections[slug]
            kept = selection.entries[: len(shown[slug])]
            found = filled(catalogue.entry_templates((e.source for e in kept), make_entry))
            serialised[slug] = [found[e.source] for e in kept]
    documents: dict[str, Document] = {}
    for slug, selection in to_render.items():
        archive = plans[slug].newest if slug in plans else 0
        formats = trial.get(slug) if not archive else None
        if formats is None:
            formats = render_documents(
                config.site,
                selection.spec,
                serialised[slug],
                ttl_minutes,
                newest,
                hub=config.websub.hub,
                archive=archive,
            )
        modified = max((e.updated for e in serialised[slug]), default=newest.timestamp())
        for fmt, data in formats.items():
            documents[feed_path(slug, fmt)] = Document(data, modified)
    held = {slug: len(entries) for slug, entries in serialised.items()}
    del serialised, trial
    return documents, plans, held


def _published_archive(config: Config, listings: Sequence[Listing]) -> Restore:
    """Reads back a feed's archive documents from the output dir (see archives.restore)."""
    article_ids: dict[str, str] = {}

    def published(spec: FeedSpec) -> Restored | None:
        documents = []
        for number in itertools.count(1):
            try:
                documents.append((config.output.dir / archive_path(spec.slug, number)).read_bytes())
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
    config: Config,
    spec: FeedSpec,
    entries: list[Fragments],
    ttl_minutes: int,
    newest: datetime,
) -> tuple[list[Fragments], dict[str, bytes]]:
    """The newest entries whose documents all fit in `spec.max_bytes`, and the documents.

    With archives on, the documents link an archive document whose number is not known yet:
    room is kept for the longest such link, and the documents are rendered again."""
    archive = _LONGEST_ARCHIVE if config.archives else 0

    def render(count: int) -> dict[str, bytes]:
        return render_documents(
            config.site,
            spec,
            entries[:count],
            ttl_minutes,
            newest,
            hub=config.websub.hub,
            archive=archive,
        )

    def fits(documents: dict[str, bytes]) -> bool:
        return max(len(data) for data in documents.values()) <= spec.max_bytes

    documents = render(len(entries))
    if fits(documents):
        return entries, documents
    low, high = 0, len(entries)  # render(low) fits (or low is 0); render(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        if fits(render(middle)):
            low = middle
        else:
            high = middle
    return entries[:low], render(low)
