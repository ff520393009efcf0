"""From an up-to-date catalogue to the published tree: choose every feed's entries, render
what changed (feeds, index, pages), write it and remove what is no longer published.

A feed whose entries did not change keeps its bytes, so its ETag stays the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from feeds import __version__
from feeds.catalogue import Catalogue, Summary
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
from feeds.render import EPOCH, FORMAT, STYLESHEET, Fragments, entry_url, render_documents
from feeds.report import BuildReport, Clock
from feeds.select import Selection, feed_specs, select_feeds
from feeds.urls import FEED_FORMATS, article_path, feed_path

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
    ttl_minutes = max(1, round(config.schedule.interval / 60))
    selections = select_feeds(
        feed_specs(config, summaries), summaries, lambda s: catalogue.body_text(s.source)
    )
    signatures: dict[str, str] = {}
    to_render: list[Selection[Summary]] = []
    for selection in selections:
        slug = selection.spec.slug
        entries = [(s.id, s.digest) for s in selection.entries]
        signatures[slug] = digest(render_sig, selection.spec, entries, None if entries else newest)
        if full or previous.get(slug) != signatures[slug]:
            to_render.append(selection)

    documents: dict[str, Document] = {}
    fragments = catalogue.fragments({e.source for s in to_render for e in s.entries})
    for selection in to_render:
        serialised = [fragments[e.source] for e in selection.entries]
        if selection.spec.max_bytes:
            serialised, formats = _within(config, selection.spec, serialised, ttl_minutes, newest)
        else:
            formats = render_documents(
                config.site, selection.spec, serialised, ttl_minutes, newest, hub=config.websub.hub
            )
        modified = max((e.updated for e in serialised), default=newest.timestamp())
        for fmt, data in formats.items():
            documents[feed_path(selection.spec.slug, fmt)] = Document(data, modified)
    links = feed_links(config.site, selections)
    latest = {s.spec.slug: s.entries[:HEADLINES] for s in selections}
    # The newest entries' versions stand for their titles: reading those is left for when
    # the index is rendered.
    listed = {slug: [(e.id, e.digest) for e in entries] for slug, entries in latest.items()}
    index_sig = digest(render_sig, links, newest, config.source.timezone.key, listed)
    if full or catalogue.get("index") != index_sig:
        links = feed_links(config.site, selections, _headlines(config, catalogue, latest))
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
    removals = (manifest or set()) - current
    # Pages first: a feed never links to a page that is not there yet.
    writes = _chain(pages, documents.items())
    if write:
        upcoming = [s.page for s in page_summaries] + list(documents)
        result = publish_changes(config.output.dir, writes, removals, ingested.pages, upcoming)
        written, unchanged, removed = result.written, result.unchanged, result.removed
        catalogue.set_feed_signatures(signatures)
        for key, value in (("render", render_sig), ("pages", pages_sig), ("index", index_sig)):
            catalogue.put(key, value)
        clock.lap("publish")
    else:
        written, unchanged, removed = tuple(path for path, _ in writes), (), ()
    feeds_written = tuple(path for path in written if path.startswith("feeds/"))
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


def _within(
    config: Config,
    spec: FeedSpec,
    entries: list[Fragments],
    ttl_minutes: int,
    newest: datetime,
) -> tuple[list[Fragments], dict[str, bytes]]:
    """The newest entries whose documents all fit in `spec.max_bytes`, and the documents."""

    def render(count: int) -> dict[str, bytes]:
        return render_documents(
            config.site, spec, entries[:count], ttl_minutes, newest, hub=config.websub.hub
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
