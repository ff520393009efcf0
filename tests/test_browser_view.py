"""What a person sees: the stylesheet a feed names (run here with libxslt, as a browser
would run it) and the index's newest titles, kept up to date by incremental builds."""

import json

import feedparser
import pytest
from feedcheck import assert_parses_cleanly, assert_valid_atom
from lxml import etree, html
from scan import active_content
from sites import FIXED_MTIME, article_text, make_site
from xss_vectors import article, vectors

from feeds.build.site_files import HEADLINES
from feeds.catalogue.store import Catalogue
from feeds.tree.writer import MANIFEST
from feeds.web.app import create_app

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow

BASE = "http://127.0.0.1:8080/"
PROLOG = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:8080/feed.xsl"?>\n'
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = make_site(tmp_path_factory.mktemp("view"))
    assert site.build().ok
    return site, site.tree()


def _view(tree, path):
    """The page a browser shows for a published feed."""
    transform = etree.XSLT(etree.fromstring(tree["feed.xsl"]))
    return html.fromstring(str(transform(etree.fromstring(tree[path]))))


@pytest.mark.parametrize("path", ["feeds/all.atom", "feeds/finance.rss"])
def test_feeds_name_the_stylesheet_and_stay_valid(built, path):
    _, tree = built
    assert tree[path].startswith(PROLOG)
    assert_parses_cleanly(tree[path])


def test_atom_with_the_stylesheet_still_validates(built, atom_schema):
    _, tree = built
    assert_valid_atom(tree["feeds/finance.atom"], atom_schema)


@pytest.mark.parametrize("path", ["feeds/finance.atom", "feeds/finance.rss"])
def test_the_stylesheet_shows_a_feed_with_help_on_subscribing(built, path):
    _, tree = built
    feed = feedparser.parse(tree[path])
    page = _view(tree, path)
    assert page.findtext(".//h1") == "金融"
    box = page.find(".//section[@class='subscribe']")
    assert "This is a web feed" in box.text_content()
    assert box.findtext(".//code") == BASE + path
    assert BASE + "opml.xml" in box.xpath(".//a/@href")
    links = page.xpath("//ol[@class='entries']/li/h3/a")
    assert [a.text for a in links] == [e.title for e in feed.entries]
    assert [a.get("href") for a in links] == [e.link for e in feed.entries]
    summaries = page.xpath("//ol[@class='entries']/li/p[not(@class)]/text()")
    assert summaries == [e.summary for e in feed.entries]


def test_atom_and_rss_show_the_same_dates(built):
    _, tree = built
    atom, rss = _view(tree, "feeds/finance.atom"), _view(tree, "feeds/finance.rss")
    times = atom.xpath("//time/text()")
    assert times == rss.xpath("//time/text()")
    assert times[0] == "2022-06-28 15:19 UTC"
    datetimes = rss.xpath("//time/@datetime")
    assert datetimes[0].startswith("2022-06-28T15:19:") and datetimes[0].endswith("Z")


def test_the_stylesheet_is_published_listed_and_served_as_xsl(built):
    site, tree = built
    assert "feed.xsl" in json.loads((site.public / MANIFEST).read_text())
    etree.XSLT(etree.fromstring(tree["feed.xsl"]))  # a well-formed, compilable stylesheet
    reply = create_app(site.config()).test_client().get("/feed.xsl")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/xsl; charset=utf-8"
    assert reply.data == tree["feed.xsl"]


def _newest(index: bytes) -> dict[str, list[tuple[str, str, str]]]:
    """Feed title -> (title, link, date) of each newest entry the index lists."""
    page = html.fromstring(index)
    return {
        item.findtext("strong"): [
            (a.text, a.get("href"), a.getnext().text)
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
    assert newest["专栏"][1][2] == "2022-05-25"  # the day in the source time zone
    assert "(2 entries)" in tree["index.html"].decode()


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
    for path in ("feed.xsl", "index.html", "feeds/all.atom", "feeds/all.rss"):
        assert first.tree()[path] == second.tree()[path], path


def test_the_view_of_a_feed_of_xss_vectors_runs_nothing(tmp_path):
    """What the stylesheet builds from entries is text and http(s) links only: titles,
    authors and summaries made of the OWASP vectors stay text in the page a browser shows."""
    site = make_site(tmp_path, examples=False)
    for name, body in vectors():
        for number, line in enumerate(body.splitlines()):
            if line.strip():
                site.write(f"{name}/{number}.txt", article(name, "<p>正文</p>", "向量 " + line))
        site.write(f"{name}.txt", article(name, body, f"标题 {name}"))
    assert site.build().ok
    tree = site.tree()
    for path in ("feeds/all.atom", "feeds/all.rss"):
        page = etree.tostring(_view(tree, path), encoding="unicode", method="html")
        body = page.split("<body>", 1)[1]  # the head is the stylesheet's own
        assert "向量 " in body
        assert active_content(body) == [], path
