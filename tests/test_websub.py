"""WebSub: the hub the feeds name, and the pings a small real hub on 127.0.0.1 receives."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from factories import SITE, make_article, make_spec
from feedcheck import assert_parses_cleanly, assert_valid_atom
from lxml import etree
from server import free_port
from sites import article_text, make_site, run_feeds

from feeds.model import Feed
from feeds.render.formats import render_feed
from feeds.watch.watcher import Watcher
from feeds.watch.websub import Notifier

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "http://127.0.0.1:8080/"
CONFIG = """\
site: {{title: 测试站点, base_url: "{base}"}}
source: {{dir: articles}}
output: {{dir: public}}
websub: {{hub: "{hub}"}}
schedule: {{interval: 3600, watch: false}}
feeds:
  - {{slug: finance, title: 金融, categories: [金融]}}
"""


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    # Pings go to the test hub on 127.0.0.1, never through a proxy from the environment.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@dataclass
class Hub:
    """A hub that records every ping. It answers `status`, `fail_status` to the first
    `fail_first` requests, and holds each request until `released` while `hold` is set."""

    status: int = 204
    fail_first: int = 0
    fail_status: int = 503
    hold: bool = False
    released: threading.Event = field(default_factory=threading.Event)
    received: threading.Event = field(default_factory=threading.Event)
    pings: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, body: bytes) -> int:
        with self._lock:
            self.pings.append((path, parse_qs(body.decode("ascii"), strict_parsing=True)))
            count = len(self.pings)
        self.received.set()
        if self.hold:
            self.released.wait(10)
        return self.fail_status if count <= self.fail_first else self.status

    def topics(self) -> list[str]:
        with self._lock:
            return [fields["hub.url"][0] for _, fields in self.pings]

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.pings) < count:
            assert time.monotonic() < deadline, f"{len(self.pings)} pings of {count}"
            time.sleep(0.02)


@pytest.fixture
def hub() -> Iterator[Hub]:
    """A hub on 127.0.0.1 and a free port, serving from a thread until the test ends."""
    state = Hub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
            status = state.record(self.path, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}/hub"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port_url() -> str:
    """A loopback URL nothing listens on: a hub that is down."""
    return f"http://127.0.0.1:{free_port()}/hub"


def fast(url: str, attempts: int = 5) -> Notifier:
    """A notifier with a backoff short enough for tests: 0.05, 0.1, 0.2... seconds."""
    return Notifier(url, attempts=attempts, backoff=0.05, timeout=5.0)


def notify_until_done(notifier: Notifier, topic: str) -> None:
    """Start the notifier, hand it one topic, and wait until it has given up or succeeded."""
    notifier.start()
    try:
        notifier.notify([topic])
        assert notifier.wait(10)
    finally:
        notifier.stop()


@pytest.fixture
def watched(tmp_path, hub):
    """A site with a hub, watched by a Watcher whose first build has been pinged for."""
    site = make_site(tmp_path, config=CONFIG.format(base=BASE, hub=hub.url))
    watcher = Watcher(site.config(), notifier=fast(hub.url))
    watcher.start()
    try:
        assert watcher.first_build.wait(60)
        assert watcher.notifier is not None and watcher.notifier.wait(10)
        yield site, watcher
    finally:
        watcher.stop()


def published_topics(site, text: str = "") -> set[str]:
    """The URLs of the published feed documents (those that contain `text`)."""
    return {
        BASE + p.relative_to(site.public).as_posix()
        for p in site.public.glob("feeds/*")
        if p.suffix in (".atom", ".rss", ".json") and text in p.read_text(encoding="utf-8")
    }


# --- the hub the documents name ---------------------------------------------------------


def test_atom_rss_and_json_feed_name_the_hub(atom_schema):
    feed = Feed(make_spec(), (make_article("a"),))
    documents = render_feed(SITE, feed, ttl_minutes=1, hub="https://hub.example/?a=1&b=2")
    atom, rss = documents["atom"], documents["rss"]
    assert_valid_atom(atom, atom_schema)
    links = assert_parses_cleanly(atom).feed.links
    assert {link.rel: link.href for link in links}["hub"] == "https://hub.example/?a=1&b=2"
    hub_link = etree.fromstring(atom).find(f"{ATOM}link[@rel='hub']")
    assert hub_link is not None and set(hub_link.attrib) == {"rel", "href"}
    assert b'<link rel="hub" href="https://hub.example/?a=1&amp;b=2"/>' in atom
    assert_parses_cleanly(rss)
    channel_hub = etree.fromstring(rss).find(f"channel/{ATOM}link[@rel='hub']")
    assert channel_hub is not None and channel_hub.get("href") == "https://hub.example/?a=1&b=2"
    hubs = json.loads(documents["json"])["hubs"]
    assert hubs == [{"type": "WebSub", "url": "https://hub.example/?a=1&b=2"}]
    again = render_feed(SITE, feed, ttl_minutes=1, hub="https://hub.example/?a=1&b=2")
    assert again == documents


def test_without_a_hub_no_document_names_one():
    documents = render_feed(SITE, Feed(make_spec(), (make_article("a"),)), ttl_minutes=1)
    assert b'rel="hub"' not in documents["atom"] and b'rel="hub"' not in documents["rss"]
    assert "hubs" not in json.loads(documents["json"])


def test_turning_the_hub_on_or_off_rewrites_every_feed(tmp_path):
    site = make_site(tmp_path, config=CONFIG.format(base=BASE, hub=""))
    plain = site.build()
    assert plain.ok and not any(b'rel="hub"' in data for data in site.tree().values())
    site.config_path.write_text(CONFIG.format(base=BASE, hub="https://hub.example/"), "utf-8")
    on = site.build()
    assert on.feeds_changed == on.feeds == plain.feeds
    tree = site.tree()
    feeds = {path: tree[path] for path in tree if path.endswith((".atom", ".rss", ".json"))}
    assert all(b"https://hub.example/" in data for data in feeds.values())
    assert {BASE + path for path in on.feeds_written} == published_topics(site)
    assert site.build().feeds_written == ()
    site.config_path.write_text(CONFIG.format(base=BASE, hub=""), "utf-8")
    off = site.build()
    assert off.feeds_changed == off.feeds
    assert not any(b"hub.example" in data for data in site.tree().values())


# --- the pings after a build ---------------------------------------------------------------


def test_the_first_build_pings_for_every_feed_document(watched, hub):
    site, _ = watched
    assert sorted(hub.topics()) == sorted(published_topics(site))
    assert all(path == "/hub" for path, _ in hub.pings)
    assert all(fields["hub.mode"] == ["publish"] for _, fields in hub.pings)


def test_a_new_article_pings_for_its_feeds_only(watched, hub):
    site, watcher = watched
    hub.pings.clear()
    site.write("new.txt", article_text("推送给中心的新文章", date="Thu, 30 Jun 2022 08:00:00 GMT"))
    report = watcher.run()
    assert report is not None and report.ok and report.files_read == 1
    assert watcher.notifier.wait(10)
    changed = published_topics(site, "推送给中心的新文章")
    assert {BASE + f"feeds/{name}" for name in ("all.atom", "all.rss", "finance.atom")} <= changed
    assert sorted(hub.topics()) == sorted(changed)
    assert published_topics(site) - changed, "some feeds were left untouched, and not pinged"


def test_a_build_that_changes_nothing_pings_nothing(watched, hub):
    _, watcher = watched
    hub.pings.clear()
    report = watcher.run()
    assert report is not None and report.feeds_changed == 0
    assert watcher.notifier.wait(10)
    time.sleep(0.2)
    assert hub.pings == []


def test_a_failing_hub_is_retried_until_it_accepts(hub):
    hub.fail_first = 3
    notifier = fast(hub.url)
    notify_until_done(notifier, BASE + "feeds/all.atom")
    assert hub.topics() == [BASE + "feeds/all.atom"] * 4
    assert notifier.failed() == {} and notifier.pending() == {}


def test_too_many_requests_is_retried_and_other_refusals_are_final(hub, caplog):
    hub.fail_first, hub.fail_status, hub.status = 1, 429, 400
    notifier = fast(hub.url)
    notifier.start()
    with caplog.at_level(logging.INFO, logger="feeds"):
        notifier.notify([BASE + "feeds/all.rss"])
        assert notifier.wait(10)
        notifier.stop()
    assert len(hub.pings) == 2  # the 429, then the 400, which is not retried
    assert "HTTP 400" in notifier.failed()[BASE + "feeds/all.rss"]
    final = [r for r in caplog.records if "was not told of" in r.getMessage()]
    assert len(final) == 1 and final[0].levelno == logging.WARNING


def test_retries_stop_after_the_last_attempt(hub):
    hub.status = 503
    notifier = fast(hub.url, attempts=3)
    notify_until_done(notifier, BASE + "feeds/all.atom")
    assert len(hub.pings) == 3
    assert "HTTP 503" in notifier.failed()[BASE + "feeds/all.atom"]


def test_a_topic_queued_twice_is_pinged_once(hub):
    notifier = fast(hub.url)
    topics = [BASE + "feeds/all.atom", BASE + "feeds/all.rss"]
    notifier.notify(topics)
    notifier.notify(topics[:1])
    notifier.start()
    try:
        assert notifier.wait(10)
    finally:
        notifier.stop()
    assert sorted(hub.topics()) == sorted(topics)


def test_a_hub_that_hangs_never_holds_up_a_build(tmp_path, hub):
    hub.hold = True
    site = make_site(tmp_path, config=CONFIG.format(base=BASE, hub=hub.url))
    watcher = Watcher(site.config(), notifier=fast(hub.url))
    started = time.monotonic()
    watcher.start()
    try:
        assert watcher.first_build.wait(60)
        assert hub.received.wait(10)
        site.write("new.txt", article_text("中心卡住时的新文章"))
        report = watcher.run()
        assert report is not None and report.ok and report.files_read == 1
        assert not hub.released.is_set(), "the builds returned while the hub held a ping"
        assert time.monotonic() - started < 8
        assert watcher.notifier.pending()
    finally:
        hub.released.set()
        watcher.stop()


def test_a_hub_that_is_down_fails_no_build(tmp_path, caplog):
    down = free_port_url()
    site = make_site(tmp_path, config=CONFIG.format(base=BASE, hub=down))
    watcher = Watcher(site.config(), notifier=fast(down, attempts=2))
    with caplog.at_level(logging.WARNING, logger="feeds"):
        watcher.start()
        try:
            assert watcher.first_build.wait(60)
            assert watcher.last_report is not None and watcher.last_report.ok
            assert watcher.notifier.wait(10)
            failed = watcher.notifier.failed()
        finally:
            watcher.stop()
    assert set(failed) == published_topics(site)
    assert all("cannot reach the hub" in reason for reason in failed.values())
    assert any("retrying in" in r.getMessage() for r in caplog.records)


def test_stop_drops_what_still_waits(hub):
    hub.status = 503
    notifier = Notifier(hub.url, backoff=60.0, timeout=5.0)
    notifier.start()
    notifier.notify([BASE + "feeds/all.atom"])
    hub.wait_for(1)
    started = time.monotonic()
    notifier.stop()
    assert time.monotonic() - started < 5
    assert len(hub.pings) == 1


# --- the one-shot build ---------------------------------------------------------------------


def run_build(site):
    return run_feeds("build", "-c", "feeds.yaml", cwd=site.root, env={"no_proxy": "127.0.0.1"})


def test_feeds_build_pings_the_hub_and_exits_0(tmp_path, hub):
    site = make_site(tmp_path, config=CONFIG.format(base=BASE, hub=hub.url))
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    assert sorted(hub.topics()) == sorted(published_topics(site))
    count = len(published_topics(site))
    assert f"hub: {count} of {count} changed documents sent to {hub.url}" in result.stdout
    hub.pings.clear()
    again = run_build(site)
    assert again.returncode == 0 and "hub:" not in again.stdout and hub.pings == []


def test_feeds_build_says_which_pings_failed_and_still_exits_0(tmp_path, hub):
    hub.status = 403
    site = make_site(tmp_path, config=CONFIG.format(base=BASE, hub=hub.url))
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    assert f"not told of {BASE}feeds/all.atom: HTTP 403" in result.stderr
    assert (site.public / "feeds/all.atom").exists()
