"""Search, as a page and as feeds: `/search?q=…` is an HTML page of the newest matching
articles, and `/search.atom`, `/search.rss` and `/search.json` with the same `q` are feeds
of them that a reader can subscribe to.

The answers come from the catalogue's search index (feeds.catalogue.search_index),
through a read-only connection opened for each search: it never writes and never holds
a lock past its query, so it cannot stop the builder, in this process or another; and a
catalogue replaced by the builder is the one the next search reads. A feed's entries are
its articles' stored entries, so they are the regular feeds' entries byte for byte.

Bad input is the client's to fix, never a server error: an empty query, one over
MAX_QUERY characters, or one with control characters gets a 400 with a short page. More
than `slots` searches at once, or no index to search yet (a first build fills it once the
feeds are published), get a 503 with Retry-After.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import quote

from flask import Flask, Response, request

from feeds.catalogue.search_index import Hit, index_ready, newest_for, open_reader
from feeds.catalogue.store import FILE_NAME
from feeds.config import Config, FeedSpec
from feeds.render.formats import FeedAddress, entry_template, fill, render_documents
from feeds.render.search_page import Notice, render_search_page
from feeds.render.views import view_entries
from feeds.text import hex_digest
from feeds.tree.reader import CONTENT_TYPES
from feeds.tree.status import read_status
from feeds.tree.urls import FEED_FORMATS, absolute, search_feed_id
from feeds.web.conditional import evaluate

log = logging.getLogger("feeds")

LIMIT = 50  # the newest matches a page or feed shows
MAX_QUERY = 200  # characters
SLOTS = 4  # searches at once, per process; the index's work is done outside the GIL
MAX_AGE = 60  # seconds at most that a client may keep an answer (less with a shorter schedule)
BUSY_RETRY = "1"  # seconds: the searches in hand take milliseconds
BUILDING_RETRY = "5"  # seconds, as for a feed not published yet
# The results page carries no third-party HTML: titles and summaries are plain text.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none';"
    " frame-ancestors 'none'"
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_BAD_QUERY = (
    b"400 Bad Request: give the words to search for in `q`: at most 200 characters,"
    b" without control characters\n"
)
_BUSY = b"503 Service Unavailable: too many searches at once; try again shortly\n"
_BUILDING = b"503 Service Unavailable: the search index is being built; try again shortly\n"


class Unavailable(Exception):
    """Nothing to search yet: no catalogue, or a first build still filling its index; or
    the builder holds the catalogue for a moment."""


def search_state(config: Config) -> str:
    """What /healthz says of search: "ready", or "filling" while a first build fills the
    index (searches answer 503 until then)."""
    try:
        with _index_reader(config.state.dir):
            return "ready"
    except (Unavailable, sqlite3.DatabaseError):  # also a catalogue being set aside
        return "filling"


@contextlib.contextmanager
def _index_reader(state: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the catalogue, once its index holds every article;
    Unavailable before, or while the builder holds it."""
    if read_status(state) is None:
        raise Unavailable  # the first build has not finished: its catalogue is partial
    try:
        connection = open_reader(state / FILE_NAME)
    except sqlite3.OperationalError as exc:
        raise Unavailable from exc
    try:
        if not index_ready(connection):
            raise Unavailable  # a first build fills it once the feeds are out
        yield connection
    except sqlite3.OperationalError as exc:
        # Locked by a first build's commit, or a catalogue from before the index: the
        # builder is about to finish either.
        log.debug("search unavailable for now: %s", exc)
        raise Unavailable from exc
    finally:
        connection.close()


def add_search(app: Flask, config: Config, *, slots: int = SLOTS) -> None:
    """Answer /search and /search.atom|.rss|.json in `app`, when the site offers search
    (site.search): else they are paths like any other, not found in the tree."""
    if not config.site.search:
        return
    search = Search(config, slots)
    app.extensions["feeds.search"] = search
    for fmt in ("html", *FEED_FORMATS):
        rule = "/search" if fmt == "html" else f"/search.{fmt}"
        view = partial(search.respond, fmt)
        app.add_url_rule(
            rule, f"search_{fmt}", view, methods=["GET"], provide_automatic_options=False
        )


class Search:
    """The search endpoints of one configuration; `slots` bounds the searches at once."""

    def __init__(self, config: Config, slots: int) -> None:
        self.config = config
        self.slots = threading.BoundedSemaphore(slots)
        self.max_age = max(1, min(MAX_AGE, int(config.schedule.interval)))

    def respond(self, fmt: str) -> Response:
        """The answer to one search request, in `fmt` ("html" or a feed format)."""
        query = request.args.get("q", "")
        words = " ".join(query.split())
        if not words or len(query) > MAX_QUERY or _CONTROL.search(query):
            return self._bad_query(fmt, query)
        if not self.slots.acquire(blocking=False):
            return self._unavailable(fmt, words, "busy")
        try:
            hits = self.find(words)
            body = self._render(fmt, words, hits)
        except Unavailable:
            return self._unavailable(fmt, words, "building")
        finally:
            self.slots.release()
        return self._answer(fmt, body)

    def find(self, words: str) -> list[Hit]:
        """The newest articles holding every word; Unavailable when nothing can be read."""
        with _index_reader(self.config.state.dir) as connection:
            return newest_for(connection, words, LIMIT)

    def _render(self, fmt: str, words: str, hits: list[Hit]) -> bytes:
        site = self.config.site
        urls = {f: _search_url(site.base_url, f"search.{f}", words) for f in FEED_FORMATS}
        # The entries of the regular feeds, byte for byte, in every format and on the page.
        entries = [
            fill(hit.template or entry_template(site, hit.article), hit.article.content)
            for hit in hits
        ]
        if fmt == "html":
            results = view_entries(entries, self.config.source.timezone)
            return render_search_page(site, words, results, urls)
        title = f"{words} · {site.title}"
        spec = FeedSpec("search", title, title, (), (), LIMIT)
        page = _search_url(site.base_url, "search", words)
        address = FeedAddress(search_feed_id(words), urls, page)
        ttl_minutes = max(1, round(self.config.schedule.interval / 60))
        # No hub: nothing notifies one when a search's results change.
        return render_documents(site, spec, entries, ttl_minutes, address=address)[fmt]

    def _answer(self, fmt: str, body: bytes) -> Response:
        etag = hex_digest(body, size=12)  # as the published files' entity tags
        cache = f"public, max-age={self.max_age}"
        # No Last-Modified: a match that goes away would not make it newer.
        status = evaluate(
            request.method, etag, 0, if_none_match=request.headers.get("If-None-Match")
        )
        if status == 304:
            return Response(status=304, headers={"ETag": f'"{etag}"', "Cache-Control": cache})
        response = Response(body, content_type=CONTENT_TYPES[f".{fmt}"])
        response.headers["ETag"] = f'"{etag}"'
        response.headers["Cache-Control"] = cache
        response.headers["X-Content-Type-Options"] = "nosniff"
        if fmt == "html":
            response.headers["Content-Security-Policy"] = PAGE_POLICY
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def _bad_query(self, fmt: str, query: str) -> Response:
        if fmt != "html":
            return Response(_BAD_QUERY, 400, content_type="text/plain; charset=utf-8")
        shown = _CONTROL.sub("", query)[:MAX_QUERY]
        return self._notice_page(shown, "bad query", 400)

    def _unavailable(self, fmt: str, words: str, why: Notice) -> Response:
        """503 with Retry-After: a short text for a feed reader, the search page in the
        site's language for a person."""
        retry_after = BUSY_RETRY if why == "busy" else BUILDING_RETRY
        if fmt == "html":
            response = self._notice_page(words, why, 503)
        else:
            message = _BUSY if why == "busy" else _BUILDING
            response = Response(message, 503, content_type="text/plain; charset=utf-8")
        response.headers["Retry-After"] = retry_after
        response.headers["Cache-Control"] = "no-store"
        return response

    def _notice_page(self, query: str, notice: Notice, status: int) -> Response:
        """The search page saying why it shows no results, with that status."""
        page = render_search_page(self.config.site, query, (), None, notice=notice)
        response = Response(page, status, content_type=CONTENT_TYPES[".html"])
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        return response


def _search_url(base_url: str, path: str, words: str) -> str:
    return absolute(base_url, path) + "?q=" + quote(words, safe="")
