"""create_app(config) -> the Flask app that serves the published tree to feed readers.

Published files are answered by a small WSGI layer in front of Flask: feed readers poll
every few minutes, for years, so the common path (a cached document or a 304) does as
little work per request as possible. A browser that opens a feed's address gets the
feed's view instead (feeds.web.negotiation). Everything else (/healthz, /metrics, the image
proxy, 404, 405) is Flask's. Error pages are HTML in the site's language. No side effects
at import; creating the app reads nothing from disk, except the image proxy's key when
the proxy is on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import HTTPException

from feeds.config import Config, SiteConfig
from feeds.render.pages import render_error_page
from feeds.tree.reader import PublishedTree, Representation, Resource
from feeds.tree.status import BuilderActivity, read_activity, read_status
from feeds.tree.urls import FEED_FORMATS, feed_of, feed_view_path
from feeds.web.conditional import evaluate
from feeds.web.image_proxy import add_image_proxy
from feeds.web.metrics import BuildMetrics, RequestCounts, create_registry
from feeds.web.negotiation import prefers_page
from feeds.web.search import add_search, search_state

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

ALLOWED = "GET, HEAD"
RETRY_AFTER = "5"  # seconds a reader is asked to wait for a tree still being built
PAGE_TYPE = "text/html; charset=utf-8"
_GZIP_REFUSED = re.compile(r"(?:^|,)\s*gzip\s*;\s*q\s*=\s*0(?:\.0*)?\s*(?:,|$)", re.I)
_GZIP_OR_ANY = re.compile(r"(?:^|,)\s*(?:gzip|x-gzip|\*)\s*(?:;|,|$)", re.I)


def create_app(
    config: Config,
    *,
    builds: BuildMetrics | None = None,
    builder: BuilderActivity | None = None,
) -> Flask:
    """The web app for one configuration: published files, /healthz, /metrics, and errors
    as text. `builds`: the metrics of the builds this process runs (None when it only serves);
    `builder`: what this process's builder is doing (None: read it from the state dir).
    """
    app = Flask(__name__)
    app.config["FEEDS"] = config
    max_age = max(1, int(config.schedule.interval))
    tree = PublishedTree(
        config.output.dir,
        max_age=max_age,
        building=lambda: read_status(config.state.dir) is None,
    )
    requests = RequestCounts()
    registry = create_registry(requests, builds, config.state.dir)
    app.extensions["feeds.web.metrics"] = registry

    def healthz() -> tuple[Response, int]:
        code, fields = health(config, builder, lambda: tree.lookup("index.html") is not None)
        response = jsonify(fields)
        response.headers["Cache-Control"] = "no-store"
        return response, code

    app.add_url_rule(
        "/healthz", "healthz", healthz, methods=["GET"], provide_automatic_options=False
    )

    def metrics() -> Response:
        response = Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
        response.headers["Cache-Control"] = "no-store"
        return response

    app.add_url_rule(
        "/metrics", "metrics", metrics, methods=["GET"], provide_automatic_options=False
    )

    add_image_proxy(app, config)  # only when images.proxy is on
    add_search(app, config)

    pages = ErrorPages(config.site)

    @app.errorhandler(HTTPException)
    def error_page(error: HTTPException) -> Response:
        code = error.code or 500
        response = Response(pages(code), code, content_type=PAGE_TYPE)
        if code == 405:
            response.headers["Allow"] = ALLOWED
        return response

    app.wsgi_app = PublishedFiles(tree, app.wsgi_app, pages, requests)  # type: ignore[method-assign]
    return app


class ErrorPages:
    """The error pages of one site, in its language, each rendered when first needed."""

    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        self._pages: dict[int, bytes] = {}  # a few dozen status codes at most

    def __call__(self, code: int) -> bytes:
        page = self._pages.get(code)
        if page is None:  # two threads may both render it: the same bytes
            page = self._pages[code] = render_error_page(self.site, code)
        return page


def health(
    config: Config, builder: BuilderActivity | None, serving: Callable[[], bool]
) -> tuple[int, dict[str, Any]]:
    """/healthz: the last finished build (200), unless the builder cannot build (503 with
    the reason). Before any build finished, what the builder is doing: 200 once the tree
    serves its index page, which a publish writes after every feed (a first build of a
    large archive publishes the feeds before the rest, and a health check must not take
    down the server that answers their readers), 503 before."""
    status = read_status(config.state.dir)
    activity = builder.current() if builder is not None else read_activity(config.state.dir)
    if activity is not None and activity.state == "failed":
        return 503, {"status": "failing", "reason": activity.detail, "last_build": status}
    if status is not None:
        fields = {"status": "ok" if status.get("ok") else "degraded", "last_build": status}
        if config.site.search:
            fields["search"] = search_state(config)
        return 200, fields
    code = 200 if serving() else 503
    if activity is not None and activity.state in ("settling", "building"):
        progress = {"done": activity.done, "total": activity.total}
        detail = activity.detail or "the first build is running"
        return code, {"status": "building", "detail": detail, "progress": progress}
    return code, {"status": "starting", "detail": "no build has finished yet"}


class PublishedFiles:
    """WSGI layer answering requests for published files; passes everything else on.
    Counts every response by status code, its own and the fallback's."""

    def __init__(
        self,
        tree: PublishedTree,
        fallback: WSGIApp,
        pages: Callable[[int], bytes],
        requests: RequestCounts | None = None,
    ) -> None:
        self.tree = tree
        self.fallback = fallback
        self.pages = pages  # the error page of a status code
        self.requests = requests or RequestCounts()
        self._counts = self.requests.published  # bound once: the hot path skips a lookup

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = _request_path(environ.get("PATH_INFO", ""))
        resource = None if path is None else self.tree.lookup(path)
        if resource is None:
            if path is not None and self.tree.pending(path):
                return self._unavailable(environ, start_response)
            return self._fall_back(environ, start_response)
        counts = self._counts
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            counts[405] += 1
            page = self.pages(405)
            start_response(
                "405 Method Not Allowed",
                [
                    ("Allow", ALLOWED),
                    ("Content-Type", PAGE_TYPE),
                    ("Content-Length", str(len(page))),
                ],
            )
            return [page]
        if path is not None:  # a feed's address: its view for a browser
            resource = self._view_for(path, environ.get("HTTP_ACCEPT", "")) or resource
        representation = _negotiate(resource, environ.get("HTTP_ACCEPT_ENCODING", ""))
        status = evaluate(
            method,
            representation.etag,
            resource.last_modified,
            if_match=environ.get("HTTP_IF_MATCH"),
            if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
            if_modified_since=environ.get("HTTP_IF_MODIFIED_SINCE"),
            if_unmodified_since=environ.get("HTTP_IF_UNMODIFIED_SINCE"),
        )
        if status == 304:
            counts[304] += 1
            start_response("304 Not Modified", _not_modified_headers(representation))
            return []
        if status == 412:
            counts[412] += 1
            start_response("412 Precondition Failed", [("Content-Length", "0")])
            return []
        counts[200] += 1
        start_response("200 OK", list(representation.headers))
        return [] if method == "HEAD" else [representation.body]

    def _view_for(self, path: str, accept: str) -> Resource | None:
        """The view of the feed document at `path`, when the request prefers a page."""
        feed = feed_of(path)
        if feed is None or feed[1] not in FEED_FORMATS or not prefers_page(accept):
            return None
        return self.tree.lookup(feed_view_path(feed[0]))

    def _fall_back(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        counts = self.requests.app

        def counting_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            code = int(status[:3])
            counts[code] = counts.get(code, 0) + 1
            return start_response(status, headers, exc_info)

        return self.fallback(environ, counting_start_response)

    def _unavailable(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """503 for a document that is not published yet, but will be: before the first
        publish of a tree, a feed reader must not take a 404 or an empty feed for an answer."""
        self._counts[503] += 1
        page = self.pages(503)
        start_response(
            "503 Service Unavailable",
            [
                ("Retry-After", RETRY_AFTER),
                ("Cache-Control", "no-store"),
                ("Content-Type", PAGE_TYPE),
                ("Content-Length", str(len(page))),
            ],
        )
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [page]


def _request_path(path_info: str) -> str | None:
    """The request path without its leading "/", or None when it names no file."""
    try:
        # WSGI hands over the decoded path as latin-1; the real bytes are UTF-8.
        path = path_info.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None
    return path[1:] if path.startswith("/") else None


def _negotiate(resource: Resource, accept_encoding: str) -> Representation:
    if resource.gzip is not None and _accepts_gzip(accept_encoding):
        return resource.gzip
    return resource.identity


def _accepts_gzip(accept_encoding: str) -> bool:
    return bool(_GZIP_OR_ANY.search(accept_encoding)) and not _GZIP_REFUSED.search(accept_encoding)


# RFC 9110 §15.4.5: a 304 carries the validators and caching headers a 200 would have.
_KEPT_ON_304 = frozenset({"ETag", "Last-Modified", "Cache-Control", "Vary", "Content-Location"})


def _not_modified_headers(representation: Representation) -> list[tuple[str, str]]:
    return [(name, value) for name, value in representation.headers if name in _KEPT_ON_304]
