"""From an up-to-date catalogue to the published tree, in stages: what the site holds
(contents), the feeds and site files whose inputs changed since the last build (documents,
site_files), the pages and archive documents to write and the files to remove (TreeChanges);
then writing it all and keeping what it was made from for the next build (LastBuild).

A feed whose entries did not change keeps its bytes, so its ETag stays the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from feeds.build.archives import archive_documents, archives_due
from feeds.build.contents import SiteContents, site_contents, winners
from feeds.build.documents import FeedDocuments, feed_documents, feeds_to_render
from feeds.build.ingest import Ingested
from feeds.build.signatures import SettingsSignatures, settings_signatures
from feeds.build.site_files import SITE_FILES, SiteFiles, site_files
from feeds.catalogue.last_build import FeedState, LastBuild
from feeds.catalogue.records import Listing
from feeds.catalogue.store import Catalogue
from feeds.config import Config
from feeds.render.pages import render_article_page
from feeds.tree.manifest import Manifest
from feeds.tree.report import BuildReport, Clock
from feeds.tree.urls import (
    AFTER_PAGES,
    FEED_FORMATS,
    PAGES,
    archive_path,
    article_path,
    feed_of,
    feed_path,
    feed_view_path,
)
from feeds.tree.writer import Document, PublishResult, publish_changes

_CHUNK = 500  # articles read from the catalogue at a time


@dataclass(frozen=True)
class TreeChanges:
    """What a build changes in the output tree besides the documents it rendered."""

    pages: Mapping[str, str]  # the pages written: by the source of their article
    due: Mapping[str, list[int]]  # the archive documents written, by feed slug
    removals: frozenset[str]  # paths no longer published

    def paths(self) -> list[str]:
        """The paths of the pages and archive documents written."""
        archives = [archive_path(slug, n) for slug, numbers in self.due.items() for n in numbers]
        return [*self.pages.values(), *archives]


def publish_build(
    config: Config, catalogue: Catalogue, ingested: Ingested, write: bool, clock: Clock
) -> BuildReport:
    """Render what changed since the last build; publish it when `write`, else only count it."""
    manifest = Manifest.open(config.output.dir) if write else None
    try:
        return _publish(config, catalogue, ingested, write, clock, manifest)
    finally:
        if manifest is not None:
            manifest.close()


def _publish(
    config: Config,
    catalogue: Catalogue,
    ingested: Ingested,
    write: bool,
    clock: Clock,
    manifest: Manifest | None,
) -> BuildReport:
    last = catalogue.last_build()
    full = catalogue.fresh or manifest is None  # the whole tree is written
    settings = settings_signatures(config)
    if not (full or ingested.changed) and last.render_signature == settings.render:
        # Nothing changed since the last build: nothing to render or write; the same
        # categories as last time match nothing.
        clock.lap("select, render")
        _, duplicates = winners(catalogue.sharing_ids())  # still errors, until one is fixed
        return _report(catalogue, duplicates, len(last.feeds), 0, last.unmatched)

    contents = site_contents(config, catalogue, last.empty_since)
    chosen = feeds_to_render(
        contents,
        last=last.feeds,
        render=settings.render,
        archives=catalogue.archives.states() if config.archives else None,
        full=full,
    )
    feeds = feed_documents(config, catalogue, contents, chosen, ingested.changed)
    counts = _counts(last, feeds, contents)
    site = site_files(
        config, catalogue, contents, counts=counts, last=last, render=settings.render, full=full
    )
    documents = {**feeds.documents, **site.documents}
    clock.lap("select, render")

    rewrite_pages = full or last.pages_signature != settings.pages
    changes = _tree_changes(config, catalogue, contents, feeds, manifest, ingested, rewrite_pages)
    # Pages first: a feed never links to a page that is not there yet; nor to an archive
    # document.
    writes = itertools.chain(
        _pages(config, catalogue, list(changes.pages)),
        archive_documents(config.site, catalogue, contents, feeds.plans, changes.due),
        documents.items(),
    )
    if not write:
        published = PublishResult(tuple(path for path, _ in writes), (), ())
    else:
        upcoming = [*changes.paths(), *documents]
        published = publish_changes(
            config.output.dir, writes, changes.removals, ingested.pages, upcoming, manifest=manifest
        )
        catalogue.record_last_build(_this_build(settings, contents, feeds, site, counts))
        clock.lap("publish")
    return _published_report(catalogue, contents, feeds, published, write)


def _counts(last: LastBuild, feeds: FeedDocuments, contents: SiteContents) -> dict[str, int]:
    """How many entries the documents of each feed cut to fit max_bytes hold, by slug.
    A feed cut so holds fewer entries than it was given: the index says how many, kept
    from the build that last rendered its documents."""
    kept = {
        slug: feed.held
        for slug, feed in last.feeds.items()
        if feed.held is not None and slug in feeds.signatures
    }
    return kept | {
        slug: n for slug, n in feeds.held.items() if contents.by_slug[slug].spec.max_bytes
    }


def _tree_changes(
    config: Config,
    catalogue: Catalogue,
    contents: SiteContents,
    feeds: FeedDocuments,
    manifest: Manifest | None,
    ingested: Ingested,
    rewrite_pages: bool,
) -> TreeChanges:
    """The pages to write (every one when `rewrite_pages`, else those of changed articles),
    the archive documents due, and what the `manifest` lists that is no longer published."""
    documents = set(SITE_FILES)
    documents |= {feed_path(slug, fmt) for slug in feeds.signatures for fmt in FEED_FORMATS}
    documents |= {feed_view_path(slug) for slug in feeds.signatures}
    documents |= {path for plan in feeds.plans.values() for path in plan.documents()}
    if manifest is None:  # a first build, or a tree that lost its manifest: ask the disk
        due = archives_due(feeds.plans, lambda path: (config.output.dir / path).is_file())
    else:
        due = archives_due(feeds.plans, manifest.__contains__)
    if rewrite_pages or manifest is None:  # no manifest: a whole tree is written
        pages, current = _every_page(catalogue, contents, ingested, manifest is not None)
        removals = set(manifest.paths()) - documents - current if manifest is not None else set()
    else:
        # A page a reader wrote for a file whose id another file keeps is the keeper's to
        # write again; so is the page of an id an article gave up, if another one claims it.
        overwritten = {listing.id for listing, _ in contents.duplicates}
        overwritten &= {id_ for id_ in overwritten if article_path(id_) in ingested.pages}
        owners = catalogue.owners(catalogue.released | overwritten)
        pages = _changed_pages(catalogue, contents, ingested, owners.values())
        removals = {*manifest.paths(high=PAGES), *manifest.paths(low=AFTER_PAGES)} - documents
        released = catalogue.released - owners.keys()
        removals |= {path for id_ in released if (path := article_path(id_)) in manifest}
    return TreeChanges(pages, due, frozenset(removals))


def _every_page(
    catalogue: Catalogue, contents: SiteContents, ingested: Ingested, compare: bool
) -> tuple[dict[str, str], set[str]]:
    """Every article's page to write, by source, but those the readers wrote just now; and
    when `compare`, the path of every page (the catalogue's ids, read from an index)."""
    # Where two files claim one id, both wrote its page: the winner's must be the one
    # that stays.
    contested = {listing.id for listing, _ in contents.duplicates}
    pages: dict[str, str] = {}
    current: set[str] = set()
    last = None
    for id_, source in catalogue.claims():  # by id, then source: the first one keeps it
        if id_ == last:
            continue
        last = id_
        page = article_path(id_)
        if page not in ingested.pages or id_ in contested:
            pages[source] = page
        if compare:
            current.add(page)
    return pages, current


def _changed_pages(
    catalogue: Catalogue, contents: SiteContents, ingested: Ingested, heirs: Iterable[str]
) -> dict[str, str]:
    """The pages of the articles read this build, and of the `heirs` (articles that keep an
    id another article gave up), by source; but those the readers wrote just now (see
    _every_page)."""
    contested = {listing.id for listing, _ in contents.duplicates}
    lost = {listing.source for listing, _ in contents.duplicates}
    # Streamed: a build may have read a million files (the rest of a first build, or an
    # archive copied in), and a listing of each would take gigabytes. Most pages are the
    # readers', and only the others are kept.
    return {
        s.source: s.page
        for s in catalogue.listings_of(itertools.chain(ingested.changed, heirs))
        if s.source not in lost and (s.page not in ingested.pages or s.id in contested)
    }


def _pages(
    config: Config, catalogue: Catalogue, sources: Sequence[str]
) -> Iterator[tuple[str, Document]]:
    for start in range(0, len(sources), _CHUNK):  # a chunk at a time: memory stays bounded
        for article in catalogue.articles(sources[start : start + _CHUNK]):
            page = render_article_page(config.site, article, config.source.timezone)
            yield article_path(article.id), Document(page, article.updated.timestamp())


def _this_build(
    settings: SettingsSignatures,
    contents: SiteContents,
    feeds: FeedDocuments,
    site: SiteFiles,
    counts: Mapping[str, int],
) -> LastBuild:
    """What this build published from, for the next one."""
    return LastBuild(
        render_signature=settings.render,
        pages_signature=settings.pages,
        index_signature=site.signature,
        feeds={
            slug: FeedState(signature, counts.get(slug))
            for slug, signature in feeds.signatures.items()
        },
        headlines=site.headlines,
        unmatched=contents.unmatched,
        empty_since=contents.empty_since,
    )


def _published_report(
    catalogue: Catalogue,
    contents: SiteContents,
    feeds: FeedDocuments,
    published: PublishResult,
    write: bool,
) -> BuildReport:
    # An archive document is written because its feed changed: the feed stands for it. So
    # does the feed's view, which is no document a reader subscribes to.
    written = [(path, feed_of(path)) for path in published.written]
    feeds_written = tuple(path for path, feed in written if feed and feed[1] in FEED_FORMATS)
    changed_feeds = {feed[0] for _, feed in written if feed}
    report = _report(
        catalogue,
        contents.duplicates,
        len(feeds.signatures),
        len(changed_feeds),
        contents.unmatched,
    )
    return replace(
        report,
        files_written=len(written) if write else 0,
        files_unchanged=len(published.unchanged),
        files_removed=len(published.removed),
        feeds_written=feeds_written if write else (),
    )


def _report(
    catalogue: Catalogue,
    duplicates: Sequence[tuple[Listing, str]],
    feeds: int,
    changed: int,
    unmatched: tuple[str, ...],
) -> BuildReport:
    """The report of a build that wrote nothing (yet): its feeds and its problems."""
    errors, warnings = catalogue.problems()
    return BuildReport(
        articles_found=0,
        articles_failed=len(errors) + len(duplicates),  # a file whose id is taken is left out
        feeds=feeds,
        feeds_changed=changed,
        files_written=0,
        files_unchanged=0,
        files_removed=0,
        errors=(*errors, *(error for _, error in duplicates)),
        warnings=(*warnings, *unmatched),
        unmatched_categories=unmatched,
    )
