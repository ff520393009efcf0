"""A feed and the index opened in a real browser: headless Chromium, against the real server.

Skipped when `chromium` is not installed (Debian: apt-get install chromium).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import feedparser
import pytest
from server import running
from sites import CONFIG, make_site

from feeds.web.app import create_app

CHROMIUM = shutil.which("chromium")
WIDTH, HEIGHT = 1200, 900

# A real browser: outside the inner loop.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
    ),
]


def _serve(root: Path):
    """The examples built for the server's own address: a view loads its script from the
    site's own origin (the pages' Content-Security-Policy allows no other)."""
    site = make_site(root)
    with running(create_app(site.config())) as server:
        site.config_path.write_text(
            CONFIG.replace("http://127.0.0.1:8080/", server.url), encoding="utf-8"
        )
        report = site.build()
        assert report.ok, report.errors
        yield site, server


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The real app on the real server."""
    yield from _serve(tmp_path_factory.mktemp("browser"))


def _chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [
        CHROMIUM or "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{HEIGHT}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _rows(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the (still filtered) pixel rows of an 8-bit RGB or RGBA PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks: dict[bytes, list[bytes]] = {}
    position = 8
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        chunks.setdefault(kind, []).append(png[position + 8 : position + 8 + length])
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    stride = 1 + width * (3 if colour == 2 else 4)  # a filter byte, then the pixels
    pixels = zlib.decompress(b"".join(chunks[b"IDAT"]))
    return width, height, [pixels[i : i + stride] for i in range(0, len(pixels), stride)]


def _assert_not_blank(png: Path) -> None:
    width, height, rows = _rows(png.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    # A blank page is one row repeated (even after PNG's row filters); text makes many.
    assert len(set(rows)) > 100, f"{png} looks blank: {len(set(rows))} distinct rows"


def _newest_title(data: bytes) -> str:
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return str(parsed.entries[0].title)


FEEDS = ["feeds/finance.atom", "feeds/ke-ji--xin-lang-ke-ji-dc4b8d.rss"]


@pytest.mark.parametrize("path", FEEDS)
def test_a_feed_opens_as_a_readable_page(served, tmp_path, path):
    # Chromium asks for text/html first: the feed's address answers with its HTML view,
    # and no XSLT is involved.
    site, server = served
    data = (site.public / path).read_bytes()
    assert b"<?xml-stylesheet" not in data
    dom = _chromium(tmp_path, "--dump-dom", server.url + path)
    assert "<feed" not in dom and "<channel" not in dom
    title = feedparser.parse(data).feed.title
    assert f'<h1 id="feed-title">{title}</h1>' in dom
    assert _newest_title(data) in dom
    assert "订阅这个订阅源" in dom  # the site is zh-CN
    # The script ran: it offers the address the page was opened at, and shows its button.
    assert (
        f'id="feed-address" class="feed-address" type="url" readonly="" value="{server.url + path}"'
        in dom
    )
    assert '<button id="copy-address" class="copy-button" type="button" data-copied=' in dom
    assert f'href="{server.url}opml.xml"' in dom
    screenshot = tmp_path / "feed.png"
    _chromium(tmp_path, f"--screenshot={screenshot}", server.url + path)
    _assert_not_blank(screenshot)


def test_the_index_shows_each_feeds_newest_titles(served, tmp_path):
    site, server = served
    dom = _chromium(tmp_path, "--dump-dom", server.url)
    assert "(30 篇文章)" in dom
    assert _newest_title((site.public / "feeds/finance.atom").read_bytes()) in dom
    screenshot = tmp_path / "index.png"
    _chromium(tmp_path, f"--screenshot={screenshot}", server.url)
    _assert_not_blank(screenshot)
