"""RFC 5005 archived feeds: which entries leave each feed's Atom document for its archive,
and which archive documents a build must write.

An entry is archived once, the first time a build finds it in its feed but not in the feed's
Atom document (pushed out by newer entries, cut by `max_bytes`, or an old article added
late). It takes the feed's next sequence number and keeps it: archive document `n` holds
the entries numbered `(n - 1) * size` to `n * size - 1`, so once full its entries are
settled, and it is never written again. The newest document (the open one) fills as
entries leave the feed; it exists, empty if need be, as soon as anything was archived, so
a full document's `next-archive` link always leads somewhere.

A build looks only at what can have left: the entries the Atom document showed last time
and the articles that changed. Only a feed that has no archive yet is searched whole.

Which entry went where is kept in the catalogue; the published documents are the record,
though: a catalogue that was lost is given back each feed's archive from them (restore),
so that even then no full document changes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from functools import partial

from feeds.build.contents import SiteContents
from feeds.build.selection import belongs, in_order, select_feeds
from feeds.catalogue.archive_tables import ArchiveState
from feeds.catalogue.records import Listing
from feeds.catalogue.store import Catalogue
from feeds.config import FeedSpec, SiteConfig
from feeds.render.formats import EPOCH, entry_template, filled, render_archive
from feeds.tree.urls import archive_path
from feeds.tree.writer import Document

# An entry's id in an Atom document this module's feeds publish (see render.formats._atom_entry).
_ENTRY_ID = re.compile(rb"<entry>\s*<id>([^<]+)</id>")


def newest_document(count: int, size: int) -> int:
    """The number of a feed's open archive document, given how many entries it archived;
    0 when there is none yet."""
    return count // size + 1 if count else 0


@dataclass(frozen=True)
class ArchivePlan:
    """One feed's archive after this build, and what this build adds to it."""

    slug: str
    state: ArchiveState  # as it will be stored
    appended: tuple[str, ...]  # article ids given their sequence numbers now, in order
    previous: int  # the newest document number before this build
    changed: bool  # whether the state differs from the stored one
    restored: tuple[str, ...] = ()  # ids read back from the published documents, by number

    @property
    def newest(self) -> int:
        """The number of the open (newest) archive document; 0 when there is none."""
        return newest_document(self.state.total, self.state.size)

    def documents(self) -> list[str]:
        """Every archive document of the feed, oldest first."""
        return [archive_path(self.slug, number) for number in range(1, self.newest + 1)]

    def touched(self) -> range:
        """The documents whose entries this build changes: the open one and any new ones."""
        if not self.appended:
            return range(0)
        first = self.state.total - len(self.appended)
        return range(first // self.state.size + 1, self.newest + 1)

    def sequence(self, number: int) -> tuple[int, int]:
        """The sequence numbers (start, stop) of archive document `number`."""
        return (number - 1) * self.state.size, number * self.state.size

    def is_full(self, number: int) -> bool:
        """Whether archive document `number` holds all the entries it ever will."""
        return number * self.state.size <= self.state.total


@dataclass(frozen=True)
class Restored:
    """A feed's archive read back from its published documents."""

    size: int  # entries per document
    ids: tuple[str, ...]  # article ids by sequence number; a stand-in where one is gone


Restore = Callable[[FeedSpec], Restored | None]


def restore(
    slug: str, documents: Sequence[bytes], limit: int, article_ids: Mapping[str, str]
) -> Restored:
    """A feed's archive from its documents, oldest first. `article_ids`: entry id (URN) ->
    article id, for the articles there are. A full document keeps its `size` places even
    where an article was deleted before it was written, so numbers stay where they were."""
    held = [[found.decode() for found in _ENTRY_ID.findall(data)] for data in documents]
    full = held[:-1]
    size = max((len(urns) for urns in full), default=0) or max(limit, len(held[-1]))
    ids: list[str] = []
    for number, urns in enumerate(held, start=1):
        ids += [article_ids.get(urn, f"\x00gone {slug} {urn}") for urn in urns]
        if number < len(held):
            ids += [f"\x00gone {slug} {number}:{place}" for place in range(len(urns), size)]
    return Restored(size, tuple(ids))


def plan_archives(
    catalogue: Catalogue,
    contents: SiteContents,
    shown: Mapping[str, Sequence[str]],
    states: Mapping[str, ArchiveState],
    changed: AbstractSet[str],
    restore_from: Restore,
) -> dict[str, ArchivePlan]:
    """Every feed's archive after this build. `shown`: the ids in each feed's Atom document;
    `states`: the archives as stored; `changed`: the sources read or gone this build;
    `restore_from`: a feed's archive as published, for a feed the catalogue has none of.
    Reads the catalogue, writes nothing: see record_archives."""
    text_of = catalogue.body_text
    unlimited = [
        replace(s.spec, limit=sys.maxsize) for s in contents.selections if s.spec.slug not in states
    ]
    # A feed without an archive yet: everything it holds beyond its document is archived.
    complete = {
        selection.spec.slug: selection.entries
        for selection in (
            select_feeds(unlimited, in_order(contents.listings), text_of) if unlimited else []
        )
    }
    touched = [s for s in contents.listings if s.source in changed] if changed else []
    plans: dict[str, ArchivePlan] = {}
    for selection in contents.selections:
        spec = selection.spec
        in_document = set(shown[spec.slug])
        state = states.get(spec.slug)
        restored: tuple[str, ...] = ()
        if state is None:
            state, restored = _first_state(spec, restore_from)
            placed = set(restored)
            candidates = [
                s for s in complete[spec.slug] if s.id not in in_document and s.id not in placed
            ]
        else:
            # What left the document since the last build, or changed: if it still belongs.
            by_id = contents.by_id
            left = [by_id[i] for i in state.shown if i not in in_document and i in by_id]
            candidates = [
                s
                for s in dict.fromkeys(left + touched)
                if s.id not in in_document and belongs(spec, s, text_of)
            ]
        plan = _plan(catalogue, spec.slug, state, candidates, shown[spec.slug])
        # A feed's first archive is stored even when empty, with what was read back.
        new = spec.slug not in states
        plans[spec.slug] = replace(plan, changed=True, restored=restored) if new else plan
    return plans


def _first_state(spec: FeedSpec, restore_from: Restore) -> tuple[ArchiveState, tuple[str, ...]]:
    """The archive of a feed the catalogue has none of: the published one, or an empty one;
    and the ids read back from the published documents."""
    found = restore_from(spec)
    if found is None:
        return ArchiveState(spec.limit, 0, ()), ()
    return ArchiveState(found.size, len(found.ids), ()), found.ids


def _plan(
    catalogue: Catalogue,
    slug: str,
    state: ArchiveState,
    candidates: Sequence[Listing],
    shown: Sequence[str],
) -> ArchivePlan:
    """A feed's archive with the `candidates` it does not hold yet appended, oldest first."""
    known = catalogue.archives.holding(slug, [s.id for s in candidates])
    new = sorted((s for s in candidates if s.id not in known), key=lambda s: (s.published, s.id))
    appended = tuple(s.id for s in new)
    after = ArchiveState(state.size, state.total + len(appended), tuple(shown))
    changed = bool(appended) or after.shown != state.shown
    return ArchivePlan(slug, after, appended, newest_document(state.total, state.size), changed)


def record_archives(
    catalogue: Catalogue, plans: Mapping[str, ArchivePlan], stored: Collection[str]
) -> None:
    """Store the plans in the catalogue (committed with the build, after publishing), and
    forget the archives of feeds that are gone, and their subscribers with them."""
    for slug in set(stored) - plans.keys():
        catalogue.archives.forget(slug)
    for plan in plans.values():
        if plan.restored:
            catalogue.archives.append(
                plan.slug, ArchiveState(plan.state.size, len(plan.restored), ()), plan.restored
            )
        if plan.changed:
            catalogue.archives.append(plan.slug, plan.state, plan.appended)


def archives_due(
    plans: Mapping[str, ArchivePlan], published: Callable[[str], bool]
) -> dict[str, list[int]]:
    """The archive documents to write: those this build changes, and any not `published`.
    A full one that is there is never written again."""
    due: dict[str, list[int]] = {}
    for slug, plan in plans.items():
        numbers = set(plan.touched())
        numbers |= {n for n, path in enumerate(plan.documents(), 1) if not published(path)}
        if numbers:
            due[slug] = sorted(numbers)
    return due


def archive_documents(
    site: SiteConfig,
    catalogue: Catalogue,
    contents: SiteContents,
    plans: Mapping[str, ArchivePlan],
    due: Mapping[str, list[int]],
) -> Iterator[tuple[str, Document]]:
    """The due archive documents, rendered one at a time."""
    make_entry = partial(entry_template, site)
    for slug, numbers in due.items():
        plan, spec, by_id = plans[slug], contents.by_slug[slug].spec, contents.by_id
        for number in numbers:
            ids = catalogue.archives.between(slug, *plan.sequence(number))
            # An article deleted since it was archived is left out when its document is
            # next written (only ever the open one).
            held = sorted((by_id[i] for i in ids if i in by_id), key=lambda s: (-s.published, s.id))
            templates = catalogue.entry_templates((s.source for s in held), make_entry)
            found = filled(templates, atom_only=True)
            entries = [found[s.source] for s in held]
            data = render_archive(site, spec, number, entries, full=plan.is_full(number))
            modified = max((e.updated for e in entries), default=EPOCH.timestamp())
            yield archive_path(slug, number), Document(data, modified)
