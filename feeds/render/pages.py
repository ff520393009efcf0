"""The HTML, XSL and OPML around the feeds: permalink pages, the index, the stylesheet that
shows a feed in a browser, the OPML list. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from lxml import etree
from markupsafe import Markup, escape

from feeds.config import SiteConfig
from feeds.model import Article, Selection
from feeds.text import xml_safe
from feeds.tree.urls import absolute, feed_path

_TEMPLATES = Environment(
    loader=PackageLoader("feeds.render", "templates"),
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
    values = {
        "title": article.title,
        "datetime": article.published.isoformat(),
        "published": article.published.astimezone(timezone).strftime("%Y-%m-%d %H:%M"),
        "author": article.author,
        "editor": article.editor,
        "categories": " / ".join(" › ".join(path) for path in article.categories),
        "link": article.link,
    }
    shape = tuple(bool(values[name]) for name in _OPTIONAL)
    pieces, holes = _page_skeleton(site, shape)
    filled = [pieces[0]]
    for hole, piece in zip(holes, pieces[1:], strict=True):
        # Autoescaped like the template's own {{ }}, but for the body, which it marks safe.
        filled.append(article.content if hole == "content" else escape(values[hole]))
        filled.append(piece)
    return "".join(filled).encode("utf-8")


# The page's parts that the template shows only when present.
_OPTIONAL = ("author", "editor", "categories", "link")
# A hole's mark looks like a tag, so a site title that spells one out is escaped by the
# template and cannot be taken for a hole; the template's own text holds none.
_HOLES = re.compile("<feeds-hole:([a-z]+)>")


@lru_cache(maxsize=64)
def _page_skeleton(site: SiteConfig, shape: tuple[bool, ...]) -> tuple[list[str], list[str]]:
    """article.html rendered once per site and shape (which optional parts it shows), with a
    marked hole for each article value: the text between the holes, and the holes' names.

    A cold build makes a page per article; filling holes costs a fifth of rendering the
    template each time, and the template stays the one description of the page.
    """
    template = _TEMPLATES.get_template("article.html")
    present = dict(zip(_OPTIONAL, shape, strict=True))

    def hole(name: str) -> Markup:
        return Markup(f"<feeds-hole:{name}>")

    stand_in = SimpleNamespace(
        title=hole("title"),
        published=SimpleNamespace(isoformat=lambda: hole("datetime")),
        author=hole("author") if present["author"] else None,
        editor=hole("editor") if present["editor"] else None,
        link=hole("link") if present["link"] else None,
        content=hole("content"),
    )
    html = template.render(
        site=site,
        article=stand_in,
        home=site.base_url,
        published=hole("published"),
        categories=hole("categories") if present["categories"] else "",
    )
    parts = _HOLES.split(html)
    return parts[0::2], parts[1::2]


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
