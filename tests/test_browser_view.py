"""What a person sees: the HTML view of each feed (what a browser gets at a feed's address)
and the index's newest titles, kept up to date by incremental builds."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import feedparser
import pytest
from feedcheck import assert_parses_cleanly, assert_valid_atom
from lxml import html
from scan import active_content, published_texts
from sites import FIXED_MTIME, article_text, make_site
from xss_vectors import article, vectors

from feeds.build.site_files import HEADLINES
from feeds.catalogue.store import Catalogue
from feeds.tree.manifest import read_listed

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow

BASE = "http://127.0.0.1:8080/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = make_site(tmp_path_factory.mktemp("view"))
    assert site.build().ok
    return site, site.tree()


def _view(tree, slug):
    """The page a browser shows for a published feed."""
    return html.fromstring(tree[f"feeds/{slug}.html"])


def test_no_document_names_a_stylesheet_and_none_is_published(built, atom_schema):
    site, tree = built
    for path, data in tree.items():
        assert b"xml-stylesheet" not in data and b"XSLT" not in data, path
        assert not path.endswith(".xsl"), path
    for path in ("feeds/all.atom", "feeds/finance.rss"):
        assert tree[path].startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<')
        assert_parses_cleanly(tree[path])
    assert_valid_atom(tree["feeds/finance.atom"], atom_schema)
    assert all(p.endswith((".html", ".js")) or "xsl" not in p for p in tree)
    assert "feeds/finance.html" in (read_listed(site.public) or set())


@pytest.mark.parametrize("slug", ["finance", "all", "ke-ji--xin-lang-ke-ji-dc4b8d"])
def test_the_view_shows_the_feeds_entries_and_how_to_subscribe(built, slug):
    _, tree = built
    feed = feedparser.parse(tree[f"feeds/{slug}.atom"])
    page = _view(tree, slug)
    assert page.findtext(".//h1") == feed.feed.title
    box = page.get_element_by_id("subscribe")
    address = page.get_element_by_id("feed-address")
    assert address.get("value") == BASE + f"feeds/{slug}.atom"
    assert address.get("readonly") is not None
    assert page.get_element_by_id("copy-address").get("hidden") is not None  # the script shows it
    formats = box.xpath(".//a[@class='format']/@href")
    assert formats == [BASE + f"feeds/{slug}.{fmt}" for fmt in ("atom", "rss", "json")]
    assert BASE + "opml.xml" in box.xpath(".//a/@href")
    discovered = page.xpath("//head/link[@rel='alternate']/@href")
    assert discovered == formats
    assert page.xpath("//head/script/@src") == [BASE + "subscribe.js"]
    search = page.get_element_by_id("search")
    assert (search.get("action"), search.get("method")) == (BASE + "search", "get")
    assert search.xpath(".//input/@name") == ["q"]
    entries = page.xpath("//ol[@id='entries']/li[@class='entry']")
    assert len(entries) == len(feed.entries) > 0
    for item, entry in zip(entries, feed.entries, strict=True):
        link = item.find("h3/a")
        assert (link.text, link.get("href")) == (entry.title, entry.link)
        assert item.findtext("p[@class='summary']") == entry.summary
        shown = datetime.fromisoformat(item.find(".//time").get("datetime"))
        assert shown == datetime.fromisoformat(entry.published)
        assert shown.utcoffset() == datetime.now(SHANGHAI).utcoffset()
        terms = [term["term"] for term in entry.get("tags", [])]
        assert item.xpath(".//span[@class='category']/text()") == terms


def test_the_view_shows_the_head_images_the_feeds_publish(tmp_path):
    site = make_site(tmp_path, examples=False)
    picture = "https://n.sinaimg.cn/finance/2022/photo.jpg"
    site.write("a.txt", article_text("有图", extra=f"headimg: '{picture}'\n"))
    promo = "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"  # a QR promo
    site.write(
        "b.txt",
        article_text("无图", date="Tue, 15 Mar 2022 15:04:32 GMT", extra=f"headimg: '{promo}'\n"),
    )
    assert site.build().ok
    tree = site.tree()
    items = json.loads(tree["feeds/all.json"])["items"]
    assert [item.get("image") for item in items] == [None, picture]
    entries = _view(tree, "all").xpath("//ol[@id='entries']/li")
    assert [e.xpath(".//img[@class='head-image']/@src") for e in entries] == [[], [picture]]


def test_a_feed_with_no_entries_says_so(tmp_path):
    config = (
        "site: {title: 空站, base_url: 'http://127.0.0.1:8080/', language: en}\n"
        "source: {dir: articles}\noutput: {dir: public}\n"
        "feeds:\n  - {slug: nothing, title: 空, categories: [没有]}\n"
    )
    site = make_site(tmp_path, examples=False, config=config)
    site.write("a.txt", article_text())
    site.build()
    page = _view(site.tree(), "nothing")
    assert page.xpath("//ol[@id='entries']/li[@class='empty']/text()") == [
        "This feed has no entries yet."
    ]


def _newest(index: bytes) -> dict[str, list[tuple[str, str, str]]]:
    """Feed title -> (title, link, date) of each newest entry the index lists."""
    page = html.fromstring(index)
    return {
        item.findtext("a/strong"): [
            (a.text, a.get("href"), a.getnext().findtext("time"))
            for a in item.xpath("ul[@class='newest']/li/a")
        ]
        for item in page.xpath("//ul[@class='feeds']/li")
    }


def test_the_index_lists_each_feeds_newest_titles(built):
    _, tree = built
    newest = _newest(tree["index.html"])
    assert len(newest) == len([p for p in tree if p.endswith(".atom")])
    for title, listed in newest.items():
        slug = {"金融": "finance", "测试站点": "all"}.get(title)
        if slug is None:
            continue
        entries = feedparser.parse(tree[f"feeds/{slug}.atom"]).entries
        assert [(t, link) for t, link, _ in listed] == [
            (e.title, e.link) for e in entries[:HEADLINES]
        ]
    assert newest["专栏"][1][2] == "2022-05-25 02:50 (UTC+08:00)"  # in the source time zone
    assert "(2 篇文章)" in tree["index.html"].decode()


def test_a_new_article_and_an_edited_title_update_the_index(tmp_path, monkeypatch):
    site = make_site(tmp_path)
    assert site.build().ok
    index = site.public / "index.html"
    stamp = index.stat().st_mtime_ns
    assert site.build().files_written == 0
    assert index.stat().st_mtime_ns == stamp

    read: list[str] = []
    articles = Catalogue.articles

    def counting(self, sources):
        sources = list(sources)
        read.extend(sources)
        return articles(self, sources)

    monkeypatch.setattr(Catalogue, "articles", counting)
    site.write("new.txt", article_text("最新的文章", date="Thu, 30 Jun 2022 08:00:00 GMT"))
    assert site.build().ok
    assert read == ["new.txt"]  # the other listed titles come from the catalogue's copy
    assert _newest(index.read_bytes())["测试站点"][0][0] == "最新的文章"

    edit = article_text("改过的标题", date="Thu, 30 Jun 2022 08:00:00 GMT")
    site.write("new.txt", edit, mtime=FIXED_MTIME + 60)
    assert site.build().ok
    newest = _newest(index.read_bytes())["测试站点"]
    assert newest[0][0] == "改过的标题" and len(newest) == HEADLINES


def test_the_view_is_deterministic(tmp_path):
    first = make_site(tmp_path / "a")
    second = make_site(tmp_path / "b")
    assert first.build().ok and second.build().ok
    for path in ("feeds/all.html", "index.html", "feeds/all.atom", "feeds/all.rss"):
        assert first.tree()[path] == second.tree()[path], path


def test_the_view_of_a_feed_of_xss_vectors_runs_nothing(tmp_path):
    """What the view shows of entries is text and http(s) links only: titles, authors,
    terms and summaries made of the OWASP vectors stay text in the page a browser shows."""
    site = make_site(tmp_path, examples=False)
    for name, body in vectors():
        for number, line in enumerate(body.splitlines()):
            if line.strip():
                site.write(f"{name}/{number}.txt", article(name, "<p>正文</p>", "向量 " + line))
        site.write(f"{name}.txt", article(name, body, f"标题 {name}"))
    assert site.build().ok
    tree = site.tree()
    views = [path for path in tree if path.startswith("feeds/") and path.endswith(".html")]
    bodies = {path: "".join(published_texts(path, tree[path])) for path in views}
    assert len([body for body in bodies.values() if "向量 " in body]) > 2
    assert {path: active_content(body) for path, body in bodies.items()} == dict.fromkeys(views, [])
