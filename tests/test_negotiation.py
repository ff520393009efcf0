"""A feed's address serves feed readers and browsers alike: a reader gets the feed's bytes
exactly as published, a browser (its Accept prefers text/html) the feed's HTML view. The
same table of Accept headers runs through the web app on the real server and through
config/nginx.conf on the real nginx."""

import gzip

import pytest
from server import nginx_serving, running
from sites import make_site

from feeds.web.app import create_app
from feeds.web.negotiation import prefers_page

CHROMIUM = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# (Accept, whether it gets the view); None sends no Accept at all.
ACCEPTS = [
    (CHROMIUM, True),
    (FIREFOX, True),
    ("text/html", True),
    ("TEXT/HTML", True),
    (None, False),
    ("*/*", False),
    ("application/atom+xml", False),
    ("application/rss+xml", False),
    ("application/json", False),
    ("application/feed+json", False),
    ("application/atom+xml,application/rss+xml;q=0.9,*/*;q=0.8", False),
    (
        "application/rss+xml, application/rdf+xml;q=0.8, application/atom+xml;q=0.6, "
        "application/xml;q=0.4, text/xml;q=0.4",
        False,
    ),
    ("application/atom+xml, text/html", False),  # a tie: a reader never gets a page
    ("application/xml, text/html", False),
    ("text/html;q=0.5, */*", False),
]
FEEDS = ["feeds/finance.atom", "feeds/finance.rss", "feeds/finance.json"]
VIEW = "feeds/finance.html"


@pytest.mark.parametrize(("accept", "view"), ACCEPTS)
def test_a_page_is_chosen_only_when_ranked_above_every_feed_type(accept, view):
    assert prefers_page(accept or "") is view


@pytest.mark.parametrize(
    "accept",
    ["text/html;q=0.1, */*", "text/html;q=2", "text/html;q=x", "text/*;q=0.1", "html", ",,;"],
)
def test_odd_accept_headers_get_the_feed(accept):
    assert not prefers_page(accept)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = make_site(tmp_path_factory.mktemp("negotiation"))
    assert site.build().ok
    return site


@pytest.fixture(scope="module", params=["app", "nginx"])
def server(request, site, tmp_path_factory):
    """The web app on the real WSGI server, or nginx with config/nginx.conf."""
    if request.param == "app":
        with running(create_app(site.config())) as server:
            yield server
    else:
        with nginx_serving(site.public, tmp_path_factory.mktemp("nginx") / "run") as server:
            yield server


def _get(server, path, accept, **headers):
    sent = dict(headers)
    if accept is not None:
        sent["Accept"] = accept
    return server.request("/" + path, headers=sent)


@pytest.mark.slow
@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.parametrize(("accept", "view"), ACCEPTS)
def test_readers_get_the_feed_and_browsers_its_view(server, site, path, accept, view):
    reply = _get(server, path, accept)
    assert reply.status == 200
    expected = VIEW if view else path
    assert reply.body == (site.public / expected).read_bytes()
    html = reply.headers["content-type"] == "text/html; charset=utf-8"
    assert html is view
    assert reply.headers["vary"] == "Accept, Accept-Encoding"


@pytest.mark.slow
@pytest.mark.parametrize("path", FEEDS)
def test_each_representation_has_its_own_etag_and_answers_its_own_304(server, path):
    feed, page = _get(server, path, None), _get(server, path, CHROMIUM)
    assert feed.headers["etag"] != page.headers["etag"]
    for accept, etag in ((None, feed.headers["etag"]), (CHROMIUM, page.headers["etag"])):
        again = _get(server, path, accept, **{"If-None-Match": etag})
        assert again.status == 304 and again.body == b""
        assert again.headers["etag"] == etag
        assert again.headers["vary"] == "Accept, Accept-Encoding"
    # The other representation's tag does not match: the full response comes back.
    crossed = _get(server, path, None, **{"If-None-Match": page.headers["etag"]})
    assert crossed.status == 200 and crossed.body == feed.body
    crossed = _get(server, path, CHROMIUM, **{"If-None-Match": feed.headers["etag"]})
    assert crossed.status == 200 and crossed.body == page.body


@pytest.mark.slow
def test_head_and_gzip_work_for_the_view(server, site):
    view = (site.public / VIEW).read_bytes()
    head = server.request("/feeds/finance.atom", "HEAD", headers={"Accept": CHROMIUM})
    assert head.status == 200 and head.body == b""
    assert head.headers["content-type"] == "text/html; charset=utf-8"
    assert head.headers["content-length"] == str(len(view))
    zipped = _get(server, "feeds/finance.atom", CHROMIUM, **{"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == view
    plain = _get(server, "feeds/finance.atom", CHROMIUM)
    assert zipped.headers["etag"] != plain.headers["etag"]
    again = _get(
        server,
        "feeds/finance.atom",
        CHROMIUM,
        **{"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]},
    )
    assert again.status == 304


@pytest.mark.slow
def test_the_view_at_its_own_address_may_run_its_script_and_search(server, site):
    reply = _get(server, VIEW, None)
    assert reply.status == 200 and reply.body == (site.public / VIEW).read_bytes()
    policy = reply.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "form-action 'self'" in policy
    assert "default-src 'none'" in policy
    script = _get(server, "subscribe.js", None)
    assert script.status == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.body == (site.public / "subscribe.js").read_bytes()
    index = _get(server, "", CHROMIUM)
    assert "form-action 'self'" in index.headers["content-security-policy"]
    article = _get(server, "articles/000_d56c9c7e6769d062.html", CHROMIUM)
    assert "script-src" not in article.headers["content-security-policy"]
    assert "form-action 'none'" in article.headers["content-security-policy"]


@pytest.mark.slow
def test_a_missing_feed_is_404_for_a_browser_too(server):
    assert _get(server, "feeds/missing.atom", CHROMIUM).status == 404
    assert _get(server, "feeds/missing.html", CHROMIUM).status == 404
