"""The image proxy: signed URLs in what is published, and the real app fetching from a real
upstream on 127.0.0.1 (never anything else)."""

from __future__ import annotations

import json
import os
import stat
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import feedparser
import pytest
from server import Server, running
from sites import Site, article_text, make_site

from feeds.clean.cleaner import clean_body
from feeds.config import Config, parse_config
from feeds.config.values import parse_host
from feeds.errors import FeedsError
from feeds.images.fetch import Image, Refused
from feeds.images.signing import (
    KEY_ENV,
    KEY_FILE,
    ImageSigner,
    image_signer,
    load_key,
    proxied_name,
    url_of,
)
from feeds.web.app import create_app
from feeds.web.image_proxy import MAX_AGE, ImageCache

MAX_BYTES = 4096
TIMEOUT = 1.0
LAST_MODIFIED = "Tue, 15 Mar 2022 14:04:32 GMT"


def _png() -> bytes:
    """A valid 1x1 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


PNG = _png()
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"  # only the type matters here


@dataclass
class Upstream:
    """An image host on 127.0.0.1 that counts its requests and keeps their headers."""

    port: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    headers: list[dict[str, str]] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    # http.client takes no proxy from the environment; this keeps it that way if that changes.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", KEY_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    state = Upstream()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits[self.path] += 1
            state.headers.append({k.lower(): v for k, v in self.headers.items()})
            name = self.path.strip("/").replace("/", "_").replace(".", "_")
            route = getattr(self, "route_" + name, None)
            if route is None:
                self.answer(404, "text/html", b"<h1>not here</h1>")
            else:
                route()

        def answer(self, status: int, kind: str, body: bytes, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def route_img_a_png(self) -> None:
            self.answer(200, "image/png", PNG, ETag='"up-1"', Last_Modified=LAST_MODIFIED)

        def route_img_b_jpg(self) -> None:
            self.answer(200, "image/jpeg", JPEG)  # no validators

        def route_img_c_png(self) -> None:
            self.answer(200, "image/png", PNG)

        def route_img_slowish_png(self) -> None:
            time.sleep(0.3)
            self.answer(200, "image/png", PNG)

        def route_big_png(self) -> None:
            self.answer(200, "image/png", b"\x00" * (MAX_BYTES + 1))

        def route_unannounced_png(self) -> None:
            # No Content-Length: the body ends when the connection closes (HTTP/1.0).
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            for _ in range(8):
                self.wfile.write(b"\x00" * 1024)

        def route_slow_png(self) -> None:
            # Each byte comes well within any per-read timeout; the whole never does.
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"\x00")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass

        def route_away_png(self) -> None:
            self.answer(302, "text/plain", b"", Location=f"http://localhost:{state.port}/img/c.png")

        def route_hop_png(self) -> None:
            self.answer(302, "text/plain", b"", Location="/img/c.png")

        def route_loop_png(self) -> None:
            self.answer(302, "text/plain", b"", Location="/loop.png")

        def route_page_png(self) -> None:
            self.answer(200, "text/html", b"<script>alert(1)</script>")

        def route_broken_png(self) -> None:
            self.answer(500, "text/plain", b"oops")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def site_config(upstream: Upstream, *, proxy: bool) -> str:
    return f"""\
site: {{title: 测试站点, base_url: "http://127.0.0.1:8080/"}}
source: {{dir: articles}}
output: {{dir: public}}
images:
  proxy: {str(proxy).lower()}
  hosts: ["{upstream.host}"]
  max_bytes: {MAX_BYTES}
  timeout: {TIMEOUT}
"""


def write_article(site: Site, upstream: Upstream) -> None:
    body = (
        f'<p>正文</p><img src="{upstream.url("/img/a.png")}" alt="图">'
        '<img src="https://other.example/b.jpg">'
        f'<img data-src="{upstream.url("/img/b.jpg")}">'
    )
    extra = f"headimg: '{upstream.url('/img/a.png')}'\n"
    site.write("a.txt", article_text("有图", body=body, extra=extra))


@pytest.fixture(scope="module")
def site(tmp_path_factory, upstream) -> Site:
    site = make_site(tmp_path_factory.mktemp("images"), examples=False)
    site.config_path.write_text(site_config(upstream, proxy=True), encoding="utf-8")
    write_article(site, upstream)
    assert site.build().ok
    return site


@pytest.fixture(scope="module")
def signer(site) -> ImageSigner:
    signer = image_signer(site.config())
    assert signer is not None
    return signer


@pytest.fixture(scope="module")
def app_server(site) -> Iterator[Server]:
    with running(create_app(site.config())) as server:
        yield server


def path_of(url: str) -> str:
    return urlsplit(url).path


def get(server: Server, signer: ImageSigner, url: str, **headers: str):
    return server.request(path_of(signer.proxied_url(url)), headers=headers)


# --- what is published ---------------------------------------------------------------------


def test_body_and_head_images_point_at_the_proxy(site, signer, upstream):
    proxied = signer.proxied_url(upstream.url("/img/a.png"))
    lazy = signer.proxied_url(upstream.url("/img/b.jpg"))
    assert proxied.startswith("http://127.0.0.1:8080/images/") and proxied.endswith(".png")
    tree = site.tree()
    documents = {path: tree[path].decode() for path in ("feeds/all.atom", "feeds/all.rss")}
    documents["feeds/all.json"] = tree["feeds/all.json"].decode()
    documents["articles/a.html"] = tree["articles/a.html"].decode()
    for path, text in documents.items():
        assert upstream.host not in text, path  # neither the body's images nor the head image
        assert "https://other.example/b.jpg" in text, path  # another host: left alone
        assert proxied in text and lazy in text, path
    atom = feedparser.parse(tree["feeds/all.atom"])
    (entry,) = atom.entries
    enclosure = next(link for link in entry.links if link.rel == "enclosure")
    assert (enclosure.href, enclosure.type) == (proxied, "image/png")
    assert entry.media_thumbnail[0]["url"] == proxied
    rss = feedparser.parse(tree["feeds/all.rss"])
    assert rss.entries[0].enclosures[0].href == proxied
    (item,) = json.loads(tree["feeds/all.json"])["items"]
    assert item["image"] == proxied
    assert f'<img alt="图" referrerpolicy="no-referrer" src="{proxied}">' in item["content_html"]


def test_the_key_is_made_once_and_kept_private(site):
    path = site.config().state.dir / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_bytes()
    assert len(key.strip()) == 64
    assert site.build().files_read == 0  # the same key: nothing to clean again
    assert path.read_bytes() == key


def test_feeds_check_makes_no_key_file(tmp_path, upstream):
    site = make_site(tmp_path, examples=False)
    site.config_path.write_text(site_config(upstream, proxy=True), encoding="utf-8")
    write_article(site, upstream)
    report = site.build(write=False)
    assert report.ok and report.articles_found == 1
    assert not (site.config().state.dir / KEY_FILE).exists()
    assert not site.public.exists()


def test_proxy_off_publishes_the_original_urls_and_serves_no_images(tmp_path, upstream):
    site = make_site(tmp_path, examples=False)
    site.config_path.write_text(site_config(upstream, proxy=False), encoding="utf-8")
    write_article(site, upstream)
    assert site.build().ok
    atom = site.tree()["feeds/all.atom"].decode()
    assert upstream.url("/img/a.png") in atom and "/images/" not in atom
    assert not (site.config().state.dir / KEY_FILE).exists()
    signer = ImageSigner(b"k" * 32, frozenset(), "http://x/")
    before = upstream.hits["/img/a.png"]
    with running(create_app(site.config())) as server:
        reply = get(server, signer, upstream.url("/img/a.png"))
    assert reply.status == 404
    assert upstream.hits["/img/a.png"] == before


def test_turning_the_proxy_on_and_off_cleans_every_article_again(tmp_path, upstream):
    site = make_site(tmp_path, examples=True)
    site.config_path.write_text(site_config(upstream, proxy=False), encoding="utf-8")
    write_article(site, upstream)
    off = site.build()
    assert off.ok and upstream.url("/img/a.png") in site.tree()["articles/a.html"].decode()
    site.config_path.write_text(site_config(upstream, proxy=True), encoding="utf-8")
    on = site.build()
    assert on.files_read == off.files_read == off.articles_found  # everything read again
    signer = image_signer(site.config())
    assert signer is not None
    page = site.tree()["articles/a.html"].decode()
    assert signer.proxied_url(upstream.url("/img/a.png")) in page
    assert upstream.host not in page
    site.config_path.write_text(site_config(upstream, proxy=False), encoding="utf-8")
    assert site.build().files_read == off.articles_found
    assert upstream.url("/img/a.png") in site.tree()["articles/a.html"].decode()


def test_a_new_key_cleans_every_article_again(tmp_path, upstream, monkeypatch):
    site = make_site(tmp_path, examples=False)
    site.config_path.write_text(site_config(upstream, proxy=True), encoding="utf-8")
    write_article(site, upstream)
    assert site.build().files_read == 1
    monkeypatch.setenv(KEY_ENV, "x" * 40)
    assert site.build().files_read == 1
    signer = image_signer(site.config())
    assert signer is not None and signer.key == b"x" * 40
    assert signer.proxied_url(upstream.url("/img/a.png")) in site.tree()["articles/a.html"].decode()


# --- what the proxy serves -------------------------------------------------------------------


def test_the_image_is_served_with_its_headers(app_server, signer, upstream):
    before = len(upstream.headers)
    reply = get(app_server, signer, upstream.url("/img/a.png"))
    assert reply.status == 200
    assert reply.body == PNG
    assert reply.headers["content-type"] == "image/png"
    assert reply.headers["content-length"] == str(len(PNG))
    assert reply.headers["cache-control"] == f"public, max-age={MAX_AGE}"
    assert reply.headers["etag"] == '"up-1"'
    assert reply.headers["last-modified"] == LAST_MODIFIED
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["content-security-policy"].startswith("default-src 'none'")
    sent = upstream.headers[before:]
    assert len(sent) <= 1  # none when an earlier test had it cached
    for headers in sent:
        assert "referer" not in headers and "cookie" not in headers
        assert headers["user-agent"].startswith("feeds/")


def test_a_second_request_is_answered_from_the_cache(app_server, signer, upstream):
    url = upstream.url("/img/c.png")
    before = upstream.hits["/img/c.png"]  # a redirect to it is fetched, and kept, on its own
    first = get(app_server, signer, url)
    second = get(app_server, signer, url)
    head = app_server.request(path_of(signer.proxied_url(url)), method="HEAD")
    assert first.status == second.status == head.status == 200
    assert first.body == second.body == PNG and head.body == b""
    assert upstream.hits["/img/c.png"] == before + 1


def test_requests_at_once_fetch_once(app_server, signer, upstream):
    url = upstream.url("/img/slowish.png")
    before = upstream.hits["/img/slowish.png"]
    replies = []
    threads = [
        threading.Thread(target=lambda: replies.append(get(app_server, signer, url)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [reply.status for reply in replies] == [200, 200, 200]
    assert upstream.hits["/img/slowish.png"] == before + 1


def test_conditional_requests_get_304(app_server, signer, upstream):
    url = upstream.url("/img/a.png")
    by_etag = get(app_server, signer, url, **{"If-None-Match": '"up-1"'})
    assert (by_etag.status, by_etag.body) == (304, b"")
    assert by_etag.headers["etag"] == '"up-1"'
    assert by_etag.headers["cache-control"] == f"public, max-age={MAX_AGE}"
    by_date = get(app_server, signer, url, **{"If-Modified-Since": LAST_MODIFIED})
    assert by_date.status == 304
    changed = get(app_server, signer, url, **{"If-None-Match": '"other"'})
    assert changed.status == 200


def test_an_image_without_validators_gets_an_etag_of_its_own(app_server, signer, upstream):
    url = upstream.url("/img/b.jpg")
    reply = get(app_server, signer, url)
    assert reply.status == 200 and reply.body == JPEG
    assert "last-modified" not in reply.headers
    again = get(app_server, signer, url, **{"If-None-Match": reply.headers["etag"]})
    assert again.status == 304
    # No date to compare with: If-Modified-Since alone never gives a 304.
    assert get(app_server, signer, url, **{"If-Modified-Since": LAST_MODIFIED}).status == 200


def test_a_tampered_signature_is_refused(app_server, signer, upstream):
    path = path_of(signer.proxied_url(upstream.url("/img/a.png")))
    _, _, signature, name = path.split("/")
    forged = ("A" if signature[0] != "A" else "B") + signature[1:]
    for tampered in (
        f"/images/{forged}/{name}",
        f"/images/{signature[:-1]}/{name}",
        f"/images/{signature}/{proxied_name(upstream.url('/img/c.png'))}",
    ):
        reply = app_server.request(tampered)
        assert reply.status == 403, tampered
        assert reply.headers["cache-control"] == "no-store"
        assert reply.headers["content-type"].startswith("text/plain")


def test_a_bad_name_is_not_found(app_server, signer, upstream):
    path = path_of(signer.proxied_url(upstream.url("/img/a.png")))
    _, _, signature, name = path.split("/")
    for bad in (f"{name}.png", name.removesuffix(".png") + ".jpg", "!!!", name + "=", "%ff"):
        assert app_server.request(f"/images/{signature}/{bad}").status == 404, bad


def test_a_signed_url_off_the_allowlist_is_refused(app_server, signer, upstream):
    before = sum(upstream.hits.values())
    for url in (
        f"http://localhost:{upstream.port}/img/a.png",  # the same server, another name
        "http://127.0.0.1:1/img/a.png",  # another port
        f"http://user@{upstream.host}/img/a.png",
        f"ftp://{upstream.host}/img/a.png",
        "file:///etc/passwd",
    ):
        assert get(app_server, signer, url).status == 403, url
    assert sum(upstream.hits.values()) == before


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/big.png", 502),  # Content-Length over images.max_bytes
        ("/unannounced.png", 502),  # no Content-Length; counted while reading
        ("/away.png", 502),  # a redirect off images.hosts
        ("/loop.png", 502),  # too many redirects
        ("/page.png", 502),  # not an image
        ("/broken.png", 502),  # upstream failed
        ("/missing.png", 404),  # upstream has no such image
    ],
)
def test_what_is_not_an_image_to_pass_on_is_refused(app_server, signer, upstream, path, status):
    reply = get(app_server, signer, upstream.url(path))
    assert reply.status == status
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["content-type"].startswith("text/plain")
    assert b"script" not in reply.body


def test_a_redirect_on_the_allowlist_is_followed(app_server, signer, upstream):
    reply = get(app_server, signer, upstream.url("/hop.png"))
    assert reply.status == 200 and reply.body == PNG


def test_the_redirect_target_off_the_allowlist_is_never_asked(app_server, signer, upstream):
    before = upstream.hits["/img/c.png"]
    assert get(app_server, signer, upstream.url("/away.png")).status == 502
    assert upstream.hits["/img/c.png"] == before  # localhost:port is the same server


@pytest.mark.slow
def test_a_slow_upstream_times_out_within_the_timeout(app_server, signer, upstream):
    started = time.monotonic()
    reply = get(app_server, signer, upstream.url("/slow.png"))
    elapsed = time.monotonic() - started
    assert reply.status == 504
    assert TIMEOUT * 0.9 < elapsed < TIMEOUT + 1.0


def test_errors_are_not_cached(app_server, signer, upstream):
    url = upstream.url("/broken.png")
    before = upstream.hits["/broken.png"]
    assert get(app_server, signer, url).status == 502
    assert get(app_server, signer, url).status == 502
    assert upstream.hits["/broken.png"] == before + 2


def test_only_get_and_head(app_server, signer, upstream):
    reply = app_server.request(path_of(signer.proxied_url(upstream.url("/img/a.png"))), "POST")
    assert reply.status == 405
    assert reply.headers["allow"] == "GET, HEAD"


# --- the pieces ------------------------------------------------------------------------------

SIGNER = ImageSigner(
    b"0123456789abcdef0123456789abcdef",
    frozenset({("n.sinaimg.cn", None), ("127.0.0.1", 8123)}),
    "https://feeds.example/sub/",
)


def test_a_proxied_url_reads_back_and_verifies():
    url = "https://n.sinaimg.cn/finance/图片/a b.JPG?x=1&y=2"
    proxied = SIGNER.proxied_url(url)
    prefix, signature, name = proxied.rsplit("/", 2)
    assert prefix == "https://feeds.example/sub/images"
    assert name.endswith(".jpg") and len(signature) == 22
    assert url_of(name) == url
    assert SIGNER.verify(signature, url)
    assert not SIGNER.verify(signature, url + "x")
    assert not SIGNER.verify("é" * 22, url)
    other = ImageSigner(b"another key, just as long as it0", SIGNER.hosts, SIGNER.base_url)
    assert not other.verify(signature, url)
    assert SIGNER.proxied_url(url) == proxied  # same input, same bytes


def test_only_the_canonical_name_reads_back():
    name = proxied_name("https://n.sinaimg.cn/a")
    assert url_of(name) == "https://n.sinaimg.cn/a"
    assert url_of(name + ".png") is None
    assert url_of(name[:-1] + chr(ord(name[-1]) + 1)) is None  # other padding bits
    assert url_of("") is None and url_of("a+b") is None and url_of("_w") is None


@pytest.mark.parametrize(
    ("url", "rewritten"),
    [
        ("https://n.sinaimg.cn/a.png", True),
        ("http://n.sinaimg.cn/a.png", True),
        ("https://n.sinaimg.cn:443/a.png", True),
        ("https://N.SINAIMG.CN/a.png", True),
        ("https://n.sinaimg.cn:8443/a.png", False),
        ("http://127.0.0.1:8123/a.png", True),
        ("http://127.0.0.1/a.png", False),
        ("https://x.n.sinaimg.cn/a.png", False),
        ("https://n.sinaimg.cn.evil.example/a.png", False),
        ("https://user:pw@n.sinaimg.cn/a.png", False),
        ("ftp://n.sinaimg.cn/a.png", False),
        ("https://n.sinaimg.cn:99999/a.png", False),
    ],
)
def test_which_urls_are_rewritten(url, rewritten):
    assert (SIGNER.rewrite(url) != url) is rewritten


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("n.sinaimg.cn", ("n.sinaimg.cn", None)),
        ("127.0.0.1:8123", ("127.0.0.1", 8123)),
        ("[::1]:8080", ("::1", 8080)),
        ("a/b", None),
        ("user@host", None),
        ("host:", None),
        ("host:0", None),
        ("host:080", None),
        ("-x.example", None),
        ("[nonsense]", None),
        ("", None),
    ],
)
def test_parse_host(text, host):
    assert parse_host(text) == host


def test_the_cleaner_rewrites_images_only():
    body = (
        '<p><img src="/a.png"><img data-src="https://n.sinaimg.cn/lazy.gif">'
        '<a href="https://n.sinaimg.cn/page.png">链接</a>'
        '<video src="https://n.sinaimg.cn/v.mp4" controls></video></p>'
    )
    result = clean_body(body, base_url="https://n.sinaimg.cn/article/", image_url=SIGNER.rewrite)
    assert SIGNER.proxied_url("https://n.sinaimg.cn/a.png") in result.html
    assert SIGNER.proxied_url("https://n.sinaimg.cn/lazy.gif") in result.html
    assert 'href="https://n.sinaimg.cn/page.png"' in result.html
    assert 'src="https://n.sinaimg.cn/v.mp4"' in result.html
    assert result.html.count('referrerpolicy="no-referrer"') == 2


def test_the_key_comes_from_the_environment_the_config_or_the_file(tmp_path, monkeypatch):
    config = parse_config("images: {proxy: true}\nstate: {dir: state}\n", base_dir=tmp_path)
    made = load_key(config)
    assert load_key(config) == made and len(made) == 64
    configured = parse_config(
        f"images: {{proxy: true, key: {'k' * 32}}}\nstate: {{dir: state}}\n", base_dir=tmp_path
    )
    assert load_key(configured) == b"k" * 32
    assert "k" * 32 not in repr(configured)  # never in a log line that shows the config
    monkeypatch.setenv(KEY_ENV, "e" * 32)
    assert load_key(configured) == b"e" * 32
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(FeedsError, match=KEY_ENV):
        load_key(configured)


def test_racing_processes_agree_on_one_key(tmp_path):
    config: Config = parse_config("state: {dir: state}\n", base_dir=tmp_path)
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_key(config))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(keys) == 8 and len(set(keys)) == 1
    assert os.listdir(tmp_path / "state") == [KEY_FILE]  # no temp file left


def test_a_damaged_key_file_says_how_to_fix_it(tmp_path):
    config = parse_config("state: {dir: state}\n", base_dir=tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / KEY_FILE).write_text("\n")
    with pytest.raises(FeedsError, match="delete the file"):
        load_key(config)


def test_the_cache_keeps_the_most_recent_images_within_its_bytes():
    cache = ImageCache(capacity=250)
    fetched: list[str] = []

    def fetcher(url: str, size: int = 100):
        def fetch() -> Image:
            fetched.append(url)
            return Image(b"x" * size, "image/png", url, None)

        return fetch

    for url in ("a", "b", "a", "c", "a", "b"):
        cache.get(url, fetcher(url))
    assert fetched == ["a", "b", "c", "b"]  # c pushed b out; a was used more recently
    assert isinstance(cache.get("huge", fetcher("huge", 300)), Image)
    cache.get("huge", fetcher("huge", 300))
    assert fetched[-2:] == ["huge", "huge"]  # bigger than the cache: never kept

    def refuse() -> Image:
        raise Refused(502, "no")

    outcome = cache.get("bad", refuse)
    assert isinstance(outcome, Refused) and outcome.status == 502
