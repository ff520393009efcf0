"""The image proxy's endpoint, `/images/<signature>/<name>`: checks the signed URL, fetches
the image from an allowlisted host (once: recent images are kept in memory), and answers
with long-lived caching headers and conditional requests.

Never an open proxy: only URLs this site signed, and only on `images.hosts`, are fetched,
with no Referer or cookie; redirects are followed only to those hosts. The upstream
request itself is feeds.images.fetch's.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

from flask import Flask, Response, request
from werkzeug.http import http_date

from feeds.config import Config
from feeds.images.fetch import Image, Refused, fetch
from feeds.images.signing import ImageSigner, image_signer, url_of
from feeds.web.conditional import evaluate

log = logging.getLogger("feeds.images.signing")

MAX_AGE = 7 * 24 * 3600  # an image at a given URL practically never changes
CACHE_BYTES = 64 * 1024 * 1024
# Camo's policy (GitHub's image proxy): nothing in an image opened on its own can run, an
# SVG's script included; inline style and data: images keep browsers' image viewers working.
_SECURITY = (
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'"),
)
_KEPT_ON_304 = frozenset({"ETag", "Last-Modified", "Cache-Control"})

Outcome = Image | Refused


class ImageCache:
    """The most recently used images, up to a number of bytes in all. A URL that several
    requests want at once is fetched once: the others wait for that fetch's outcome."""

    def __init__(self, capacity: int = CACHE_BYTES) -> None:
        self.capacity = capacity
        self._images: OrderedDict[str, Image] = OrderedDict()
        self._size = 0
        self._fetching: dict[str, Future[Outcome]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, fetch: Callable[[], Image]) -> Outcome:
        """The image at `url` from the cache, else what `fetch` gives (kept if an image)."""
        with self._lock:
            image = self._images.get(url)
            if image is not None:
                self._images.move_to_end(url)
                return image
            pending = self._fetching.get(url)
            if pending is None:
                pending = self._fetching[url] = Future()
                mine = True
            else:
                mine = False
        if not mine:
            return pending.result()
        try:
            outcome: Outcome = fetch()
        except Refused as refused:
            outcome = refused
        except BaseException as exc:
            with self._lock:
                del self._fetching[url]
            pending.set_exception(exc)
            raise
        with self._lock:  # kept before it stops being fetched: no request misses both
            if isinstance(outcome, Image):
                self._keep(url, outcome)
            del self._fetching[url]
        pending.set_result(outcome)
        return outcome

    def _keep(self, url: str, image: Image) -> None:
        """Add an image, dropping the least recently used ones past the capacity (locked)."""
        size = len(image.body)
        if size > self.capacity:
            return
        self._images[url] = image
        self._size += size
        while self._size > self.capacity:
            _, oldest = self._images.popitem(last=False)
            self._size -= len(oldest.body)


class ImageProxy:
    """Answers the proxy's requests for one configuration."""

    def __init__(self, signer: ImageSigner, config: Config, cache: ImageCache | None = None):
        self.signer = signer
        self.max_bytes = config.images.max_bytes
        self.timeout = config.images.timeout
        self.cache = cache or ImageCache()

    def respond(self, signature: str, name: str) -> Response:
        """The response to a GET or HEAD of `/images/<signature>/<name>` (Flask's request)."""
        url = url_of(name)
        if url is None:
            return _refusal(404, "not an image proxy URL")
        if not self.signer.verify(signature, url):
            return _refusal(403, "bad signature")
        if not self.signer.allows(url):
            # Signed, perhaps with images.hosts as it was: still never fetched.
            return _refusal(403, "host not allowed")
        outcome = self.cache.get(url, lambda: self._fetch(url))
        if isinstance(outcome, Refused):
            return _refusal(outcome.status, outcome.reason)
        return _answer(outcome)

    def _fetch(self, url: str) -> Image:
        try:
            return fetch(url, self.signer.allows, max_bytes=self.max_bytes, timeout=self.timeout)
        except Refused as refused:
            log.warning("image proxy: %s: %s", url, refused.reason)
            raise


def _answer(image: Image) -> Response:
    headers = [
        ("ETag", f'"{image.etag}"'),
        ("Cache-Control", f"public, max-age={MAX_AGE}"),
        *_SECURITY,
    ]
    if image.last_modified is not None:
        headers.append(("Last-Modified", http_date(image.last_modified)))
    dated = image.last_modified is not None
    status = evaluate(
        request.method,
        image.etag,
        image.last_modified or 0,
        if_match=request.headers.get("If-Match"),
        if_none_match=request.headers.get("If-None-Match"),
        if_modified_since=request.headers.get("If-Modified-Since") if dated else None,
        if_unmodified_since=request.headers.get("If-Unmodified-Since") if dated else None,
    )
    if status == 304:
        return Response(status=304, headers=[h for h in headers if h[0] in _KEPT_ON_304])
    if status == 412:
        return Response(status=412)
    return Response(image.body, 200, headers=headers, content_type=image.content_type)


def _refusal(status: int, reason: str) -> Response:
    # Never cached: the next request may find the upstream well again.
    response = Response(f"{status} {reason}\n", status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    response.headers.extend(_SECURITY)
    return response


def add_image_proxy(app: Flask, config: Config) -> ImageProxy | None:
    """Serve `/images/<signature>/<name>` when `images.proxy` is on (reads or makes the key)."""
    signer = image_signer(config)
    if signer is None:
        return None
    proxy = ImageProxy(signer, config)
    app.add_url_rule(
        "/images/<signature>/<name>",
        "images",
        proxy.respond,
        methods=["GET"],
        provide_automatic_options=False,
    )
    return proxy
