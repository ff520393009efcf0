"""The HTML and OPML around the feeds: permalink pages, the index, the error pages, the OPML
list; and the templates they are made from, in the site's language. Pure."""

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

from feeds.config import FeedSpec, SiteConfig
from feeds.model import Article, Selection
from feeds.render.i18n import FALLBACK, SHIPPED, catalogue_locale, translations
from feeds.render.times import ShownTime, show_time
from feeds.text import xml_safe
from feeds.tree.urls import absolute, feed_path, feed_view_path

OPML = "opml.xml"


def templates(language: str) -> Environment:
    """The page templates, speaking the site's language (`site.language`)."""
    return _templates(catalogue_locale(language) or FALLBACK)


@lru_cache(maxsize=len(SHIPPED))  # one per shipped catalogue
def _templates(locale: str) -> Environment:
    # An environment per language rather than translations swapped on one: the server
    # renders error pages in its threads while its builder renders pages in another.
    environment = Environment(
        loader=PackageLoader("feeds.render", "templates"),
        autoescape=select_autoescape(default=True),
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return environment


@dataclass(frozen=True)
class Headline:
    """One of a feed's newest entries, as the index lists it."""

    title: str
    url: str
    published: ShownTime


@dataclass(frozen=True)
class FeedLinks:
    """What the index and the OPML list say about one feed."""

    slug: str
    title: str
    count: int
    atom: str
    rss: str
    json: str
    view: str  # the feed's page (its view), for people
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
        links_of(
            site,
            f.spec,
            (counts or {}).get(f.spec.slug, len(f.entries)),
            tuple((newest or {}).get(f.spec.slug, ())),
        )
        for f in feeds
    ]


def links_of(
    site: SiteConfig, spec: FeedSpec, count: int, newest: tuple[Headline, ...] = ()
) -> FeedLinks:
    """The public URLs of one feed."""
    return FeedLinks(
        slug=spec.slug,
        title=xml_safe(spec.title),
        count=count,
        atom=absolute(site.base_url, feed_path(spec.slug, "atom")),
        rss=absolute(site.base_url, feed_path(spec.slug, "rss")),
        json=absolute(site.base_url, feed_path(spec.slug, "json")),
        view=absolute(site.base_url, feed_view_path(spec.slug)),
        newest=newest,
    )


def render_article_page(site: SiteConfig, article: Article, timezone: tzinfo) -> bytes:
    """The permalink page an entry links to when the article has no original URL."""
    published = show_time(article.published, timezone)
    values = {
        "title": article.title,
        "datetime": published.iso,
        "published": published.text,
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
    template = templates(site.language).get_template("article.html")
    present = dict(zip(_OPTIONAL, shape, strict=True))

    def hole(name: str) -> Markup:
        return Markup(f"<feeds-hole:{name}>")

    stand_in = SimpleNamespace(
        title=hole("title"),
        author=hole("author") if present["author"] else None,
        editor=hole("editor") if present["editor"] else None,
        link=hole("link") if present["link"] else None,
        content=hole("content"),
    )
    html = template.render(
        site=site,
        article=stand_in,
        home=site.base_url,
        published=ShownTime(iso=hole("datetime"), text=hole("published")),
        categories=hole("categories") if present["categories"] else "",
    )
    parts = _HOLES.split(html)
    return parts[0::2], parts[1::2]


def render_index(site: SiteConfig, links: Sequence[FeedLinks]) -> bytes:
    """The front page: every feed, with autodiscovery links for each format."""
    html = (
        templates(site.language)
        .get_template("index.html")
        .render(site=site, feeds=links, opml=absolute(site.base_url, OPML))
    )
    return html.encode("utf-8")


def render_error_page(site: SiteConfig, status: int) -> bytes:
    """The page the web app answers an error with (404, 405, 503...)."""
    html = (
        templates(site.language)
        .get_template("error.html")
        .render(site=site, status=status, home=site.base_url)
    )
    return html.encode("utf-8")


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
            htmlUrl=link.view,
        )
    data: bytes = etree.tostring(opml, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return data
