"""The HTML, XSL and OPML around the feeds: permalink pages, the index, the stylesheet that
shows a feed in a browser, the OPML list. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from lxml import etree

from feeds.config import SiteConfig
from feeds.model import Article
from feeds.select import Selection
from feeds.text import xml_safe
from feeds.urls import absolute, feed_path

_TEMPLATES = Environment(
    loader=PackageLoader("feeds", "templates"),
    autoescape=select_autoescape(default=True),
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Headline:
    """One of a feed's newest entries, as the index lists it."""

    title: str
    url: str
    date: str  # the day it was published, in the source time zone


@dataclass(frozen=True)
class FeedLinks:
    """What the index and the OPML list say about one feed."""

    slug: str
    title: str
    count: int
    atom: str
    rss: str
    json: str
    newest: tuple[Headline, ...] = ()


def feed_links(
    site: SiteConfig,
    feeds: Sequence[Selection[Any]],
    newest: Mapping[str, Sequence[Headline]] | None = None,
    *,
    counts: Mapping[str, int] | None = None,
) -> list[FeedLinks]:
    """The public URLs of every feed, in publishing order, with its newest entries by slug
    and, where it holds fewer than it was given (`max_bytes`), its count by slug."""
    return [
        FeedLinks(
            slug=f.spec.slug,
            title=xml_safe(f.spec.title),
            count=(counts or {}).get(f.spec.slug, len(f.entries)),
            atom=absolute(site.base_url, feed_path(f.spec.slug, "atom")),
            rss=absolute(site.base_url, feed_path(f.spec.slug, "rss")),
            json=absolute(site.base_url, feed_path(f.spec.slug, "json")),
            newest=tuple((newest or {}).get(f.spec.slug, ())),
        )
        for f in feeds
    ]


def render_article_page(site: SiteConfig, article: Article, timezone: tzinfo) -> bytes:
    """The permalink page an entry links to when the article has no original URL."""
    html = _TEMPLATES.get_template("article.html").render(
        site=site,
        article=article,
        home=site.base_url,
        published=article.published.astimezone(timezone).strftime("%Y-%m-%d %H:%M"),
        categories=" / ".join(" › ".join(path) for path in article.categories),
    )
    return html.encode("utf-8")


def render_index(site: SiteConfig, links: Sequence[FeedLinks]) -> bytes:
    """The front page: every feed, with autodiscovery links for each format."""
    html = _TEMPLATES.get_template("index.html").render(
        site=site, feeds=links, opml=absolute(site.base_url, "opml.xml")
    )
    return html.encode("utf-8")


def render_stylesheet(site: SiteConfig) -> bytes:
    """The XSLT stylesheet every Atom and RSS document names: a browser that opens a feed
    shows it as a page that says what a feed is and how to subscribe. Readers ignore it."""
    xsl = _TEMPLATES.get_template("feed.xsl").render(
        site=site, home=site.base_url, opml=absolute(site.base_url, "opml.xml")
    )
    return xsl.encode("utf-8")


def render_opml(site: SiteConfig, links: Sequence[FeedLinks]) -> bytes:
    """OPML 2.0 listing every feed, for import into a reader in one step."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = xml_safe(site.title)
    body = etree.SubElement(opml, "body")
    for link in links:
        etree.SubElement(
            body,
            "outline",
            type="rss",
            text=link.title,
            title=link.title,
            xmlUrl=link.atom,
            htmlUrl=site.base_url,
        )
    data: bytes = etree.tostring(opml, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return data
