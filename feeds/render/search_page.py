"""The HTML page of a search: its box, the newest matching articles, and the addresses of
the same search as feeds. Pure: values in, bytes out.

It extends the site's base template, in the site's language, like the other pages, and
lists its results as a feed's view lists its entries (views.view_entries).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from feeds.config import SiteConfig
from feeds.render.pages import templates
from feeds.render.views import ViewEntry


def render_search_page(
    site: SiteConfig,
    query: str,
    results: Sequence[ViewEntry],
    feeds: Mapping[str, str] | None,
    *,
    problem: bool = False,
) -> bytes:
    """The results page of `query`; `feeds`: the search's feed URLs by format (None when
    there is nothing to subscribe to); `problem`: the query could not be searched."""
    html = (
        templates(site.language)
        .get_template("search.html")
        .render(site=site, query=query, results=results, feeds=feeds, problem=problem)
    )
    return html.encode("utf-8")
