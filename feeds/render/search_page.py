"""The HTML page of a search: its box, the newest matching articles, and the addresses of
the same search as feeds. Pure: values in, bytes out.

It extends the site's base template, in the site's language, like the other pages, and
lists its results as a feed's view lists its entries (views.view_entries).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from feeds.config import SiteConfig
from feeds.render.pages import templates
from feeds.render.views import ViewEntry

# Why a search was not answered: the query cannot be searched, the index is not filled
# yet, or too many searches are running.
Notice = Literal["bad query", "building", "busy"]


def render_search_page(
    site: SiteConfig,
    query: str,
    results: Sequence[ViewEntry],
    feeds: Mapping[str, str] | None,
    *,
    notice: Notice | None = None,
) -> bytes:
    """The results page of `query`; `feeds`: the search's feed URLs by format (None when
    there is nothing to subscribe to); `notice`: why there are no results to show."""
    html = (
        templates(site.language)
        .get_template("search.html")
        .render(site=site, query=query, results=results, feeds=feeds, notice=notice)
    )
    return html.encode("utf-8")
