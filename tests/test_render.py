from datetime import UTC, datetime, timedelta

from factories import SITE, make_article, make_spec
from feedcheck import assert_parses_cleanly, assert_valid_atom, assert_valid_json_feed
from lxml import etree

from feeds.model import Feed
from feeds.render.formats import render_feed
from feeds.tree.urls import entry_id

ATOM = "{http://www.w3.org/2005/Atom}"
T0 = datetime(2022, 3, 15, 14, 4, 32, tzinfo=UTC)


def _feed(*articles, **spec):
    return Feed(make_spec(**spec), tuple(articles))


def _render(feed):
    return render_feed(SITE, feed, ttl_minutes=1)


def _rich_article():
    return make_article(
        "000_c956da2606e02062",
        title="教育部升级“国家中小学智慧教育平台”",
        author="新浪财经",
        editor="王蒙",
        image="https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png",
        tags=("教育",),
        summary="为深入实施国家教育数字化战略行动……",
        content='<p>正文</p><img src="https://n.sinaimg.cn/x.jpg" referrerpolicy="no-referrer">',
        updated=T0 + timedelta(hours=1),
    )


def test_atom_is_valid_and_carries_every_field(atom_schema):
    documents = _render(_feed(_rich_article(), make_article("b", published=T0 - timedelta(days=1))))
    atom = documents["atom"]
    assert_valid_atom(atom, atom_schema)
    parsed = assert_parses_cleanly(atom)
    entry = parsed.entries[0]
    assert entry.id == entry_id("000_c956da2606e02062")
    assert entry.title == "教育部升级“国家中小学智慧教育平台”"
    assert entry.author == "新浪财经"
    assert entry.summary == "为深入实施国家教育数字化战略行动……"
    assert "正文" in entry.content[0].value
    assert entry.link == "http://127.0.0.1:8080/articles/000_c956da2606e02062.html"
    assert [t.term for t in entry.tags] == ["金融", "新浪财经", "新浪财经－国內", "教育"]
    assert entry.media_thumbnail[0]["url"].endswith("343233024.png")
    enclosures = [link for link in entry.links if link.rel == "enclosure"]
    assert enclosures and enclosures[0].type == "image/png"
    assert entry.published_parsed[:6] == (2022, 3, 15, 14, 4, 32)
    assert entry.updated_parsed[:6] == (2022, 3, 15, 15, 4, 32)
    root = etree.fromstring(atom)
    assert root.findtext(f"{ATOM}updated") == "2022-03-15T15:04:32+00:00"
    assert root.find(f"{ATOM}link[@rel='self']").get("href").endswith("/feeds/finance.atom")
    contributor = root.find(f"{ATOM}entry/{ATOM}contributor/{ATOM}name")
    assert contributor is not None and contributor.text == "王蒙"


def test_rss_carries_every_field():
    rss = _render(_feed(_rich_article()))["rss"]
    parsed = assert_parses_cleanly(rss)
    assert parsed.version == "rss20"
    item = parsed.entries[0]
    assert item.id == entry_id("000_c956da2606e02062")
    assert item.guidislink is False
    assert item.author == "新浪财经"  # from dc:creator: RSS <author> needs an e-mail address
    assert item.summary == "为深入实施国家教育数字化战略行动……"
    assert "正文" in item.content[0].value
    assert item.enclosures[0].href.endswith("343233024.png")
    assert item.published_parsed[:6] == (2022, 3, 15, 14, 4, 32)
    root = etree.fromstring(rss)
    self_link = root.find("channel/{http://www.w3.org/2005/Atom}link[@rel='self']")
    assert self_link.get("href").endswith("/feeds/finance.rss")
    assert root.findtext("channel/lastBuildDate") == "Tue, 15 Mar 2022 15:04:32 +0000"


def test_json_feed_carries_every_field():
    document = assert_valid_json_feed(_render(_feed(_rich_article()))["json"])
    item = document["items"][0]
    assert document["feed_url"] == "http://127.0.0.1:8080/feeds/finance.json"
    assert item["id"] == entry_id("000_c956da2606e02062")
    assert item["image"].endswith("343233024.png")
    assert item["authors"] == [{"name": "新浪财经"}]
    assert item["date_published"] == "2022-03-15T14:04:32+00:00"


def test_entries_keep_the_given_order():
    articles = [make_article(x, published=T0 - timedelta(hours=i)) for i, x in enumerate("cab")]
    parsed = assert_parses_cleanly(_render(_feed(*articles))["atom"])
    assert [e.id for e in parsed.entries] == [entry_id(x) for x in "cab"]


def test_original_link_wins_over_the_permalink():
    article = make_article("a", link="https://finance.sina.com.cn/x.shtml")
    parsed = assert_parses_cleanly(_render(_feed(article))["rss"])
    assert parsed.entries[0].link == "https://finance.sina.com.cn/x.shtml"


def test_same_input_same_bytes_and_no_clock():
    feed = _feed(_rich_article())
    first = _render(feed)
    assert first == _render(feed)
    for data in first.values():
        assert str(datetime.now(UTC).year).encode() not in data


def test_an_empty_feed_is_still_valid(atom_schema):
    documents = render_feed(SITE, _feed(), ttl_minutes=1, fallback_updated=T0)
    assert_valid_atom(documents["atom"], atom_schema)
    assert b"2022-03-15T14:04:32+00:00" in documents["atom"]
    assert_parses_cleanly(documents["rss"])
    assert assert_valid_json_feed(documents["json"])["items"] == []


def test_an_entry_id_ignores_base_url_and_content():
    a = _render(_feed(make_article("x", content="<p>one</p>")))["atom"]
    site = SITE.__class__(**{**SITE.__dict__, "base_url": "https://example.org/news/"})
    b = render_feed(site, _feed(make_article("x", content="<p>two</p>")), ttl_minutes=1)["atom"]
    assert assert_parses_cleanly(a).entries[0].id == assert_parses_cleanly(b).entries[0].id
