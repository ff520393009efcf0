"""Search over real HTTP on 127.0.0.1: the app on the real WSGI server, `feeds serve` with
the builder in another process, and the shipped nginx config passing /search on."""

import gzip
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from urllib.parse import quote

import pytest
from feedcheck import assert_parses_cleanly, assert_valid_atom, assert_valid_json_feed
from server import (
    LISTENING,
    Server,
    nginx_serving,
    running,
    wait_for_line,
    wait_until_built,
)
from sites import article_text, make_site

from feeds.catalogue.store import FILE_NAME
from feeds.text import html_text
from feeds.tree.urls import entry_id
from feeds.web.app import create_app
from feeds.web.search import SLOTS

# Real servers and subprocesses: outside the inner loop.
pytestmark = pytest.mark.slow

CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
schedule: {interval: 90}
feeds:
  - {slug: finance, title: 金融, categories: [金融]}
"""
BASE = "http://127.0.0.1:8080/"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The shipped examples, two articles on 降准, and the 60 newest on 央行 (more than a
    search shows), two of them in the same second."""
    site = make_site(tmp_path_factory.mktemp("search"), config=CONFIG)
    site.write("rrr-1.txt", article_text("全面降准", body="<p>宣布降准0.5个百分点</p>"))
    site.write("rrr-2.txt", article_text("宽松", body="<p>市场预期将降准，利好A股</p>"))
    for n in range(60):
        date = f"Mon, 02 Jan 2023 {n // 30:02d}:{n % 30:02d}:00 GMT"
        body = f"<p>中国人民银行（央行）开展第{n}次公开市场操作</p>"
        site.write(
            f"pboc-{n:02d}.txt",
            article_text(f"公开市场操作{n}", date=date, body=body, categories="[专题]"),
        )
    site.write(  # in the same second as another: the feeds' order decides
        "pboc-tie.txt",
        article_text("同一秒", date="Mon, 02 Jan 2023 01:29:00 GMT", body="<p>央行</p>"),
    )
    assert site.build().ok
    return site


@pytest.fixture(scope="module")
def app(site):
    return create_app(site.config())


@pytest.fixture(scope="module")
def server(app):
    with running(app) as server:
        yield server


def get(server, path, query, **headers):
    return server.request(f"{path}?q={quote(query)}", headers=headers)


def ids(reply):
    """The entry ids of a JSON Feed reply, in order."""
    return [item["id"] for item in json.loads(reply.body)["items"]]


def holding(site, word):
    """The entry ids of the articles whose text holds `word` (a reference, from the
    catalogue's articles, not from the index)."""
    with sqlite3.connect(site.config().state.dir / FILE_NAME) as connection:
        rows = connection.execute("SELECT data, content FROM articles").fetchall()
    found = set()
    for data, content in rows:
        fields = json.loads(data)
        if word in " ".join([fields["title"], fields["summary"], html_text(content)]):
            found.add(entry_id(fields["id"]))
    return found


def entries(document, start, end):
    """Each entry's bytes in an Atom or RSS document, by its id or guid."""
    found = {}
    for block in re.findall(rf"{start}.*?{end}".encode(), document, re.S):
        found[re.search(rb"<(?:id|guid[^>]*)>([^<]+)<", block).group(1).decode()] = block
    return found


def published(site, fmt):
    """The documents of every feed the site publishes in a format."""
    return [path.read_bytes() for path in sorted((site.public / "feeds").glob(f"*.{fmt}"))]


def test_two_character_chinese_words_find_the_articles_that_hold_them(server, site):
    reply = get(server, "/search.json", "降准")
    assert reply.status == 200
    assert set(ids(reply)) == holding(site, "降准") and len(ids(reply)) >= 4
    page = get(server, "/search", "降准")
    assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert 'name="q" value="降准"' in page.body.decode()  # the box holds the query
    assert "全面降准" in page.body.decode()
    # Listed as a feed's view lists its entries: time, categories, summary.
    assert page.body.decode().count('<li class="entry">') == len(ids(reply))
    assert page.body.decode().count('<span class="category">') >= len(ids(reply))


def test_results_are_the_newest_fifty_in_the_feeds_order(server):
    found = ids(get(server, "/search.json", "央行"))
    newest = ids(server.request("/feeds/all.json"))  # the 61 newest articles are 央行's
    assert len(found) == 50 and found == newest[:50]


@pytest.mark.parametrize(
    ("fmt", "start", "end"),
    [("atom", "  <entry>", "</entry>\n"), ("rss", "    <item>", "</item>\n")],
)
def test_entries_are_the_regular_feeds_entries_byte_for_byte(server, site, fmt, start, end):
    found = entries(get(server, f"/search.{fmt}", "降准").body, start, end)
    regular = {}
    for document in published(site, fmt):
        regular |= entries(document, start, end)
    assert found.keys() == holding(site, "降准")
    for key, block in found.items():
        assert block == regular[key]


def test_json_items_are_the_regular_feeds_items(server, site):
    found = json.loads(get(server, "/search.json", "降准").body)["items"]
    regular = {
        item["id"]: item
        for document in published(site, "json")
        for item in json.loads(document)["items"]
    }
    assert found and all(item == regular[item["id"]] for item in found)


def test_search_feeds_are_valid_with_their_own_id_title_and_address(server, atom_schema):
    atom = get(server, "/search.atom", "降准")
    assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert_valid_atom(atom.body, atom_schema)
    parsed = assert_parses_cleanly(atom.body)
    assert parsed.feed.title == "降准 · 测试站点"
    assert parsed.feed.links[0].href == BASE + "search.atom?q=%E9%99%8D%E5%87%86"
    other = assert_parses_cleanly(get(server, "/search.atom", "央行").body)
    assert parsed.feed.id != other.feed.id
    assert (
        parsed.feed.id == assert_parses_cleanly(get(server, "/search.atom", " 降准 ").body).feed.id
    )
    rss = assert_parses_cleanly(get(server, "/search.rss", "降准").body)
    assert rss.feed.title == "降准 · 测试站点" and len(rss.entries) == len(parsed.entries)
    document = assert_valid_json_feed(get(server, "/search.json", "降准").body)
    assert document["feed_url"] == BASE + "search.json?q=%E9%99%8D%E5%87%86"
    assert document["home_page_url"] == BASE + "search?q=%E9%99%8D%E5%87%86"


@pytest.mark.parametrize(
    ("query", "same_as"),
    [
        ('"降准', "降准"),
        ("降准*", "降准"),
        ("(降准)", "降准"),
        ("-降准", "降准"),
        ("央行 降准", "央行 降准"),
    ],
)
def test_fts5_syntax_is_searched_as_literal_text(server, query, same_as):
    reply = get(server, "/search.json", query)
    assert reply.status == 200 and ids(reply) == ids(get(server, "/search.json", same_as))


@pytest.mark.parametrize(
    "query",
    ["降准 OR 央行", "NEAR(降准 央行)", "降准 NOT 央行", "title:降准", '"', "*", "(", "降准 AND"],
)
def test_fts5_operators_are_words_that_the_articles_do_not_hold(server, query):
    reply = get(server, "/search.json", query)
    assert reply.status == 200 and ids(reply) == []


@pytest.mark.parametrize("path", ["/search", "/search.atom", "/search.rss", "/search.json"])
@pytest.mark.parametrize(
    "raw_query", ["", "?q=", "?q=%20%20", "?q=" + "x" * 201, "?q=%00", "?q=a%01b", "?q=a%0Ab"]
)
def test_bad_queries_get_400_with_a_short_page(server, path, raw_query):
    reply = server.request(path + raw_query)
    assert reply.status == 400
    assert len(reply.body) < 2000
    if path == "/search":
        assert b'role="search"' in reply.body  # a person can try again at once
    else:
        assert reply.body.startswith(b"400 Bad Request")


def test_a_query_of_200_characters_is_searched(server):
    assert get(server, "/search.json", "央" * 200).status == 200
    assert get(server, "/search.json", "央" * 201).status == 400


def test_searches_beyond_the_cap_get_503_with_retry_after(server, app):
    search = app.extensions["feeds.search"]
    for _ in range(SLOTS):  # as many searches as it takes at once, in hand
        assert search.slots.acquire(blocking=False)
    try:
        reply = get(server, "/search.atom", "降准")
        assert reply.status == 503
        assert reply.headers["retry-after"] == "1" and reply.headers["cache-control"] == "no-store"
        page = get(server, "/search", "降准")  # a person gets the page, in the site's language
        assert page.status == 503 and page.headers["retry-after"] == "1"
        assert page.headers["content-type"].startswith("text/html")
        assert "同时进行的搜索太多，请稍后再试。" in page.body.decode()
    finally:
        for _ in range(SLOTS):
            search.slots.release()
    assert get(server, "/search.atom", "降准").status == 200


def test_if_none_match_gives_304_and_head_no_body(server):
    first = get(server, "/search.rss", "降准")
    assert first.headers["cache-control"] == "public, max-age=60"
    again = get(server, "/search.rss", "降准", **{"If-None-Match": first.headers["etag"]})
    assert again.status == 304 and again.body == b""
    assert again.headers["etag"] == first.headers["etag"]
    page = get(server, "/search", "降准")
    assert get(server, "/search", "降准", **{"If-None-Match": page.headers["etag"]}).status == 304
    assert page.headers["etag"] != first.headers["etag"]
    head = server.request(f"/search.rss?q={quote('降准')}", method="HEAD")
    assert head.status == 200 and head.body == b"" and head.headers["etag"] == first.headers["etag"]


def test_the_results_page_allows_its_own_form_and_nothing_else(server):
    page = get(server, "/search", "降准")
    policy = page.headers["content-security-policy"]
    assert "form-action 'self'" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy


def test_before_the_first_build_search_is_503_with_retry_after(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    with running(create_app(site.config())) as server:
        reply = get(server, "/search", "降准")
        assert reply.status == 503 and reply.headers["retry-after"] == "5"
        assert "搜索索引正在生成，请几秒钟后再试。" in reply.body.decode()
        assert 'value="降准"' in reply.body.decode()  # the box keeps the query, to try again
        assert site.build().ok
        assert get(server, "/search", "降准").status == 200


def test_while_a_first_build_fills_the_index_search_is_503_and_the_feeds_are_out(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    assert site.build().ok
    with sqlite3.connect(site.config().state.dir / FILE_NAME) as connection:
        connection.execute("DELETE FROM meta WHERE key = 'search index filled'")  # as a fill began
    with running(create_app(site.config())) as server:
        reply = get(server, "/search.atom", "降准")
        assert reply.status == 503 and reply.headers["retry-after"] == "5"
        assert b"being built" in reply.body
        assert server.request("/feeds/all.atom").status == 200
        health = server.request("/healthz")
        assert health.status == 200 and json.loads(health.body)["search"] == "filling"
        assert site.build().ok  # fills it
        assert get(server, "/search.atom", "降准").status == 200
        assert json.loads(server.request("/healthz").body)["search"] == "ready"


WATCHED = CONFIG.replace("schedule: {interval: 90}", "schedule: {interval: 60, settle: 0.5}")


def start(site, *command):
    return subprocess.Popen(
        [sys.executable, "-m", "feeds", *command, "-c", "feeds.yaml"],
        cwd=site.root,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop(process):
    process.terminate()
    _, log = process.communicate(timeout=30)
    return log


def test_feeds_serve_searches_what_a_builder_in_another_process_builds(tmp_path):
    site = make_site(tmp_path, config=WATCHED)
    builder = start(site, "watch")
    serving = None
    try:
        wait_for_line(builder, re.compile(r"watching"))
        serving = start(site, "serve", "--port", "0")
        match, _ = wait_for_line(serving, LISTENING)
        server = Server("127.0.0.1", int(match.group(1)))
        wait_until_built(server)
        before = get(server, "/search.json", "央行")
        assert before.status == 200 and ids(before) == []
        statuses = []
        stopping = threading.Event()

        def keep_searching():  # while the builder writes the catalogue
            while not stopping.is_set():
                statuses.append(get(server, "/search.json", "央行").status)

        searcher = threading.Thread(target=keep_searching)
        searcher.start()
        try:
            for n in range(3):
                site.write(f"new-{n}.txt", article_text(f"新文章{n}", body="<p>央行宣布</p>"))
            deadline = time.monotonic() + 60
            while len(ids(get(server, "/search.json", "央行"))) < 3:
                assert time.monotonic() < deadline, "the new articles were never found"
                time.sleep(0.2)
        finally:
            stopping.set()
            searcher.join()
        assert set(statuses) <= {200, 503} and 200 in statuses
        after = get(server, "/search.json", "央行", **{"If-None-Match": before.headers["etag"]})
        assert after.status == 200  # new results, a new entity tag
        assert server.request("/healthz").status == 200
    finally:
        log = stop(builder)
        if serving is not None:
            stop(serving)
    assert "unusable" not in log and "rebuilding" not in log, log  # never set aside


def get_as_pasted(server, target):
    """The status line and body of a GET whose target is sent as UTF-8 bytes, not
    percent-encoded, as curl and the readers built on it (newsboat) send an address."""
    with socket.create_connection((server.host, server.port), timeout=10) as connection:
        request = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        connection.sendall(request.encode())
        raw = b"".join(iter(lambda: connection.recv(65536), b""))
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body


def test_a_search_address_pasted_with_its_chinese_as_it_is_is_answered(server):
    status, body = get_as_pasted(server, "/search.json?q=降准")
    encoded = get(server, "/search.json", "降准")
    assert status.startswith("HTTP/1.1 200 ") and encoded.status == 200, status
    assert json.loads(body) == json.loads(encoded.body)
    assert ids(encoded), "found nothing: the same nothing both ways"


def test_nginx_passes_search_on_to_the_app(tmp_path, server, site):
    with nginx_serving(site.public, tmp_path / "nginx", server.port) as proxy:
        for fmt in ("atom", "rss", "json"):
            direct = get(server, f"/search.{fmt}", "降准")
            passed = get(proxy, f"/search.{fmt}", "降准")
            assert passed.status == 200 and passed.body == direct.body
            assert passed.headers["content-type"] == direct.headers["content-type"]
        direct_atom = get(server, "/search.atom", "降准").body
        zipped = get(proxy, "/search.atom", "降准", **{"Accept-Encoding": "gzip"})
        assert gzip.decompress(zipped.body) == get(server, "/search.atom", "降准").body
        again = get(proxy, "/search.atom", "降准", **{"If-None-Match": zipped.headers["etag"]})
        assert again.status == 304
        page = get(proxy, "/search", "降准")
        assert page.status == 200 and "全面降准" in page.body.decode()
        assert page.headers["cache-control"] == "public, max-age=60"
        assert proxy.request("/search?q=").status == 400
        assert proxy.request("/feeds/all.atom").status == 200  # files are still nginx's
        status, body = get_as_pasted(proxy, "/search.atom?q=降准")
        assert status.startswith("HTTP/1.1 200 ") and body == direct_atom, status


def test_nginx_says_503_with_retry_after_when_the_app_is_down(tmp_path, site):
    with nginx_serving(site.public, tmp_path / "nginx") as proxy:  # nothing on 8081
        reply = get(proxy, "/search.atom", "降准")
        assert reply.status == 503 and reply.headers["retry-after"] == "5"
        assert reply.headers["x-content-type-options"] == "nosniff"


def test_a_site_without_search_keeps_no_index_and_shows_no_box(tmp_path):
    site = make_site(tmp_path, config=CONFIG.replace("base_url:", "search: false, base_url:"))
    site.write("rrr-1.txt", article_text("全面降准", body="<p>宣布降准0.5个百分点</p>"))
    assert site.build().ok
    with sqlite3.connect(site.config().state.dir / FILE_NAME) as connection:
        assert connection.execute("SELECT COUNT(*) FROM search_rows").fetchone() == (0,)
        assert connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0] > 1
    for page in ("index.html", "feeds/finance.html"):
        assert 'role="search"' not in (site.public / page).read_text(encoding="utf-8")
    with running(create_app(site.config())) as server:
        for path in ("/search", "/search.atom"):
            assert get(server, path, "降准").status == 404  # no such thing on this site
    # Turned on again: every article is read again, so the index holds them all.
    site.config_path.write_text(CONFIG, encoding="utf-8")
    assert site.build().ok
    assert 'role="search"' in (site.public / "index.html").read_text(encoding="utf-8")
    with running(create_app(site.config())) as server:
        assert "全面降准" in get(server, "/search", "降准").body.decode()
