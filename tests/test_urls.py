import re

import pytest

from feeds.tree.urls import article_path, category_slug, entry_id, feed_id

SAFE_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")


def test_ascii_category_keeps_its_words():
    assert category_slug(("finance",)) == "finance"
    assert category_slug(("finance", "asia")) == "finance--asia"


def test_chinese_category_is_transliterated_with_a_digest():
    slug = category_slug(("金融", "新浪财经"))
    assert slug.startswith("jin-rong--xin-lang-cai-jing-")
    assert slug == category_slug(("金融", "新浪财经")), "slugs must be stable"


@pytest.mark.parametrize(
    "path", [("../..",), ("a/b",), ("<script>",), ("x" * 300,), ("金融", "../etc"), ("",)]
)
def test_odd_category_names_give_safe_slugs(path):
    slug = category_slug(path)
    assert SAFE_SLUG.fullmatch(slug), slug
    assert len(slug) <= 80


def test_homophones_and_punctuation_do_not_collide():
    names = [("金融",), ("今融",), ("a/b",), ("a-b",), ("a b",), ("A B",)]
    slugs = {category_slug(p) for p in names}
    assert len(slugs) == len(names)


def test_digest_can_be_forced_for_an_ascii_name():
    assert category_slug(("all",), with_digest=True).startswith("all-")


def test_ids_are_urns_that_depend_only_on_the_article_id():
    assert entry_id("000_c956da2606e02062") == entry_id("000_c956da2606e02062")
    assert entry_id("a").startswith("urn:uuid:")
    assert entry_id("a") != entry_id("b")
    assert feed_id("a") != entry_id("a")


@pytest.mark.parametrize(
    ("article_id", "expected"),
    [
        ("000_c956da2606e02062", "articles/000_c956da2606e02062.html"),
        ("2022/03/note", "articles/2022/03/note.html"),
    ],
)
def test_plain_ids_are_their_own_page_names(article_id, expected):
    assert article_path(article_id) == expected


@pytest.mark.parametrize(
    "article_id", ["../../etc/passwd", "/abs", "a/../b", "教育部", "a b", "x."]
)
def test_unsafe_ids_become_flat_safe_page_names(article_id):
    path = article_path(article_id)
    assert re.fullmatch(r"articles/[a-z0-9][a-z0-9-]*~[0-9a-f]{10}\.html", path), path
    assert article_path(article_id) == path


def test_digest_names_never_equal_plain_names():
    unsafe = "x y"
    assert article_path(unsafe) != article_path(article_path(unsafe)[len("articles/") : -5])
    assert category_slug(("x/", "y")) != category_slug(("x", "/y"))
    digested = category_slug(("a/b",))
    assert category_slug((digested,)) != digested
