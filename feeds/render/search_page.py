"""The HTML page of a search: its box, the newest matching articles, and the addresses of
the same search as feeds. Pure: values in, bytes out.

It extends the site's base template, in the site's language, like the other pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo

from feeds.config import SiteConfig
from feeds.model import Article
from feeds.render.formats import entry_url
from feeds.render.pages import templates
from feeds.render.times import ShownTime, show_time


@dataclass(frozen=True)
class Result:
    """One matching article, as the page lists it."""

    title: str
    url: str
    published: ShownTime  # in the source time zone
    summary: str


def search_results(site: SiteConfig, articles: Iterable[Article], zone: tzinfo) -> list[Result]:
    """The page's lines for these articles, in the order given."""
    return [
        Result(
            article.title,
            entry_url(site, article),
            show_time(article.published, zone),
            article.summary,
        )
        for article in articles
    ]


def render_search_page(
    site: SiteConfig,
    query: str,
    results: Iterable[Result],
    feeds: Mapping[str, str] | None,
    *,
    problem: bool = False,
) -> bytes:
    """The results page of `query`; `feeds`: the search's feed URLs by format (None when
    there is nothing to subscribe to); `problem`: the query could not be searched."""
    html = (
        templates(site.language)
        .get_template("search.html")
        .render(site=site, query=query, results=list(results), feeds=feeds, problem=problem)
    )
    return html.encode("utf-8")
