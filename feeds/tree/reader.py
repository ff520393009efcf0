"""The published tree as the web app sees it: only what the publisher listed in its
manifest, read into memory once per version of each file, with headers prepared.

Serving only manifest paths means no request path, however encoded, can reach a file
the publisher did not write: `../`, `%2e%2e`, `%00`, hidden files and the state dir are
simply not in the list. Every file is read whole from one open file descriptor, and the
publisher replaces files with os.replace, so a response is always one complete version.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from werkzeug.http import http_date

from feeds.text import hex_digest
from feeds.tree.manifest import MANIFEST, Manifest, open_lookup
from feeds.tree.urls import feed_of
from feeds.tree.writer import COMPRESSIBLE, gzip_bytes

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "text/x-opml; charset=utf-8",  # opml.xml is the only .xml the publisher writes
    ".txt": "text/plain; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",  # subscribe.js, the feed views' copy button
}
# Article pages carry third-party HTML: even sanitised, it gets no script, no plugins,
# no forms, and images load without a Referer (Sina refuses hotlinks that send one).
HTML_POLICY = (
    "default-src 'none'; img-src http: https:; media-src http: https:; "
    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The site's own pages (the index, the feeds' views) hold text and links, a search box and
# the subscribe box's script, which is served from the site itself.
SITE_PAGE_POLICY = (
    "default-src 'none'; img-src http: https:; style-src 'unsafe-inline'; "
    "script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024
# The files the publisher writes at the top of the tree (index.html, opml.xml, robots.txt,
# subscribe.js) end so; the rest are under feeds/ and articles/.
SITE_SUFFIXES = (".html", ".xml", ".txt", ".js")

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Representation:
    """One encoding of a resource: its bytes, entity tag and response headers."""

    body: bytes
    etag: str  # without quotes
    headers: Headers  # everything but the status line, for a 200


@dataclass(frozen=True)
class Resource:
    """A published file, ready to serve."""

    identity: Representation
    gzip: Representation | None  # None for files that are not worth compressing
    last_modified: int  # whole epoch seconds, as sent in Last-Modified
    stamp: tuple[int, int, int]  # (inode, mtime_ns, size) of the version read

    @property
    def size(self) -> int:
        return len(self.identity.body) + (len(self.gzip.body) if self.gzip else 0)


class PublishedTree:
    """Looks up request paths in the publisher's manifest and caches what it reads."""

    def __init__(
        self,
        root: Path,
        max_age: int,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        *,
        building: Callable[[], bool] = lambda: False,
    ) -> None:
        """`building`: whether the tree's first build has not finished yet (the articles
        whose feeds are out may be published before the others; see feeds.build.ahead)."""
        self.root = root
        self._building = building
        self.max_age = max_age
        self.cache_bytes = cache_bytes
        self._lock = threading.Lock()
        self._lookups = threading.local()  # each thread's connection to the manifest
        self._cache: dict[str, Resource] = {}
        self._cached_bytes = 0

    def lookup(self, path: str) -> Resource | None:
        """The resource published at a request path (without its leading "/"), or None."""
        if path == "":
            path = "index.html"
        if not self._listed(path):
            return None
        target = os.path.join(self.root, path)
        try:
            stat = os.stat(target)
        except OSError:
            return None
        cached = self._cache.get(path)
        if cached is not None and cached.stamp == (stat.st_ino, stat.st_mtime_ns, stat.st_size):
            return cached
        resource = self._load(path, target)
        if resource is not None:
            self._remember(path, resource)
        return resource

    def pending(self, path: str) -> bool:
        """Whether a path that is not served now soon will be: nothing is listed yet and
        the path has the shape of a published file, or the path is listed (the publisher
        lists a file before it writes it) but no file is there yet, or the path is an
        article page's and the first build is still publishing them."""
        if path == "":
            path = "index.html"
        if self._nothing_listed():
            return path.startswith(("feeds/", "articles/")) or (
                "/" not in path and path.endswith(SITE_SUFFIXES)
            )
        if self._listed(path):
            return not os.path.lexists(self.root / path)
        return path.startswith("articles/") and self._building()

    def _nothing_listed(self) -> bool:
        """Whether the manifest lists no path: there is none, or a first publish has made
        it and not yet listed what it writes."""
        lookup = self._lookup()
        if lookup is None:
            return True
        try:
            return not lookup.lists_anything()
        except sqlite3.Error:
            return True  # being made (no table yet), or damaged: the builder makes it anew

    def _listed(self, path: str) -> bool:
        """Whether the manifest lists a path (asked of SQLite: the list is never read whole)."""
        lookup = self._lookup()
        if lookup is None:
            return False
        try:
            return path in lookup
        except sqlite3.Error:
            return False  # mid-replacement or damaged: served again once the builder mends it

    def _lookup(self) -> Manifest | None:
        """This thread's connection to the manifest; a new one when the file was replaced
        (a wiped tree published again)."""
        try:
            inode = os.stat(self.root / MANIFEST).st_ino
        except OSError:
            return None  # nothing published yet
        held: tuple[int, Manifest | None] | None = getattr(self._lookups, "held", None)
        if held is not None and held[0] == inode:
            return held[1]
        if held is not None and held[1] is not None:
            held[1].close()
        lookup = open_lookup(self.root)
        self._lookups.held = (inode, lookup)
        return lookup

    def _load(self, path: str, target: str) -> Resource | None:
        real_root = os.path.realpath(self.root)
        if os.path.commonpath([real_root, os.path.realpath(target)]) != real_root:
            return None  # a symlink planted in the output dir: never followed out
        try:
            with open(target, "rb") as handle:
                stat = os.fstat(handle.fileno())
                body = handle.read()
        except OSError:
            return None
        last_modified = int(stat.st_mtime)
        compressible = path.endswith(COMPRESSIBLE)  # a page without a twin is gzipped here
        identity = self._representation(body, path, last_modified, None)
        twin = None
        if compressible:
            twin = self._representation(self._gzip_twin(target, body), path, last_modified, "gzip")
        return Resource(identity, twin, last_modified, (stat.st_ino, stat.st_mtime_ns, len(body)))

    @staticmethod
    def _gzip_twin(target: str, body: bytes) -> bytes:
        # The twin is replaced just before its document; if it belongs to another version,
        # compress this one here rather than serve a mixed pair.
        try:
            with open(target + ".gz", "rb") as handle:
                twin = handle.read()
            if gzip.decompress(twin) == body:
                return twin
        except (OSError, EOFError, gzip.BadGzipFile):
            pass
        return gzip_bytes(body)

    def _representation(
        self, body: bytes, path: str, last_modified: int, encoding: str | None
    ) -> Representation:
        suffix = os.path.splitext(path)[1]
        etag = hex_digest(body, size=12)
        content_type = CONTENT_TYPES.get(suffix, "application/octet-stream")
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("ETag", f'"{etag}"'),
            ("Last-Modified", http_date(last_modified)),
            ("Cache-Control", f"public, max-age={self.max_age}"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if encoding is not None:
            headers.append(("Content-Encoding", encoding))
        # A feed's address answers with the feed or its view, by Accept (feeds.web.negotiation):
        # both say so, the view at its own address too, as it is the same page.
        if feed_of(path) is not None:
            headers.append(("Vary", "Accept, Accept-Encoding"))
        elif path.endswith(COMPRESSIBLE):
            headers.append(("Vary", "Accept-Encoding"))
        if suffix == ".html":
            own = not path.startswith("articles/")
            headers.append(("Content-Security-Policy", SITE_PAGE_POLICY if own else HTML_POLICY))
            headers.append(("Referrer-Policy", "no-referrer"))
        return Representation(body, etag, tuple(headers))

    def _remember(self, path: str, resource: Resource) -> None:
        if resource.size > self.cache_bytes // 4:
            return  # one huge file must not flush everything else
        with self._lock:
            old = self._cache.pop(path, None)
            if old is not None:
                self._cached_bytes -= old.size
            # Oldest first out: dicts keep insertion order.
            while self._cache and self._cached_bytes + resource.size > self.cache_bytes:
                evicted = self._cache.pop(next(iter(self._cache)))
                self._cached_bytes -= evicted.size
            self._cache[path] = resource
            self._cached_bytes += resource.size
