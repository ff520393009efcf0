"""The site's own files: the index page and the OPML list, rendered again only when what
they show changes, and robots.txt and the feed views' script."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feeds.build.contents import SiteContents
from feeds.build.signatures import signature
from feeds.catalogue.last_build import KeptHeadline, LastBuild
from feeds.catalogue.records import Listing
from feeds.catalogue.store import Catalogue
from feeds.config import Config
from feeds.render.formats import EPOCH, entry_url
from feeds.render.pages import (
    Headline,
    feed_links,
    render_error_page,
    render_index,
    render_opml,
)
from feeds.render.times import show_time
from feeds.render.views import SCRIPT, subscribe_script
from feeds.tree.writer import Document

# Feeds are meant to be fetched by readers and indexed by anyone.
ROBOTS = b"User-agent: *\nDisallow:\n"
# The page static hosts answer a missing path with (nginx's error_page, and by convention
# GitHub Pages, Netlify and others): the web app's own, in the site's language.
NOT_FOUND = "404.html"
SITE_FILES = ("index.html", "opml.xml", "robots.txt", SCRIPT, NOT_FOUND)
HEADLINES = 5  # the newest entries the index lists under each feed


@dataclass(frozen=True)
class SiteFiles:
    """The site's own files this build writes, and what the next build compares with."""

    documents: Mapping[str, Document]  # by path; none when nothing they show changed
    signature: str  # of what the index and the OPML list show
    headlines: Mapping[str, KeptHeadline]  # the index's lines, by source, to keep


def site_files(
    config: Config,
    catalogue: Catalogue,
    contents: SiteContents,
    *,
    counts: Mapping[str, int],
    last: LastBuild,
    render: str,
    full: bool,
) -> SiteFiles:
    """The index, the OPML list and the 404 page when what they show changed since the
    `last` build (or when the whole tree is written: `full`); robots.txt and the script
    with the whole tree.
    `counts`: the entries held by feeds cut to fit max_bytes, by slug; `render`: the
    signature of the settings every feed shows."""
    links = feed_links(config.site, contents.selections, counts=counts)
    latest = {s.spec.slug: s.entries[:HEADLINES] for s in contents.selections}
    # The newest entries' versions stand for their titles: reading those is left for when
    # the index is rendered.
    listed = {slug: [(e.id, e.digest) for e in entries] for slug, entries in latest.items()}
    index = signature(render, links, contents.newest, config.source.timezone.key, listed)
    documents: dict[str, Document] = {}
    headlines = last.headlines
    if full or last.index_signature != index:
        headlines = _kept_headlines(config, catalogue, latest, last.headlines)
        newest = _headlines(config, latest, headlines)
        links = feed_links(config.site, contents.selections, newest, counts=counts)
        for path, data in (
            ("index.html", render_index(config.site, links)),
            ("opml.xml", render_opml(config.site, links)),
        ):
            documents[path] = Document(data, contents.newest.timestamp())
        # With the index: it shows the site's title and language too.
        documents[NOT_FOUND] = Document(render_error_page(config.site, 404), EPOCH.timestamp())
    if full:
        documents["robots.txt"] = Document(ROBOTS, EPOCH.timestamp())
        documents[SCRIPT] = Document(subscribe_script(), EPOCH.timestamp())
    return SiteFiles(documents, index, headlines)


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
                show_time(datetime.fromtimestamp(e.published, UTC), zone),
            )
            for e in entries
        ]
        for slug, entries in latest.items()
    }
