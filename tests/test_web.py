"""The web app on the real WSGI server, over real HTTP on 127.0.0.1."""

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import closing
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import feedparser
import pytest
from feedcheck import assert_parses_cleanly, assert_valid_json_feed
from server import Recorder, running
from sites import article_text, make_site

from feeds.tree.manifest import Manifest
from feeds.tree.status import BuilderActivity
from feeds.web.app import create_app

CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
schedule: {interval: 90}
feeds:
  - {slug: finance, title: 金融, categories: [金融]}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = make_site(tmp_path_factory.mktemp("web"), config=CONFIG)
    assert site.build().ok
    return site


@pytest.fixture(scope="module")
def server(site):
    with running(create_app(site.config())) as server:
        yield server


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/feeds/all.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/all.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/all.json", "application/feed+json; charset=utf-8"),
        ("/opml.xml", "text/x-opml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/articles/000_d56c9c7e6769d062.html", "text/html; charset=utf-8"),
        ("/robots.txt", "text/plain; charset=utf-8"),
    ],
)
def test_published_documents_are_served_with_their_types(server, site, path, content_type):
    reply = server.request(path)
    assert reply.status == 200
    assert reply.headers["content-type"] == content_type
    published = site.public / (path[1:] or "index.html")
    assert reply.body == published.read_bytes()
    assert reply.headers["content-length"] == str(len(reply.body))
    assert reply.headers["cache-control"] == "public, max-age=90"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["etag"].startswith('"') and reply.headers["etag"].endswith('"')


def test_every_format_parses(server):
    assert_parses_cleanly(server.request("/feeds/finance.atom").body)
    assert_parses_cleanly(server.request("/feeds/finance.rss").body)
    assert_valid_json_feed(server.request("/feeds/finance.json").body)


def test_last_modified_is_the_feeds_updated_time(server):
    reply = server.request("/feeds/all.atom")
    updated = datetime.fromisoformat(feedparser.parse(reply.body).feed.updated)
    assert parsedate_to_datetime(reply.headers["last-modified"]) == updated


def test_the_etag_follows_the_content(server, site):
    reply = server.request("/feeds/all.atom")
    assert reply.headers["etag"] == f'"{hashlib.blake2b(reply.body, digest_size=12).hexdigest()}"'
    assert server.request("/feeds/all.atom").headers["etag"] == reply.headers["etag"]
    assert server.request("/feeds/all.rss").headers["etag"] != reply.headers["etag"]


def test_head_has_the_headers_and_no_body(server):
    get, head = server.request("/feeds/all.rss"), server.request("/feeds/all.rss", "HEAD")
    assert head.status == 200 and head.body == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
        assert head.headers[name] == get.headers[name]


def test_if_none_match_gives_304_without_a_body(server):
    first = server.request("/feeds/all.atom")
    reply = server.request("/feeds/all.atom", headers={"If-None-Match": first.headers["etag"]})
    assert reply.status == 304 and reply.body == b""
    assert reply.headers["etag"] == first.headers["etag"]
    assert reply.headers["cache-control"] == "public, max-age=90"
    assert "content-type" not in reply.headers
    weak = server.request(
        "/feeds/all.atom", headers={"If-None-Match": "W/" + first.headers["etag"]}
    )
    assert weak.status == 304


def test_if_modified_since_gives_304_unless_if_none_match_differs(server):
    first = server.request("/feeds/all.atom")
    since = first.headers["last-modified"]
    assert server.request("/feeds/all.atom", headers={"If-Modified-Since": since}).status == 304
    old = "Sat, 01 Jan 2000 00:00:00 GMT"
    assert server.request("/feeds/all.atom", headers={"If-Modified-Since": old}).status == 200
    # RFC 9110 §13.2.2: If-None-Match takes precedence over If-Modified-Since.
    both = {"If-None-Match": '"stale"', "If-Modified-Since": since}
    assert server.request("/feeds/all.atom", headers=both).status == 200


def test_if_match_failure_is_412(server):
    assert server.request("/feeds/all.atom", headers={"If-Match": '"nope"'}).status == 412


def test_gzip_when_accepted_with_its_own_etag(server):
    plain = server.request("/feeds/all.atom")
    zipped = server.request("/feeds/all.atom", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    assert len(zipped.body) < len(plain.body) / 3
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert zipped.headers["vary"] == plain.headers["vary"] == "Accept, Accept-Encoding"
    again = server.request(
        "/feeds/all.atom",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]},
    )
    assert again.status == 304 and again.headers["etag"] == zipped.headers["etag"]
    refused = server.request("/feeds/all.atom", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused.headers


@pytest.mark.parametrize("path", ["/nope", "/feeds/", "/feeds/none.atom", "/articles/x.html"])
def test_unknown_paths_are_404(server, path):
    reply = server.request(path)
    assert reply.status == 404
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert '<h1 id="error">404 找不到页面</h1>' in reply.body.decode()  # the site is zh-CN


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
@pytest.mark.parametrize("path", ["/feeds/all.atom", "/healthz"])
def test_only_get_and_head_are_allowed(server, method, path):
    reply = server.request(path, method)
    assert reply.status == 405
    assert reply.headers["allow"] == "GET, HEAD"


TRAVERSALS = [
    "/../feeds.yaml",
    "/..%2ffeeds.yaml",
    "/%2e%2e/feeds.yaml",
    "/%2e%2e%2ffeeds.yaml",
    "/feeds/..%2f..%2ffeeds.yaml",
    "/feeds/%2e%2e/%2e%2e/feeds.yaml",
    "/%5c..%5cfeeds.yaml",
    "/..\\feeds.yaml",
    "/index.html%00",
    "/index.html%00.atom",
    "//etc/passwd",
    "/etc/passwd",
    "/%2fetc%2fpasswd",
    "/.feeds-manifest.sqlite",
    "/.feeds/status.json",
    "/feeds/all.atom.gz",
    "/%c0%ae%c0%ae/feeds.yaml",
    "/feeds/all.atom/",
    "/feeds//all.atom",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_nothing_outside_the_published_tree_is_served(server, path):
    reply = server.request(path)
    assert reply.status in (400, 404), (path, reply.status)
    assert b"feeds:" not in reply.body and b"root:" not in reply.body


@pytest.mark.slow
def test_a_symlink_in_the_output_dir_is_not_followed(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    site.build()
    secret = tmp_path / "secret.html"
    secret.write_text("secret")
    target = site.public / "articles/000_d56c9c7e6769d062.html"
    target.unlink()
    os.symlink(secret, target)
    with running(create_app(site.config())) as server:
        reply = server.request("/articles/000_d56c9c7e6769d062.html")
    assert reply.status == 404 and b"secret" not in reply.body


def test_article_pages_are_locked_down(server):
    headers = server.request("/articles/000_d56c9c7e6769d062.html").headers
    assert "script-src" not in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"


@pytest.mark.slow
def test_healthz_is_503_before_the_first_build_then_200(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    with running(create_app(site.config())) as server:
        before = server.request("/healthz")
        assert before.status == 503
        assert json.loads(before.body)["status"] == "starting"
        # Not published yet: a reader is told to come back, not that the feed is gone.
        for path in ("/feeds/all.atom", "/feeds/finance.rss", "/", "/opml.xml"):
            reply = server.request(path)
            assert reply.status == 503 and reply.headers["retry-after"].isdigit(), path
            assert reply.headers["cache-control"] == "no-store"
        assert server.request("/no-such-thing").status == 404
        site.build()
        after = server.request("/healthz")
        assert after.status == 200 and after.headers["cache-control"] == "no-store"
        status = json.loads(after.body)
        assert status["status"] == "ok"
        assert status["last_build"]["articles_published"] == 40
        assert server.request("/feeds/all.atom").status == 200
        site.write("broken.txt", "no front matter")
        site.build()
        degraded = json.loads(server.request("/healthz").body)
        assert degraded["status"] == "degraded"
        assert any("broken.txt" in e for e in degraded["last_build"]["errors"])


@pytest.mark.slow  # a real server and a build in a thread, timed
def test_a_rebuild_is_served_at_once_with_a_new_etag(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    site.build()
    with running(create_app(site.config())) as server:
        first = server.request("/feeds/all.atom")
        site.write("new.txt", article_text("刚刚发布的文章", date="Wed, 29 Jun 2022 10:00:00 GMT"))
        site.build()
        second = server.request("/feeds/all.atom", headers={"If-None-Match": first.headers["etag"]})
    assert second.status == 200
    assert "刚刚发布的文章" in second.body.decode()
    assert second.headers["etag"] != first.headers["etag"]


def test_feedparser_gets_a_304_on_its_second_fetch(server):
    url = server.url + "feeds/all.atom"
    first = feedparser.parse(url)
    assert first.status == 200 and len(first.entries) == 40
    second = feedparser.parse(url, etag=first.etag, modified=first.modified)
    assert second.status == 304


def test_reader_library_sends_a_conditional_request_and_gets_304(site, tmp_path):
    from reader import make_reader

    app = Recorder(create_app(site.config()))
    with running(app) as server:
        url = server.url + "feeds/finance.atom"
        reader = make_reader(str(tmp_path / "reader.sqlite"))
        try:
            reader.add_feed(url)
            reader.update_feed(url)
            assert len(list(reader.get_entries())) > 10
            reader.update_feed(url)  # update_feed ignores the update interval
        finally:
            reader.close()
    feed_requests = [s for s in app.statuses if s.startswith("GET /feeds/finance.atom")]
    assert feed_requests == [
        "GET /feeds/finance.atom 200 OK",
        "GET /feeds/finance.atom 304 Not Modified",
    ]


@pytest.mark.slow  # a real server and a build in a thread, timed
def test_a_build_in_progress_never_shows_a_partial_or_mixed_document(tmp_path):
    """Clients poll while builds rewrite every feed; each response is one whole version."""
    import threading

    from lxml import etree

    site = make_site(tmp_path, config=CONFIG)
    site.build()
    stop = threading.Event()

    def rebuild_forever():
        for round_ in range(1000):
            if stop.is_set():
                return
            site.write("churn.txt", article_text(f"第{round_}版", body="<p>改动</p>" * round_))
            site.build()

    builder = threading.Thread(target=rebuild_forever)
    with running(create_app(site.config()), threads=4) as server:
        builder.start()
        try:
            versions = set()
            for i in range(150):
                encoding = {"Accept-Encoding": "gzip"} if i % 2 else {}
                reply = server.request("/feeds/all.atom", headers=encoding)
                assert reply.status == 200
                tag = reply.headers["etag"].strip('"')
                assert tag == hashlib.blake2b(reply.body, digest_size=12).hexdigest()
                body = gzip.decompress(reply.body) if i % 2 else reply.body
                etree.fromstring(body)  # complete and well-formed
                versions.add(body)
        finally:
            stop.set()
            builder.join(timeout=60)
    assert len(versions) > 1, "the builds should have been seen changing the feed"


def test_a_304_keeps_the_connection_open(server):
    import http.client

    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        connection.request("GET", "/feeds/all.atom")
        first = connection.getresponse()
        first.read()
        etag = first.getheader("ETag")
        sockets = set()
        for _ in range(3):
            connection.request("GET", "/feeds/all.atom", headers={"If-None-Match": etag})
            reply = connection.getresponse()
            assert reply.status == 304 and reply.read() == b""
            assert reply.getheader("Connection") is None
            sockets.add(id(connection.sock))
        connection.request("GET", "/robots.txt")
        assert connection.getresponse().status == 200
        assert sockets == {id(connection.sock)}, "the connection was reopened"
    finally:
        connection.close()


def test_a_client_asking_to_close_after_a_304_gets_its_way(server):
    first = server.request("/feeds/all.atom")
    reply = server.request(
        "/feeds/all.atom", headers={"If-None-Match": first.headers["etag"], "Connection": "close"}
    )
    assert reply.status == 304 and reply.headers.get("connection") == "close"


@pytest.mark.slow
def test_a_site_without_articles_has_plausible_dates_that_stay(tmp_path):
    site = make_site(tmp_path, examples=False, config=CONFIG)
    site.build()
    feed = site.public / "feeds/all.atom"
    first = feed.read_bytes()
    assert b"1970" not in first
    updated = re.search(rb"<updated>([^<]+)</updated>", first).group(1).decode()
    assert abs(datetime.fromisoformat(updated).timestamp() - time.time()) < 3600
    time.sleep(1.1)
    site.build()
    assert feed.read_bytes() == first  # no "now": the time of the first publish is kept
    with running(create_app(site.config())) as server:
        reply = server.request("/feeds/all.atom")
        modified = parsedate_to_datetime(reply.headers["last-modified"])
        assert modified.year > 2000 and modified.isoformat() == updated
        older = format_datetime(modified - timedelta(days=1), usegmt=True)
        assert server.request("/feeds/all.atom", headers={"If-Modified-Since": older}).status == 200
        same = reply.headers["last-modified"]
        assert server.request("/feeds/all.atom", headers={"If-Modified-Since": same}).status == 304
    site.write("first.txt", article_text("第一篇"))
    site.build()
    assert b"2022" in feed.read_bytes()  # dated by its entry from now on


@pytest.mark.slow  # a real server and a build in a thread, timed
def test_healthz_says_what_the_builder_is_doing(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    config = site.config()
    activity = BuilderActivity(config.state.dir)
    with running(create_app(config, builder=activity)) as own, running(create_app(config)) as other:
        activity.progress(3, 40)
        for server in (own, other):  # the second reads what the builder wrote to state.dir
            reply = server.request("/healthz")
            assert reply.status == 503, server
            assert json.loads(reply.body)["progress"] == {"done": 3, "total": 40}
        activity.set("failed", "source.dir: gone")
        for server in (own, other):
            reply = server.request("/healthz")
            fields = json.loads(reply.body)
            assert reply.status == 503 and fields["status"] == "failing"
            assert fields["reason"] == "source.dir: gone"
        site.build()
        activity.set("idle")
        assert own.request("/healthz").status == 200
    # A builder that died says nothing: its record names a process that is gone.
    record = json.loads((config.state.dir / "builder.json").read_text())
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    record.update(state="failed", pid=int(dead.stdout))
    (config.state.dir / "builder.json").write_text(json.dumps(record))
    with running(create_app(config)) as server:
        assert json.loads(server.request("/healthz").body)["status"] == "ok"


@pytest.mark.slow  # a real server and a build in a thread, timed
def test_a_listed_file_not_written_yet_is_503_not_404(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    site.build()
    with closing(Manifest.create(site.public)) as manifest:
        manifest.add(["feeds/coming.atom"])
    with running(create_app(site.config())) as server:
        assert server.request("/feeds/coming.atom").status == 503
        assert server.request("/feeds/never.atom").status == 404


@pytest.mark.slow  # a real server
def test_an_article_page_not_listed_during_the_first_build_is_still_to_come(tmp_path):
    # A first build of a large archive publishes its feeds, and their entries' pages,
    # before the other pages (feeds.build.ahead): until it finishes, those are to come.
    site = make_site(tmp_path, config=CONFIG)
    site.build()
    status = site.config().state.dir / "status.json"
    with running(create_app(site.config())) as server:
        assert server.request("/articles/later.html").status == 404
        status.unlink()  # as it is before the first build finishes
        reply = server.request("/articles/later.html")
        assert reply.status == 503 and reply.headers["retry-after"].isdigit()
        assert server.request("/feeds/never.atom").status == 404


@pytest.mark.slow  # a real server
def test_healthz_is_200_once_a_first_build_serves_feeds(tmp_path):
    # The feeds of a first build of a large archive are out minutes before it finishes;
    # a health check failing all that time would have the server restarted, build and all.
    site = make_site(tmp_path, config=CONFIG)
    config = site.config()
    activity = BuilderActivity(config.state.dir)
    with running(create_app(config, builder=activity)) as server:
        activity.progress(3, 40)
        assert server.request("/healthz").status == 503  # nothing served yet
        site.build()
        (config.state.dir / "status.json").unlink()  # as it is before the build finishes
        activity.progress(30, 40)
        reply = server.request("/healthz")
        fields = json.loads(reply.body)
        assert reply.status == 200 and fields["status"] == "building"
        assert fields["progress"] == {"done": 30, "total": 40}
        activity.set("failed", "output.dir: not writable")
        assert server.request("/healthz").status == 503


@pytest.mark.slow  # a real server
def test_a_manifest_made_and_not_yet_listing_anything_is_nothing_published(tmp_path):
    # A first publish makes the manifest, then lists what it writes: in between, a feed
    # is still to come, not gone.
    site = make_site(tmp_path, config=CONFIG)
    with running(create_app(site.config())) as server:
        with closing(Manifest.create(site.public)):
            for path in ("/feeds/all.atom", "/"):
                reply = server.request(path)
                assert reply.status == 503 and reply.headers["retry-after"].isdigit(), path
            assert server.request("/no-such-thing").status == 404


@pytest.mark.slow  # a real server
def test_a_tree_wiped_and_published_again_is_served_from_its_new_manifest(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    site.build()
    with running(create_app(site.config())) as server:
        assert server.request("/feeds/all.atom").status == 200
        shutil.rmtree(site.public)
        assert server.request("/feeds/all.atom").status in (404, 503)
        site.write("new.txt", article_text("新文章"))
        site.build()
        assert server.request("/articles/new.html").status == 200
        assert server.request("/feeds/all.atom").status == 200
