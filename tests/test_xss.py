"""No active content reaches a subscriber: a build of articles made of the OWASP XSS filter
evasion vectors (the bodies of tests/cases/clean/owasp-*.html and the other unsafe-markup
cases), used as bodies, titles, authors and category names, publishes nothing that runs.

Feeds carry HTML as escaped text, so every published file is decoded first (tests/scan.py)
and each decoded text is parsed as HTML, the way a reader or browser would.
"""

from __future__ import annotations

import json

import pytest
from scan import active_content, published_texts
from sites import Site, make_site
from xss_vectors import VECTOR_CASES, article, vectors

from feeds.tree.urls import article_path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = make_site(tmp_path_factory.mktemp("xss"), examples=False)
    for name, body in vectors():
        for line_number, line in enumerate(body.splitlines()):
            if line.strip():
                # Each line of a vector once as a title, author, category, tag and summary.
                site.write(
                    f"{name}/{line_number}.txt", article(name, "<p>正文</p>", "向量 " + line)
                )
        site.write(f"{name}.txt", article(name, body, f"标题 {name}"))
    report = site.build()
    assert report.ok, report.errors
    return site


def test_there_are_vectors() -> None:
    assert len(VECTOR_CASES) >= 25


def test_nothing_active_is_published(site: Site) -> None:
    tree = site.tree()
    assert {"index.html", "feeds/all.atom", "feeds/all.rss", "feeds/all.json"} <= set(tree)
    assert len([p for p in tree if p.startswith("articles/")]) > 100
    found = {}
    for path, data in tree.items():
        for text in published_texts(path, data):
            active = active_content(text)
            if active:
                found.setdefault(path, []).extend(active)
    assert found == {}


def test_every_vector_body_is_published(site: Site) -> None:
    for name, _ in vectors():
        page = (site.public / article_path(name)).read_text("utf-8")
        assert f"标题 {name}" in page
    items = json.loads((site.public / "feeds/all.json").read_bytes())["items"]
    assert len(items) == 50  # the limit: the feeds are full of vectors


def test_the_scan_finds_what_it_looks_for() -> None:
    # The scanner itself: each of these must be caught, or the test above proves nothing.
    for html in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href=" javascript:alert(1)">x</a>',
        "<iframe src=https://a/></iframe>",
        '<meta http-equiv="refresh" content="0;url=https://a/">',
        "<base href=https://a/>",
        '<div style="width: expression(alert(1))">x</div>',
        "<svg><g/onload=alert(1)></svg>",
        '<object data="https://a/x.swf"></object>',
        '<img src="data:image/svg+xml;base64,AAAA">',
        "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    ):
        assert active_content(html), html
    assert active_content("&lt;script&gt;alert(1)&lt;/script&gt; 1 < 2") == []
