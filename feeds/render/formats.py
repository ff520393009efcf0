"""Entries -> Atom 1.0, RSS 2.0 and JSON Feed 1.1 bytes. Pure and deterministic.

Each entry is serialised once, into three fragments, when its article is read; a feed
document is its header plus the fragments of its entries, newest first. So rebuilding a
feed costs microseconds per entry, and an article shown in twenty feeds is still
serialised once. Every text and attribute goes through one escaping function that also
drops the characters XML cannot carry, so no input can make a document ill-formed.
(feedgen was the first serialiser; it fills in "now" for every missing timestamp,
prepends entries, and in 1.0.0 drops rel/type from Atom entry links, which made the
enclosure a second alternate link: writing the few elements ourselves is simpler.)
"""

from __future__ import annotations

import html
import json
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from feeds import __version__
from feeds.config import FeedSpec, SiteConfig
from feeds.model import Article, Feed, Fragments
from feeds.text import xml_safe
from feeds.tree.urls import (
    FEED_FORMATS,
    absolute,
    archive_path,
    article_path,
    entry_id,
    feed_id,
    feed_path,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Raised whenever a change to this module, the pages, their templates or the message
# catalogues changes the bytes published from the same input: stored entries and published
# files are then redone.
FORMAT = "3"
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005's fh:archive
_RSS_NAMESPACES = (
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:media="http://search.yahoo.com/mrss/"'
)


@dataclass(frozen=True)
class FeedAddress:
    """Where a feed's documents are, the page that shows the same entries, and the Atom id
    readers know the feed by: a published feed's are derived from its slug, a search's from
    its query."""

    id: str
    urls: Mapping[str, str]  # by format: atom, rss, json
    page: str


def published_address(site: SiteConfig, spec: FeedSpec) -> FeedAddress:
    """The address of a feed published in the tree."""
    urls = {fmt: absolute(site.base_url, feed_path(spec.slug, fmt)) for fmt in FEED_FORMATS}
    return FeedAddress(feed_id(spec.slug), urls, site.base_url)


def entry_url(site: SiteConfig, article: Article) -> str:
    """Where an entry links: the original article when known, else our permalink page."""
    return article.link or absolute(site.base_url, article_path(article.id))


def render_feed(
    site: SiteConfig,
    feed: Feed,
    *,
    ttl_minutes: int,
    fallback_updated: datetime = EPOCH,
    hub: str = "",
) -> dict[str, bytes]:
    """All three documents of one feed, keyed by format: `atom`, `rss`, `json`."""
    fragments = [render_entry(site, article) for article in feed.entries]
    return render_documents(site, feed.spec, fragments, ttl_minutes, fallback_updated, hub=hub)


def render_entry(site: SiteConfig, article: Article) -> Fragments:
    """Serialise one entry for every format."""
    return fill(entry_template(site, article), article.content)


# Where the body goes in an entry template: the one character no published text can hold
# (xml_safe drops it), so it can only be the placeholder.
HOLE = "\x00"
_JSON_HOLE = '"\\u0000"'


def entry_template(site: SiteConfig, article: Article) -> Fragments:
    """An entry serialised with a hole where its body goes: the catalogue keeps the body
    once, not once per format."""
    return Fragments(
        atom=_atom_entry(site, article, HOLE),
        rss=_rss_item(site, article, HOLE),
        json=json.dumps(_json_item(site, article, HOLE), ensure_ascii=False, separators=(",", ":")),
        updated=article.updated.timestamp(),
    )


def fill(template: Fragments, content: str, *, atom_only: bool = False) -> Fragments:
    """An entry template with its body put in; `atom_only`: in the Atom fragment alone (an
    archive document's), the others left empty."""
    escaped = _t(content)
    atom = template.atom.replace(HOLE, escaped, 1)
    if atom_only:
        return Fragments(atom=atom, rss="", json="", updated=template.updated)
    return Fragments(
        atom=atom,
        rss=template.rss.replace(HOLE, escaped, 1),
        json=template.json.replace(
            _JSON_HOLE, json.dumps(xml_safe(content), ensure_ascii=False), 1
        ),
        updated=template.updated,
    )


def filled(
    templates: Mapping[str, tuple[Fragments, str]], *, atom_only: bool = False
) -> dict[str, Fragments]:
    """Entry templates with their bodies put in, by source (see `fill`)."""
    return {source: fill(t, body, atom_only=atom_only) for source, (t, body) in templates.items()}


def render_documents(
    site: SiteConfig,
    spec: FeedSpec,
    entries: Sequence[Fragments],
    ttl_minutes: int,
    fallback_updated: datetime = EPOCH,
    *,
    hub: str = "",
    archive: int = 0,
    address: FeedAddress | None = None,
) -> dict[str, bytes]:
    """A feed's three documents from its entries' fragments, given newest first.

    `hub`: the WebSub hub the documents name (W3C WebSub, section 4), or "" for none.
    `archive`: the number of the feed's newest archive document, which the Atom document
    links as `prev-archive` (RFC 5005, section 4), or 0 for none.
    `address`: where the documents say they are, when not the published feed's."""
    newest = max((e.updated for e in entries), default=fallback_updated.timestamp())
    updated = datetime.fromtimestamp(newest, UTC)
    links = _link("prev-archive", absolute(site.base_url, archive_path(spec.slug, archive)))
    at = address or published_address(site, spec)
    return {
        "atom": _atom(site, spec, entries, updated, hub, links if archive else "", address=at),
        "rss": _rss(site, spec, entries, updated, ttl_minutes, hub, at),
        "json": _json(site, spec, entries, hub, at),
    }


def _t(text: str) -> str:
    """Text content: XML-safe characters, markup characters escaped."""
    return html.escape(xml_safe(text), quote=False)


def _a(text: str) -> str:
    """An attribute value, for double quotes."""
    return html.escape(xml_safe(text), quote=True)


# No <?xml-stylesheet?>: a browser gets the feed's HTML view instead (content negotiation,
# see feeds.web.negotiation), and browsers are dropping XSLT.
_PROLOG = '<?xml version="1.0" encoding="utf-8"?>\n'


def render_archive(
    site: SiteConfig, spec: FeedSpec, number: int, entries: Sequence[Fragments], *, full: bool
) -> bytes:
    """Archive document `number` of a feed (RFC 5005, section 4), entries newest first.

    A full document links the next one, which exists as soon as this one is full, so its
    bytes never change again; the newest (open) one has no next yet."""
    updated = datetime.fromtimestamp(max((e.updated for e in entries), default=0.0), UTC)
    current = absolute(site.base_url, feed_path(spec.slug, "atom"))
    links = _link("current", current)
    if number > 1:
        links += _link("prev-archive", absolute(site.base_url, archive_path(spec.slug, number - 1)))
    if full:
        links += _link("next-archive", absolute(site.base_url, archive_path(spec.slug, number + 1)))
    self_url = absolute(site.base_url, archive_path(spec.slug, number))
    return _atom(site, spec, entries, updated, "", links, self_url=self_url)


def _link(rel: str, href: str) -> str:
    return f'  <link rel="{rel}" type="application/atom+xml" href="{_a(href)}"/>\n'


def _atom(
    site: SiteConfig,
    spec: FeedSpec,
    entries: Sequence[Fragments],
    updated: datetime,
    hub: str,
    links: str = "",
    *,
    self_url: str = "",
    address: FeedAddress | None = None,
) -> bytes:
    """An Atom document; `self_url` set makes it an archive document (`fh:archive`)."""
    at = address or published_address(site, spec)
    hub_link = f'  <link rel="hub" href="{_a(hub)}"/>\n' if hub else ""
    history = f' xmlns:fh="{HISTORY_NS}"' if self_url else ""
    head = _PROLOG + (
        f'<feed xmlns="{ATOM_NS}" xmlns:media="http://search.yahoo.com/mrss/"{history}'
        f' xml:lang="{_a(site.language)}">\n'
        + ("  <fh:archive/>\n" if self_url else "")
        + f"  <id>{at.id}</id>\n"
        f"  <title>{_t(spec.title)}</title>\n"
        f"  <subtitle>{_t(spec.description or spec.title)}</subtitle>\n"
        f"  <updated>{updated.isoformat()}</updated>\n"
        f"  <author>\n    <name>{_t(site.title)}</name>\n  </author>\n"
        f'  <link rel="self" type="application/atom+xml"'
        f' href="{_a(self_url or at.urls["atom"])}"/>\n'
        f"{hub_link}{links}"
        f'  <link rel="alternate" type="text/html" href="{_a(at.page)}"/>\n'
        f'  <generator version="{__version__}">feeds</generator>\n'
    )
    return (head + "".join(e.atom for e in entries) + "</feed>\n").encode("utf-8")


def _atom_entry(site: SiteConfig, article: Article, body: str) -> str:
    parts = [
        "  <entry>\n",
        f"    <id>{entry_id(article.id)}</id>\n",
        f"    <title>{_t(article.title)}</title>\n",
        f'    <link rel="alternate" type="text/html" href="{_a(entry_url(site, article))}"/>\n',
        f"    <published>{article.published.astimezone(UTC).isoformat()}</published>\n",
        f"    <updated>{article.updated.astimezone(UTC).isoformat()}</updated>\n",
    ]
    if article.author:
        parts.append(f"    <author>\n      <name>{_t(article.author)}</name>\n    </author>\n")
    if article.editor:
        parts.append(
            f"    <contributor>\n      <name>{_t(article.editor)}</name>\n    </contributor>\n"
        )
    parts.extend(f'    <category term="{_a(term)}"/>\n' for term in _terms(article))
    if article.image:
        parts.append(
            f'    <link rel="enclosure" type="{_image_type(article.image)}"'
            f' href="{_a(article.image)}"/>\n'
            f'    <media:thumbnail url="{_a(article.image)}"/>\n'
        )
    if article.summary:
        parts.append(f"    <summary>{_t(article.summary)}</summary>\n")
    parts.append(f'    <content type="html">{body}</content>\n  </entry>\n')
    return "".join(parts)


def _rss(
    site: SiteConfig,
    spec: FeedSpec,
    entries: Sequence[Fragments],
    updated: datetime,
    ttl_minutes: int,
    hub: str,
    at: FeedAddress,
) -> bytes:
    # RSS has no element for a hub: WebSub (section 4) names it with atom:link.
    hub_link = f'    <atom:link rel="hub" href="{_a(hub)}"/>\n' if hub else ""
    head = _PROLOG + (
        f'<rss version="2.0" {_RSS_NAMESPACES}>\n'
        "  <channel>\n"
        f"    <title>{_t(spec.title)}</title>\n"
        f"    <link>{_t(at.page)}</link>\n"
        f"    <description>{_t(spec.description or spec.title)}</description>\n"
        f"    <language>{_t(site.language)}</language>\n"
        f"    <lastBuildDate>{format_datetime(updated)}</lastBuildDate>\n"
        f"    <generator>feeds {__version__}</generator>\n"
        f"    <ttl>{ttl_minutes}</ttl>\n"
        f'    <atom:link rel="self" type="application/rss+xml"'
        f' href="{_a(at.urls["rss"])}"/>\n'
        f"{hub_link}"
    )
    return (head + "".join(e.rss for e in entries) + "  </channel>\n</rss>\n").encode("utf-8")


def _rss_item(site: SiteConfig, article: Article, body: str) -> str:
    parts = [
        "    <item>\n",
        f"      <title>{_t(article.title)}</title>\n",
        f"      <link>{_t(entry_url(site, article))}</link>\n",
        f'      <guid isPermaLink="false">{entry_id(article.id)}</guid>\n',
        f"      <pubDate>{format_datetime(article.published.astimezone(UTC))}</pubDate>\n",
    ]
    if article.author:  # RSS's own <author> must be an e-mail address
        parts.append(f"      <dc:creator>{_t(article.author)}</dc:creator>\n")
    if article.editor:
        parts.append(f"      <dc:contributor>{_t(article.editor)}</dc:contributor>\n")
    parts.extend(f"      <category>{_t(term)}</category>\n" for term in _terms(article))
    # RSS has one element for the summary and the full text alike; the full text goes
    # into content:encoded, which every current reader prefers.
    parts.append(f"      <description>{_t(article.summary)}</description>\n")
    parts.append(f"      <content:encoded>{body}</content:encoded>\n")
    if article.image:
        parts.append(
            f'      <enclosure url="{_a(article.image)}" length="0"'
            f' type="{_image_type(article.image)}"/>\n'
            f'      <media:thumbnail url="{_a(article.image)}"/>\n'
        )
    parts.append("    </item>\n")
    return "".join(parts)


def _json(
    site: SiteConfig, spec: FeedSpec, entries: Sequence[Fragments], hub: str, at: FeedAddress
) -> bytes:
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": xml_safe(spec.title),
        "home_page_url": at.page,
        "feed_url": at.urls["json"],
        "description": xml_safe(spec.description or spec.title),
        "language": site.language,
        "authors": [{"name": xml_safe(site.title)}],
    }
    if hub:
        document["hubs"] = [{"type": "WebSub", "url": hub}]  # JSON Feed 1.1, "hubs"
    document["items"] = [json.loads(e.json) for e in entries]
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json_item(site: SiteConfig, article: Article, body: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry_id(article.id),
        "url": entry_url(site, article),
        "title": article.title,
        "content_html": body,
        "summary": article.summary,
        "date_published": article.published.astimezone(UTC).isoformat(),
        "date_modified": article.updated.astimezone(UTC).isoformat(),
    }
    if article.image:
        item["image"] = article.image
    if article.author:
        item["authors"] = [{"name": article.author}]
    terms = _terms(article)
    if terms:
        item["tags"] = terms
    return item


def _terms(article: Article) -> list[str]:
    """Category names along every path, then tags, each once, in order."""
    names = [name for path in article.categories for name in path] + list(article.tags)
    return list(dict.fromkeys(names))


def _image_type(url: str) -> str:
    return mimetypes.guess_type(url)[0] or "image/jpeg"
