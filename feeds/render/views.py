"""The view of a feed: the HTML page a browser gets at a feed's address, with the feed's
entries and a box that explains how to subscribe. Pure.

A view is made from the same serialised entries as the feed's documents, read back from
their JSON Feed items: it shows what a reader gets (the same titles, links, summaries, head
images and terms), and costs no second trip to the catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from importlib.resources import files
from typing import Any

from feeds.config import FeedSpec, SiteConfig
from feeds.model import Fragments
from feeds.render.pages import OPML, links_of, templates
from feeds.render.times import ShownTime, show_time
from feeds.text import xml_safe
from feeds.tree.urls import absolute

# The script of the subscribe box, published once at the top of the tree. A file of its
# own rather than inline: the pages' Content-Security-Policy allows scripts from the site
# alone ('self'), with no hash to keep in step in the server and the nginx config.
SCRIPT = "subscribe.js"


@dataclass(frozen=True)
class ViewEntry:
    """One entry as the view lists it."""

    title: str
    url: str
    published: ShownTime
    author: str | None
    categories: tuple[str, ...]  # the entry's terms, as its feed documents carry them
    summary: str
    image: str | None  # the head image the feeds publish, if any


def render_feed_view(
    site: SiteConfig, spec: FeedSpec, entries: Sequence[Fragments], zone: tzinfo
) -> bytes:
    """The view of one feed, from its entries' fragments (newest first) as its documents
    hold them; times in `zone` (`source.timezone`)."""
    html = (
        templates(site.language)
        .get_template("feed.html")
        .render(
            site=site,
            feed=links_of(site, spec, len(entries)),
            description=xml_safe(spec.description),
            entries=view_entries(entries, zone),
            home=site.base_url,
            opml=absolute(site.base_url, OPML),
            script=absolute(site.base_url, SCRIPT),
        )
    )
    return html.encode("utf-8")


def view_entries(entries: Sequence[Fragments], zone: tzinfo) -> list[ViewEntry]:
    """Entries as a page lists them (a feed's view, a search's results), from the same
    fragments as the feed documents, times in `zone`."""
    return [_entry(json.loads(entry.json), zone) for entry in entries]


def _entry(item: dict[str, Any], zone: tzinfo) -> ViewEntry:
    """A JSON Feed item (see formats._json_item) as the view lists it."""
    authors = item.get("authors") or [{}]
    return ViewEntry(
        title=item["title"],
        url=item["url"],
        published=show_time(datetime.fromisoformat(item["date_published"]), zone),
        author=authors[0].get("name"),
        categories=tuple(item.get("tags", ())),
        summary=item.get("summary", ""),
        image=item.get("image"),
    )


def subscribe_script() -> bytes:
    """The script the views load (SCRIPT), as it ships with the package."""
    return (files("feeds.render") / "templates" / SCRIPT).read_bytes()
