from datetime import UTC, datetime, timedelta

from factories import make_article, make_spec

from feeds.select import category_nodes, newest_first, select_feed

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
