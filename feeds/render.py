"""Entries -> Atom, RSS 2.0 and JSON Feed 1.1 bytes. Pure and deterministic: same input, same bytes.

feedgen fills "now" into every timestamp it is not given and prepends entries by default,
so every date and the entry order are set here explicitly (STYLE.md, rule 6).
"""

from __future__ import annotations

import json
import mimetypes
from datetime import UTC, datetime
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds import __version__
from feeds.config import SiteConfig
from feeds.model import Article
from feeds.select import Feed
from feeds.text import xml_safe
from feeds.urls import absolute, article_path, entry_id, feed_id, feed_path

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def entry_url(site: SiteConfig, article: Article) -> str:
    """Where an entry links: the original article when known, else our permalink page."""
    return article.link or absolute(site.base_url, article_path(article.id))


def feed_updated(feed: Feed, fallback: datetime = EPOCH) -> datetime:
    """A feed's updated time: its newest entry's, never the clock (stable ETags between polls)."""
    return max((a.updated for a in feed.entries), default=fallback)


def render_feed(
    site: SiteConfig, feed: Feed, *, ttl_minutes: int, fallback_updated: datetime = EPOCH
) -> dict[str, bytes]:
    """All three documents of one feed, keyed by format: `atom`, `rss`, `json`."""
    updated = feed_updated(feed, fallback_updated).astimezone(UTC)
    return {
        "atom": _render_atom(site, feed, updated),
        "rss": _render_rss(site, feed, updated, ttl_minutes),
        "json": _render_json(site, feed, updated),
    }


def _generator(site: SiteConfig, feed: Feed, fmt: str, updated: datetime) -> FeedGenerator:
    spec = feed.spec
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.load_extension("media")
    fg.id(feed_id(spec.slug))
    fg.title(xml_safe(spec.title))
    fg.description(xml_safe(spec.description or spec.title))
    fg.language(site.language)
    fg.author(name=xml_safe(site.title))  # Atom wants an author on the feed or on every entry
    fg.link(href=absolute(site.base_url, feed_path(spec.slug, fmt)), rel="self")
    fg.link(href=site.base_url, rel="alternate")
    fg.generator("feeds", version=__version__)
    fg.updated(updated)
    fg.lastBuildDate(updated)
    return fg


def _add_entries(fg: FeedGenerator, site: SiteConfig, feed: Feed, atom: bool) -> None:
    if atom:
        fg.register_extension("atomlinks", _NoFeedExtension, _AtomLinks, atom=True, rss=False)
    for article in feed.entries:
        fe = fg.add_entry(order="append")
        url = entry_url(site, article)
        fe.id(entry_id(article.id))
        fe.title(article.title)
        fe.published(article.published.astimezone(UTC))
        fe.updated(article.updated.astimezone(UTC))
        fe.summary(xml_safe(article.summary) or None)
        fe.content(article.content, type="html")
        for term in _terms(article):
            fe.category(term=term)
        if article.author:
            fe.dc.dc_creator(article.author)  # RSS drops a name-only <author>
            if atom:
                fe.author(name=article.author)
        if article.editor:
            fe.dc.dc_contributor(article.editor)
            if atom:
                fe.contributor(name=article.editor)
        if atom:
            fe.atomlinks.add(url, "alternate", "text/html")
        else:
            fe.link(href=url)
        if article.image:
            image_type = mimetypes.guess_type(article.image)[0] or "image/jpeg"
            fe.media.thumbnail(url=article.image)
            if atom:
                fe.atomlinks.add(article.image, "enclosure", image_type, length="0")
            else:
                fe.enclosure(article.image, "0", image_type)


def _render_atom(site: SiteConfig, feed: Feed, updated: datetime) -> bytes:
    fg = _generator(site, feed, "atom", updated)
    _add_entries(fg, site, feed, atom=True)
    data: bytes = fg.atom_str(pretty=True)
    return data


def _render_rss(site: SiteConfig, feed: Feed, updated: datetime, ttl_minutes: int) -> bytes:
    fg = _generator(site, feed, "rss", updated)
    fg.ttl(ttl_minutes)
    _add_entries(fg, site, feed, atom=False)
    data: bytes = fg.rss_str(pretty=True)
    return data


def _render_json(site: SiteConfig, feed: Feed, updated: datetime) -> bytes:
    spec = feed.spec
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": xml_safe(spec.title),
        "home_page_url": site.base_url,
        "feed_url": absolute(site.base_url, feed_path(spec.slug, "json")),
        "description": xml_safe(spec.description or spec.title),
        "language": site.language,
        "authors": [{"name": xml_safe(site.title)}],
        "items": [_json_item(site, a) for a in feed.entries],
    }
    del updated  # JSON Feed has no feed-level date; kept in the signature for symmetry
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json_item(site: SiteConfig, article: Article) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry_id(article.id),
        "url": entry_url(site, article),
        "title": article.title,
        "content_html": article.content,
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


class _NoFeedExtension(BaseExtension):  # type: ignore[misc]
    pass


class _AtomLinks(BaseEntryExtension):  # type: ignore[misc]
    """Entry links for Atom, written by us.

    feedgen 1.0.0 drops `rel` and `type` from every entry link in Atom (the loop variable
    shadows the link dict), which turns an enclosure into a second alternate link and makes
    the feed invalid (RFC 4287 §4.1.1). Entry links are therefore never given to feedgen's
    Atom writer.
    """

    def __init__(self) -> None:
        self._links: list[dict[str, str]] = []

    def add(self, href: str, rel: str, type_: str, length: str | None = None) -> None:
        link = {"href": href, "rel": rel, "type": type_}
        if length is not None:
            link["length"] = length
        self._links.append(link)

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for link in self._links:
            # Unqualified like feedgen's own elements: the feed's default namespace is Atom.
            etree.SubElement(entry, "link", link)
        return entry
