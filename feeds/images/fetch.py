"""One image fetched for the proxy: a plain GET with no Referer and no cookie, redirects
followed only to allowed hosts, a size cap, and one deadline for the whole exchange.

The standard library's http.client, not urllib: it takes no proxy from the environment,
keeps no cookie jar and follows nothing by itself, so nothing is sent that is not below.
"""

from __future__ import annotations

import functools
import http.client
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, quote, urljoin, urlsplit

from werkzeug.http import parse_date

from feeds import __version__
from feeds.text import hex_digest

MAX_REDIRECTS = 3
USER_AGENT = f"feeds/{__version__} (image proxy)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_GONE = frozenset({404, 410})
_CHUNK = 64 * 1024
_STRONG_ETAG = re.compile(r'"([\x21\x23-\x7e\x80-\xff]+)"')  # RFC 9110 §8.8.3
_URL_SAFE = "/%!$&'()*+,;=:@-._~"  # kept as they are; anything else is percent-encoded


@dataclass(frozen=True)
class Image:
    """An image as the proxy serves it."""

    body: bytes = field(repr=False)
    content_type: str  # image/..., without parameters
    etag: str  # strong, without quotes: upstream's, else a digest of the body
    last_modified: int | None  # epoch seconds, when upstream said


class Refused(Exception):
    """Why an image is not passed on, with the status the proxy answers."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def fetch(url: str, allowed: Callable[[str], bool], *, max_bytes: int, timeout: float) -> Image:
    """The image at `url`, or Refused: 404 when upstream has none, 504 when it takes longer
    than `timeout` seconds in all, 502 for anything else that is not an image to pass on."""
    deadline = _Deadline(timeout)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            answer = _get(urlsplit(url), deadline, max_bytes)
            if isinstance(answer, Image):
                return answer
            url = urljoin(url, answer)
            if not allowed(url):
                raise Refused(502, "redirected to a host not in images.hosts")
        raise Refused(502, f"more than {MAX_REDIRECTS} redirects")
    finally:
        deadline.cancel()


def _get(parts: SplitResult, deadline: _Deadline, max_bytes: int) -> Image | str:
    """One request: the image, or where a redirect points."""
    connection = _connection(parts, deadline.remaining())
    response: http.client.HTTPResponse | None = None
    try:
        connection.connect()  # bounded by the socket timeout (name resolution is not)
        # The socket itself: with "Connection: close", the response takes it over.
        deadline.guard(connection.sock)
        connection.putrequest("GET", _target(parts))
        connection.putheader("User-Agent", USER_AGENT)
        connection.putheader("Accept", "image/*")
        connection.putheader("Connection", "close")
        connection.endheaders()
        response = connection.getresponse()
        if response.status in _REDIRECTS:
            location = response.getheader("Location")
            if not location:
                raise Refused(502, f"upstream answered {response.status} with no Location")
            return location.strip()
        if response.status != 200:
            status = 404 if response.status in _GONE else 502
            raise Refused(status, f"upstream answered {response.status}")
        content_type = response.headers.get_content_type()
        if not content_type.startswith("image/"):
            raise Refused(502, f"upstream sent {content_type}, not an image")
        if response.length is not None and response.length > max_bytes:
            raise Refused(502, f"image over images.max_bytes ({max_bytes} bytes)")
        body = _read(response, max_bytes)
        if deadline.expired:  # cut off at the deadline, which looks like the end of the body
            raise TimeoutError
        return Image(body, content_type, _etag(response, body), _last_modified(response))
    except (OSError, http.client.HTTPException) as exc:
        if deadline.expired or isinstance(exc, TimeoutError):
            raise Refused(504, "upstream too slow") from None
        raise Refused(502, f"upstream failed ({type(exc).__name__})") from None
    finally:
        deadline.guard(None)
        if response is not None:
            response.close()
        connection.close()


def _connection(parts: SplitResult, timeout: float) -> http.client.HTTPConnection:
    host = parts.hostname or ""
    if parts.scheme == "https":
        return http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=_tls())
    return http.client.HTTPConnection(host, parts.port, timeout=timeout)


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()  # loading the CA store takes milliseconds: once


def _target(parts: SplitResult) -> str:
    """The request target, with what http.client refuses (spaces, non-ASCII) encoded."""
    path = quote(parts.path or "/", safe=_URL_SAFE)
    return path + ("?" + quote(parts.query, safe=_URL_SAFE + "?") if parts.query else "")


def _read(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    # read1: one socket read at a time, so the deadline is seen between them.
    while chunk := response.read1(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise Refused(502, f"image over images.max_bytes ({max_bytes} bytes)")
        chunks.append(chunk)
    body = b"".join(chunks)
    if response.length:  # fewer bytes than Content-Length announced
        raise http.client.IncompleteRead(body, response.length)
    return body


def _etag(response: http.client.HTTPResponse, body: bytes) -> str:
    found = _STRONG_ETAG.fullmatch((response.getheader("ETag") or "").strip())
    return found[1] if found else hex_digest(body, size=12)


def _last_modified(response: http.client.HTTPResponse) -> int | None:
    value = response.getheader("Last-Modified")
    moment = parse_date(value) if value else None
    return int(moment.timestamp()) if moment is not None else None


class _Deadline:
    """One deadline for a whole fetch. When it passes, the socket in use is shut down,
    whatever it is blocked in: a socket timeout alone restarts at every read, so an
    upstream that trickles a byte at a time would never hit it."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise Refused(504, "upstream too slow")
        return left

    def guard(self, sock: socket.socket | None) -> None:
        """Watch `sock` (None: stop watching the last one)."""
        with self._lock:
            if self.expired and sock is not None:
                raise TimeoutError
            self._sock = sock

    def _expire(self) -> None:
        with self._lock:  # guard(None) waits, so the socket is not closed under us
            self.expired = True
            if self._sock is not None:
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cancel(self) -> None:
        self._timer.cancel()
