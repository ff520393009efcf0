"""Under load: clients poll every feed over real HTTP while articles arrive and the
watcher rebuilds; every response is whole, well-formed, and a 200 or a 304."""

import gzip
import hashlib
import http.client
import json
import os
import random
import threading
import time
from collections import Counter

import pytest
from lxml import etree
from server import running
from sites import article_text, make_site

from feeds.watch.watcher import Watcher
from feeds.web.app import create_app

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow

CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
schedule: {interval: 0.2, settle: 0.1}
feeds:
  - {slug: finance, title: 金融, categories: [金融]}
"""
CLIENTS = 6
REQUESTS_PER_CLIENT = 500
ADDED = 60
TIME_LIMIT = 90.0  # seconds, for the whole run
# New articles go into categories of their own too, so feeds appear while clients poll.
CATEGORIES = ["[金融, 新浪财经, 新浪财经－国內]", "[科技, 压力测试]", "[压力测试, 新栏目]"]


def feed_paths(server_port: int) -> list[str]:
    """Every feed the OPML lists, as request paths."""
    connection = http.client.HTTPConnection("127.0.0.1", server_port, timeout=30)
    try:
        connection.request("GET", "/opml.xml")
        opml = etree.fromstring(connection.getresponse().read())
    finally:
        connection.close()
    paths = []
    for url in opml.xpath("//outline/@xmlUrl"):
        atom = url.removeprefix("http://127.0.0.1:8080")
        stem = atom.removesuffix(".atom")
        paths += [atom, f"{stem}.rss", f"{stem}.json"]
    return paths


class Client(threading.Thread):
    """Polls every feed in turn on one keep-alive connection, like a feed reader."""

    def __init__(self, port: int, seed: int, deadline: float) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.problems: list[str] = []
        self.statuses: Counter[int] = Counter()
        self.etags: dict[tuple[str, bool], str] = {}  # (path, gzip) -> last ETag seen
        self.changes = 0  # 200s whose ETag differed from the last one for that path

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        paths: list[str] = []
        try:
            for n in range(REQUESTS_PER_CLIENT):
                if time.monotonic() > self.deadline:
                    break
                if n % 50 == 0:  # new categories bring new feeds
                    paths = feed_paths(self.port)
                self.poll(connection, paths[n % len(paths)])
        except Exception as exc:  # noqa: BLE001 - reported by the test, in the main thread
            self.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    def poll(self, connection: http.client.HTTPConnection, path: str) -> None:
        gzipped = self.rng.random() < 0.5
        headers = {"Accept-Encoding": "gzip" if gzipped else "identity"}
        known = self.etags.get((path, gzipped))
        if known is not None and self.rng.random() < 0.5:
            headers["If-None-Match"] = known
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()  # raises IncompleteRead if the body is cut short
        self.statuses[response.status] += 1
        etag = response.getheader("ETag", "")
        where = f"{path} (gzip: {gzipped}, If-None-Match: {headers.get('If-None-Match')})"
        if response.status == 304:
            if body or etag != headers.get("If-None-Match"):
                self.problems.append(f"{where}: 304 with a body or another ETag {etag}")
            return
        if response.status != 200:
            self.problems.append(f"{where}: status {response.status}")
            return
        try:
            check_whole(path, body, response, gzipped)
        except Exception as exc:  # noqa: BLE001 - one bad response must not hide the others
            self.problems.append(f"{where}: {type(exc).__name__}: {exc}")
        if known is not None and etag != known:
            self.changes += 1
        self.etags[(path, gzipped)] = etag


def check_whole(path: str, body: bytes, response: http.client.HTTPResponse, gzipped: bool):
    """Content-Length, encoding, ETag and syntax all agree with the bytes received."""
    assert int(response.getheader("Content-Length", "-1")) == len(body), "length differs"
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    assert response.getheader("ETag") == f'"{digest}"', "the ETag is not its bytes'"
    encoding = response.getheader("Content-Encoding")
    assert encoding == ("gzip" if gzipped else None), f"Content-Encoding {encoding}"
    document = gzip.decompress(body) if gzipped else body
    if path.endswith(".json"):
        assert isinstance(json.loads(document)["items"], list)
    else:
        etree.fromstring(document)


def write_at_once(directory, name: str, text: str) -> None:
    temp = directory / f".{name}.tmp"
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, directory / name)


def test_clients_polling_while_articles_arrive_get_whole_documents(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    watcher = Watcher(site.config())
    watcher.start()
    try:
        assert watcher.first_build.wait(60)
        with running(create_app(site.config()), threads=8) as server:
            deadline = time.monotonic() + TIME_LIMIT
            clients = [Client(server.port, seed, deadline) for seed in range(CLIENTS)]
            for client in clients:
                client.start()
            for i in range(ADDED):  # one after another, while the clients poll
                if time.monotonic() > deadline:
                    break
                categories = CATEGORIES[i % len(CATEGORIES)]
                date = f"Thu, 30 Jun 2022 08:{i // 60:02d}:{i % 60:02d} GMT"
                text = article_text(f"压力测试文章{i}", date=date, categories=categories)
                write_at_once(site.articles, f"load-{i:03d}.txt", text)
                time.sleep(0.05)
            for client in clients:
                client.join(timeout=max(1.0, deadline - time.monotonic()))
            assert not any(client.is_alive() for client in clients), "clients did not finish"
            wait = time.monotonic() + 15
            last = f"压力测试文章{ADDED - 1}"
            while last not in (site.public / "feeds/all.atom").read_text("utf-8"):
                assert time.monotonic() < wait, "the last article was never published"
                time.sleep(0.05)
            final = Client(server.port, 99, time.monotonic() + 30)
            final.run()  # one more round, after the last build: the new feeds are served
    finally:
        watcher.stop()

    problems = [p for client in [*clients, final] for p in client.problems]
    assert not problems, "\n".join(problems[:20])
    statuses = sum((client.statuses for client in clients), Counter())
    assert set(statuses) <= {200, 304}
    assert statuses[304] > 0 and statuses[200] > 0
    assert sum(statuses.values()) >= CLIENTS * REQUESTS_PER_CLIENT * 0.5
    assert sum(client.changes for client in clients) > 0, "no feed changed while polled"
    assert watcher.last_report is not None and watcher.last_report.ok
    assert watcher.last_report.articles_found == 40 + ADDED
