from datetime import UTC, datetime, timedelta

from factories import make_article, make_spec

from feeds.build.selection import category_nodes, newest_first, select_feed

T0 = datetime(2022, 3, 1, tzinfo=UTC)


def test_a_feed_on_a_parent_holds_every_article_under_it():
    a = make_article("a", categories=(("金融", "新浪财经", "国内"),))
    b = make_article("b", categories=(("金融", "证券"),))
    c = make_article("c", categories=(("科技",),))
    feed = select_feed(make_spec(categories=(("金融",),)), [a, b, c])
    assert {e.id for e in feed.entries} == {"a", "b"}


def test_a_deeper_prefix_and_exclude():
    a = make_article("a", categories=(("金融", "新浪财经", "国内"),))
    b = make_article("b", categories=(("金融", "新浪财经", "国际"),))
    spec = make_spec(categories=(("金融", "新浪财经"),), exclude=(("金融", "新浪财经", "国际"),))
    assert [e.id for e in select_feed(spec, [a, b]).entries] == ["a"]


def test_a_prefix_matches_whole_names_only():
    a = make_article("a", categories=(("金融街",),))
    assert select_feed(make_spec(categories=(("金融",),)), [a]).entries == ()


def test_no_categories_means_every_article():
    articles = [make_article(str(i), categories=()) for i in range(3)]
    assert len(select_feed(make_spec(categories=()), articles).entries) == 3


def test_newest_first_and_limit_with_a_stable_tie_break():
    articles = [
        make_article("b", published=T0),
        make_article("a", published=T0),
        make_article("c", published=T0 + timedelta(days=1)),
        make_article("d", published=T0 - timedelta(days=1)),
    ]
    feed = select_feed(make_spec(categories=(), limit=3), articles)
    assert [e.id for e in feed.entries] == ["c", "a", "b"]
    assert [a.id for a in newest_first(reversed(articles))] == ["c", "a", "b", "d"]


def test_category_nodes_are_every_prefix():
    a = make_article("a", categories=(("金融", "新浪财经", "国内"), ("评论",)))
    assert category_nodes([a]) == [
        ("评论",),
        ("金融",),
        ("金融", "新浪财经"),
        ("金融", "新浪财经", "国内"),
    ]


def test_author_filters():
    a = make_article("a", author="新浪财经")
    b = make_article("b", author="经济观察报")
    c = make_article("c", author=None)
    only = select_feed(make_spec(categories=(), authors=("新浪财经",)), [a, b, c])
    assert [e.id for e in only.entries] == ["a"]
    without = select_feed(make_spec(categories=(), exclude_authors=("新浪财经",)), [a, b, c])
    assert {e.id for e in without.entries} == {"b", "c"}


def test_keyword_filters_look_at_the_title_and_the_body_text():
    a = make_article("a", title="A股收盘", content="<p>正文</p>")
    b = make_article("b", title="宏观", content="<p>港股&amp;A股</p>")
    c = make_article("c", title="其他", content='<p><img alt="A股" src="x"></p>')
    matched = select_feed(make_spec(categories=(), match="A股"), [a, b, c])
    assert {e.id for e in matched.entries} == {"a", "b"}  # markup is not text
    left = select_feed(make_spec(categories=(), exclude_match="(?i)a股"), [a, b, c])
    assert [e.id for e in left.entries] == ["c"]


def test_filters_still_fill_the_limit_from_older_articles():
    articles = [
        make_article(str(i), published=T0 - timedelta(hours=i), author="甲" if i % 3 else "乙")
        for i in range(30)
    ]
    feed = select_feed(make_spec(categories=(), authors=("乙",), limit=5), articles)
    assert [e.id for e in feed.entries] == ["0", "3", "6", "9", "12"]
