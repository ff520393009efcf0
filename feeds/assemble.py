"""From an up-to-date catalogue to the published tree: choose every feed's entries, render
what changed (feeds, index, pages), write it and remove what is no longer published.

A feed whose entries did not change keeps its bytes, so its ETag stays the same.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial

from feeds import __version__
from feeds.archives import (
    ArchivePlan,
    Restore,
    Restored,
    newest_document,
    plan_archives,
    record_archives,
    restore,
)
from feeds.catalogue import ArchiveState, Catalogue, Summary
from feeds.config import Config, FeedSpec
from feeds.ingest import Ingested
from feeds.pages import (
    Headline,
    feed_links,
    render_article_page,
    render_index,
    render_opml,
    render_stylesheet,
)
from feeds.publish import (
    Document,
    publish_changes,
    read_manifest,
)
from feeds.render import (
    EPOCH,
    FORMAT,
    STYLESHEET,
    Fragments,
    entry_template,
    entry_url,
    render_archive,
    render_documents,
)
from feeds.report import BuildReport, Clock
from feeds.select import Selection, feed_specs, select_feeds
from feeds.urls import FEED_FORMATS, archive_path, article_path, entry_id, feed_path

# Feeds are meant to be fetched by readers and indexed by anyone.
ROBOTS = b"User-agent: *\nDisallow:\n"
SITE_FILES = ("index.html", "opml.xml", "robots.txt", STYLESHEET)
log = logging.getLogger("feeds")

HEADLINES = 5  # the newest entries the index lists under each feed
_LONGEST_ARCHIVE = 10**12  # a document number with more digits than any feed will reach


def publish_build(
    config: Config, catalogue: Catalogue, ingested: Ingested, write: bool, clock: Clock
) -> BuildReport:
    changed = ingested.changed
    errors, warnings = catalogue.problems()
    failed = len(errors)
    manifest = read_manifest(config.output.dir) if write else None
    full = catalogue.fresh or manifest is None
    render_sig = digest(
        __version__,
        FORMAT,
        config.site,
        config.feeds,
        config.category_feeds,
        config.schedule.interval,
        config.websub.hub,  # every document names it
        config.archives,
    )
    pages_sig = digest(__version__, FORMAT, config.site, config.source.timezone.key)
    previous = catalogue.feed_signatures()
    if not (full or changed) and catalogue.get("render") == render_sig:
        # Nothing changed since the last build: nothing to render or write.
        clock.lap("select, render")
        return _report(len(previous), 0, errors, warnings, failed)

    summaries, duplicates = _winners(catalogue.summaries())
    errors += [error for _, error in duplicates]
    newest = datetime.fromtimestamp(max((s.updated for s in summaries), default=0.0), UTC)
    selections = select_feeds(
        feed_specs(config, summaries), summaries, lambda s: catalogue.body_text(s.source)
    )
    states = catalogue.archive_states() if config.archives else {}
    signatures: dict[str, str] = {}
    to_render: dict[str, Selection[Summary]] = {}
    for selection in selections:
        slug = selection.spec.slug
        entries = [(s.id, s.digest) for s in selection.entries]
        signatures[slug] = digest(render_sig, selection.spec, entries, None if entries else newest)
        state = states.get(slug)
        # The Atom document links its newest archive document: that number signs it too.
        signed = _signed(signatures[slug], newest_document(state.total, state.size) if state else 0)
        if full or previous.get(slug) != signed or (config.archives and state is None):
            to_render[slug] = selection

    documents, plans, held = _feed_documents(
        config, catalogue, selections, to_render, states, summaries, changed, newest
    )
    for slug, plan in plans.items():
        signatures[slug] = _signed(signatures[slug], plan.newest)
    selections_by_slug = {s.spec.slug: s for s in selections}
    # A feed cut to fit max_bytes holds fewer entries than it was given: the index says how
    # many its documents hold, kept from the build that last rendered them.
    counts = {
        slug: n
        for slug, n in json.loads(catalogue.get("counts") or "{}").items()
        if slug in signatures
    } | {slug: n for slug, n in held.items() if selections_by_slug[slug].spec.max_bytes}
    links = feed_links(config.site, selections, counts=counts)
    latest = {s.spec.slug: s.entries[:HEADLINES] for s in selections}
    # The newest entries' versions stand for their titles: reading those is left for when
    # the index is rendered.
    listed = {slug: [(e.id, e.digest) for e in entries] for slug, entries in latest.items()}
    index_sig = digest(render_sig, links, newest, config.source.timezone.key, listed)
    if full or catalogue.get("index") != index_sig:
        links = feed_links(
            config.site, selections, _headlines(config, catalogue, latest), counts=counts
        )
        for path, data in (
            ("index.html", render_index(config.site, links)),
            ("opml.xml", render_opml(config.site, links)),
            (STYLESHEET, render_stylesheet(config.site)),
        ):
            documents[path] = Document(data, newest.timestamp())
    if full:
        documents["robots.txt"] = Document(ROBOTS, EPOCH.timestamp())
    clock.lap("select, render")

    rewrite_pages = full or catalogue.get("pages") != pages_sig
    # Pages of articles read just now were written by the readers; but where two files
    # claim one id, both wrote its page, and the winner's must be the one that stays.
    contested = {summary.id for summary, _ in duplicates}
    page_summaries = [
        s
        for s in summaries
        if (rewrite_pages or s.source in changed)
        and (s.page not in ingested.pages or s.id in contested)
    ]
    pages = _pages(config, catalogue, [s.source for s in page_summaries])
    current = {s.page for s in summaries} | set(SITE_FILES)
    current |= {feed_path(slug, fmt) for slug in signatures for fmt in FEED_FORMATS}
    archived = {plan.slug: plan.documents() for plan in plans.values()}
    current |= {path for paths in archived.values() for path in paths}
    removals = (manifest or set()) - current
    if manifest is None:  # a first build, or a tree that lost its manifest: ask the disk
        due = _archives_due(plans, lambda path: (config.output.dir / path).is_file())
    else:
        due = _archives_due(plans, manifest.__contains__)
    archive_documents = (
        _archive_documents(config, catalogue, selections_by_slug, plans, due, summaries)
        if plans
        else iter(())
    )
    # Pages first: a feed never links to a page that is not there yet; nor to an archive
    # document.
    writes = _chain(_chain(pages, archive_documents), documents.items())
    if write:
        upcoming = [s.page for s in page_summaries] + list(documents)
        upcoming += [archive_path(slug, n) for slug, numbers in due.items() for n in numbers]
        result = publish_changes(config.output.dir, writes, removals, ingested.pages, upcoming)
        written, unchanged, removed = result.written, result.unchanged, result.removed
        catalogue.set_feed_signatures(signatures)
        for key, value in (("render", render_sig), ("pages", pages_sig), ("index", index_sig)):
            catalogue.put(key, value)
        catalogue.put("counts", json.dumps(counts, sort_keys=True))
        clock.lap("publish")
    else:
        written, unchanged, removed = tuple(path for path, _ in writes), (), ()
    # An archive document is written because its feed changed: the feed stands for it.
    feeds_written = tuple(p for p in written if p.startswith("feeds/") and p.count("/") == 1)
    changed_feeds = {path.split("/")[1].rsplit(".", 1)[0] for path in feeds_written}
    report = _report(len(signatures), len(changed_feeds), errors, warnings, failed)
    return BuildReport(
        **{
            **asdict(report),
            "files_written": len(written) if write else 0,
            "files_unchanged": len(unchanged),
            "files_removed": len(removed),
            "feeds_written": feeds_written if write else (),
        }
    )


def _feed_documents(
    config: Config,
    catalogue: Catalogue,
    selections: Sequence[Selection[Summary]],
    to_render: dict[str, Selection[Summary]],
    states: Mapping[str, ArchiveState],
    summaries: Sequence[Summary],
    changed: frozenset[str],
    newest: datetime,
) -> tuple[dict[str, Document], dict[str, ArchivePlan], dict[str, int]]:
    """The documents of the feeds to render, keyed by path, and how many entries each holds;
    with archives on, also what leaves each feed for its archive. A feed whose newest
    archive document changes is rendered too (its `prev-archive` link moves)."""
    ttl_minutes = max(1, round(config.schedule.interval / 60))
    make_entry = partial(entry_template, config.site)
    fragments = catalogue.fragments(
        {e.source for s in to_render.values() for e in s.entries}, make_entry
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
    selections_by_slug = {s.spec.slug: s for s in selections}
    if config.archives:
        shown = {
            slug: [s.id for s in selections_by_slug[slug].entries[: len(serialised[slug])]]
            if slug in to_render
            else list(states[slug].shown)
            for slug in selections_by_slug
        }
        plans = plan_archives(
            catalogue,
            selections,
            shown,
            summaries,
            changed,
            lambda s: catalogue.body_text(s.source),
            _published_archive(config, summaries),
        )
        record_archives(catalogue, plans)  # the archive documents are rendered from it
        moved = [
            p.slug for p in plans.values() if p.newest != p.previous and p.slug not in to_render
        ]
        for slug in moved:  # the same entries, a new prev-archive link
            selection = to_render[slug] = selections_by_slug[slug]
            kept = selection.entries[: len(shown[slug])]
            found = catalogue.fragments((e.source for e in kept), make_entry)
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


def _published_archive(config: Config, summaries: Sequence[Summary]) -> Restore:
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
            article_ids.update((entry_id(s.id), s.id) for s in summaries)
        log.warning(
            "archive of feed %r: read back from its %d documents", spec.slug, len(documents)
        )
        return restore(spec.slug, documents, spec.limit, article_ids)

    return published


def _signed(signature: str, archive: int) -> str:
    """A feed's signature with the number of the archive document it links, if any."""
    return digest(signature, archive) if archive else signature


def _archives_due(
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


def _archive_documents(
    config: Config,
    catalogue: Catalogue,
    selections: Mapping[str, Selection[Summary]],
    plans: Mapping[str, ArchivePlan],
    due: Mapping[str, list[int]],
    summaries: Sequence[Summary],
) -> Iterator[tuple[str, Document]]:
    """The due archive documents, rendered one at a time."""
    make_entry = partial(entry_template, config.site)
    by_id = {summary.id: summary for summary in summaries}
    for slug, numbers in due.items():
        plan, spec = plans[slug], selections[slug].spec
        for number in numbers:
            ids = catalogue.archived_between(slug, *plan.sequence(number))
            # An article deleted since it was archived is left out when its document is
            # next written (only ever the open one).
            held = sorted((by_id[i] for i in ids if i in by_id), key=lambda s: (-s.published, s.id))
            found = catalogue.fragments((s.source for s in held), make_entry)
            entries = [found[s.source] for s in held]
            data = render_archive(config.site, spec, number, entries, full=plan.is_full(number))
            modified = max((e.updated for e in entries), default=EPOCH.timestamp())
            yield archive_path(slug, number), Document(data, modified)


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


def _winners(summaries: list[Summary]) -> tuple[list[Summary], list[tuple[Summary, str]]]:
    """One article per id: the first file by path keeps it; the others are errors."""
    owner: dict[str, str] = {}
    for summary in summaries:
        if summary.id not in owner or summary.source < owner[summary.id]:
            owner[summary.id] = summary.source
    winners = [s for s in summaries if owner[s.id] == s.source]  # still newest first
    losers = [
        (
            s,
            f"{s.source}: id {s.id!r} is already used by {owner[s.id]}: "
            "give one of them a different `id` in its front matter",
        )
        for s in sorted(summaries, key=lambda s: s.source)
        if owner[s.id] != s.source
    ]
    return winners, losers


def _headlines(
    config: Config, catalogue: Catalogue, latest: Mapping[str, Sequence[Summary]]
) -> dict[str, list[Headline]]:
    """The index's lines for these entries, by feed. Each title and link is kept in the
    catalogue with its article's digest, so a new article costs one read, not one per line."""
    wanted = {e.source: e for entries in latest.values() for e in entries}
    kept = json.loads(catalogue.get("headlines") or "{}")
    known = {
        source: (title, url)
        for source, (digest, title, url) in kept.items()
        if source in wanted and wanted[source].digest == digest
    }
    missing = {wanted[source].id: source for source in wanted if source not in known}
    for article in catalogue.articles(missing.values()):
        known[missing[article.id]] = (article.title, entry_url(config.site, article))
    kept = {source: [wanted[source].digest, *known[source]] for source in wanted}
    catalogue.put("headlines", json.dumps(kept, ensure_ascii=False, sort_keys=True))
    zone = config.source.timezone
    return {
        slug: [
            Headline(
                *known[e.source], datetime.fromtimestamp(e.published, zone).strftime("%Y-%m-%d")
            )
            for e in entries
        ]
        for slug, entries in latest.items()
    }


def _pages(
    config: Config, catalogue: Catalogue, sources: Sequence[str]
) -> Iterator[tuple[str, Document]]:
    for start in range(0, len(sources), 500):  # a chunk at a time: memory stays bounded
        for article in catalogue.articles(sources[start : start + 500]):
            page = render_article_page(config.site, article, config.source.timezone)
            yield article_path(article.id), Document(page, article.updated.timestamp())


def _chain(
    first: Iterable[tuple[str, Document]], second: Iterable[tuple[str, Document]]
) -> Iterator[tuple[str, Document]]:
    yield from first
    yield from second


def _report(
    feeds: int, changed: int, errors: list[str], warnings: list[str], failed: int
) -> BuildReport:
    return BuildReport(
        articles_found=0,
        articles_failed=failed,
        feeds=feeds,
        feeds_changed=changed,
        files_written=0,
        files_unchanged=0,
        files_removed=0,
        errors=tuple(errors),
        warnings=tuple(warnings),
    )


def digest(*parts: object) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=_plain)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _plain(value: object) -> object:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)  # type: ignore[call-overload]
    return str(value)
