"""From an up-to-date catalogue to the published tree: choose every feed's entries, render
what changed (feeds, index, pages), write it and remove what is no longer published.

A feed whose entries did not change keeps its bytes, so its ETag stays the same.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime

from feeds import __version__
from feeds.build.archives import (
    archive_documents,
    archives_due,
    newest_document,
)
from feeds.build.documents import feed_documents
from feeds.build.ingest import Ingested
from feeds.build.selection import feed_specs, select_feeds, unmatched_categories
from feeds.catalogue.last_build import FeedState, KeptHeadline, LastBuild
from feeds.catalogue.records import Listing
from feeds.catalogue.store import Catalogue
from feeds.config import Config
from feeds.model import Selection
from feeds.render.formats import (
    EPOCH,
    FORMAT,
    STYLESHEET,
    entry_url,
)
from feeds.render.pages import (
    Headline,
    feed_links,
    render_article_page,
    render_index,
    render_opml,
    render_stylesheet,
)
from feeds.text import hex_digest
from feeds.tree.report import BuildReport, Clock
from feeds.tree.urls import FEED_FORMATS, archive_path, article_path, feed_path
from feeds.tree.writer import (
    Document,
    publish_changes,
    read_manifest,
)

# Feeds are meant to be fetched by readers and indexed by anyone.
ROBOTS = b"User-agent: *\nDisallow:\n"
SITE_FILES = ("index.html", "opml.xml", "robots.txt", STYLESHEET)
HEADLINES = 5  # the newest entries the index lists under each feed


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
    last = catalogue.last_build()
    previous = {slug: feed.signature for slug, feed in last.feeds.items()}
    if not (full or changed) and last.render_signature == render_sig:
        # Nothing changed since the last build: nothing to render or write; the same
        # categories as last time match nothing.
        clock.lap("select, render")
        return _report(len(previous), 0, errors, warnings, failed, last.unmatched)

    listings, duplicates = _winners(catalogue.listings())
    errors += [error for _, error in duplicates]
    unmatched = tuple(unmatched_categories(config, listings))
    newest, empty_since = _site_time(listings, last.empty_since)
    selections = select_feeds(
        feed_specs(config, listings), listings, lambda s: catalogue.body_text(s.source)
    )
    states = catalogue.archives.states() if config.archives else {}
    signatures: dict[str, str] = {}
    to_render: dict[str, Selection[Listing]] = {}
    for selection in selections:
        slug = selection.spec.slug
        entries = [(s.id, s.digest) for s in selection.entries]
        signatures[slug] = digest(render_sig, selection.spec, entries, None if entries else newest)
        state = states.get(slug)
        # The Atom document links its newest archive document: that number signs it too.
        signed = _signed(signatures[slug], newest_document(state.total, state.size) if state else 0)
        if full or previous.get(slug) != signed or (config.archives and state is None):
            to_render[slug] = selection

    selections_by_slug = {s.spec.slug: s for s in selections}
    by_id = {s.id: s for s in listings} if config.archives else {}
    documents, plans, held = feed_documents(
        config, catalogue, selections_by_slug, to_render, states, listings, by_id, changed, newest
    )
    for slug, plan in plans.items():
        signatures[slug] = _signed(signatures[slug], plan.newest)
    # A feed cut to fit max_bytes holds fewer entries than it was given: the index says how
    # many its documents hold, kept from the build that last rendered them.
    counts = {
        slug: feed.held
        for slug, feed in last.feeds.items()
        if feed.held is not None and slug in signatures
    } | {slug: n for slug, n in held.items() if selections_by_slug[slug].spec.max_bytes}
    links = feed_links(config.site, selections, counts=counts)
    latest = {s.spec.slug: s.entries[:HEADLINES] for s in selections}
    # The newest entries' versions stand for their titles: reading those is left for when
    # the index is rendered.
    listed = {slug: [(e.id, e.digest) for e in entries] for slug, entries in latest.items()}
    index_sig = digest(render_sig, links, newest, config.source.timezone.key, listed)
    headlines = last.headlines
    if full or last.index_signature != index_sig:
        headlines = _kept_headlines(config, catalogue, latest, last.headlines)
        links = feed_links(
            config.site, selections, _headlines(config, latest, headlines), counts=counts
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

    rewrite_pages = full or last.pages_signature != pages_sig
    # Pages of articles read just now were written by the readers; but where two files
    # claim one id, both wrote its page, and the winner's must be the one that stays.
    contested = {listing.id for listing, _ in duplicates}
    page_summaries = [
        s
        for s in listings
        if (rewrite_pages or s.source in changed)
        and (s.page not in ingested.pages or s.id in contested)
    ]
    pages = _pages(config, catalogue, [s.source for s in page_summaries])
    current = {s.page for s in listings} | set(SITE_FILES)
    current |= {feed_path(slug, fmt) for slug in signatures for fmt in FEED_FORMATS}
    archived = {plan.slug: plan.documents() for plan in plans.values()}
    current |= {path for paths in archived.values() for path in paths}
    removals = (manifest or set()) - current
    if manifest is None:  # a first build, or a tree that lost its manifest: ask the disk
        due = archives_due(plans, lambda path: (config.output.dir / path).is_file())
    else:
        due = archives_due(plans, manifest.__contains__)
    archived_now = (
        archive_documents(config, catalogue, selections_by_slug, plans, due, by_id)
        if plans
        else iter(())
    )
    # Pages first: a feed never links to a page that is not there yet; nor to an archive
    # document.
    writes = itertools.chain(pages, archived_now, documents.items())
    if write:
        upcoming = [s.page for s in page_summaries] + list(documents)
        upcoming += [archive_path(slug, n) for slug, numbers in due.items() for n in numbers]
        result = publish_changes(config.output.dir, writes, removals, ingested.pages, upcoming)
        written, unchanged, removed = result.written, result.unchanged, result.removed
        feeds = {slug: FeedState(sig, counts.get(slug)) for slug, sig in signatures.items()}
        catalogue.record_last_build(
            LastBuild(render_sig, pages_sig, index_sig, feeds, headlines, unmatched, empty_since)
        )
        clock.lap("publish")
    else:
        written, unchanged, removed = tuple(path for path, _ in writes), (), ()
    # An archive document is written because its feed changed: the feed stands for it.
    feeds_written = tuple(p for p in written if p.startswith("feeds/") and p.count("/") == 1)
    changed_feeds = {path.split("/")[1].rsplit(".", 1)[0] for path in feeds_written}
    report = _report(len(signatures), len(changed_feeds), errors, warnings, failed, unmatched)
    return replace(
        report,
        files_written=len(written) if write else 0,
        files_unchanged=len(unchanged),
        files_removed=len(removed),
        feeds_written=feeds_written if write else (),
    )


def _site_time(listings: Sequence[Listing], empty_since: int | None) -> tuple[datetime, int | None]:
    """The time of the site: its newest entry's, which also dates a feed with no entry yet;
    and the `empty_since` to keep. With no article at all, the time the site was first
    published so, kept: the feeds' bytes (and Last-Modified) must not change from build to
    build. Once there are articles it is forgotten: the next empty site gets a time of its own.
    """
    if listings:
        return datetime.fromtimestamp(max(s.updated for s in listings), UTC), None
    if empty_since is None:
        empty_since = int(time.time())
    return datetime.fromtimestamp(empty_since, UTC), empty_since


def _signed(signature: str, archive: int) -> str:
    """A feed's signature with the number of the archive document it links, if any."""
    return digest(signature, archive) if archive else signature


def _winners(listings: list[Listing]) -> tuple[list[Listing], list[tuple[Listing, str]]]:
    """One article per id: the first file by path keeps it; the others are errors."""
    owner: dict[str, str] = {}
    for listing in listings:
        if listing.id not in owner or listing.source < owner[listing.id]:
            owner[listing.id] = listing.source
    winners = [s for s in listings if owner[s.id] == s.source]  # still newest first
    losers = [
        (
            s,
            f"{s.source}: id {s.id!r} is already used by {owner[s.id]}: "
            "give one of them a different `id` in its front matter",
        )
        for s in sorted(listings, key=lambda s: s.source)
        if owner[s.id] != s.source
    ]
    return winners, losers


def _kept_headlines(
    config: Config,
    catalogue: Catalogue,
    latest: Mapping[str, Sequence[Listing]],
    kept: Mapping[str, KeptHeadline],
) -> dict[str, KeptHeadline]:
    """The title and link of each of these entries, by source. Each is kept with its
    article's digest, so a new article costs one read, not one per line of the index."""
    wanted = {e.source: e for entries in latest.values() for e in entries}
    known = {
        source: (headline.title, headline.url)
        for source, headline in kept.items()
        if source in wanted and wanted[source].digest == headline.digest
    }
    missing = {wanted[source].id: source for source in wanted if source not in known}
    for article in catalogue.articles(missing.values()):
        known[missing[article.id]] = (article.title, entry_url(config.site, article))
    return {source: KeptHeadline(wanted[source].digest, *known[source]) for source in wanted}


def _headlines(
    config: Config,
    latest: Mapping[str, Sequence[Listing]],
    kept: Mapping[str, KeptHeadline],
) -> dict[str, list[Headline]]:
    """The index's lines, by feed."""
    zone = config.source.timezone
    return {
        slug: [
            Headline(
                kept[e.source].title,
                kept[e.source].url,
                datetime.fromtimestamp(e.published, zone).strftime("%Y-%m-%d"),
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


def _report(
    feeds: int,
    changed: int,
    errors: list[str],
    warnings: list[str],
    failed: int,
    unmatched: tuple[str, ...],
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
        warnings=(*warnings, *unmatched),
        unmatched_categories=unmatched,
    )


def digest(*parts: object) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=_plain)
    return hex_digest(text, size=16)


def _plain(value: object) -> object:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)  # type: ignore[call-overload]
    return str(value)
