"""The search index in the catalogue: built with it, changed with it in the same
transaction, read through a read-only connection, newest first in the feeds' order."""

import re
import sqlite3
from collections import Counter

import pytest
from sites import article_text, make_site

from feeds.build.builder import FILLING
from feeds.catalogue import search_index, store
from feeds.catalogue.records import article_from_json
from feeds.catalogue.search_index import (
    index_ready,
    newest_for,
    newest_holding,
    newest_matches,
    open_reader,
)
from feeds.catalogue.search_terms import match_expression, search_text, single_character
from feeds.catalogue.store import FILE_NAME

CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
"""


def search(site, query, limit=50):
    """The ids of the newest articles matching `query`, newest first."""
    connection = open_reader(site.config().state.dir / FILE_NAME)
    try:
        hits = newest_matches(connection, match_expression(query), limit)
    finally:
        connection.close()
    return [hit.article.id for hit in hits]


def integrity_check(site):
    """The index holds exactly the terms of the articles the catalogue holds, in as many
    of them as hold each: no term of a version removed stays behind (FTS5's own check
    cannot tell, for a contentless table), and FTS5's own check of its structure passes."""
    with sqlite3.connect(site.config().state.dir / FILE_NAME) as connection:
        connection.execute("INSERT INTO search (search, rank) VALUES ('integrity-check', 1)")
        connection.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, search, row)")
        indexed = dict(connection.execute("SELECT term, doc FROM temp.terms WHERE doc != 0"))
        expected = Counter()
        for data, content in connection.execute("SELECT data, content FROM articles"):
            text = search_text(article_from_json(data, content)).decode()
            expected.update(set(re.split(r"[\s\"']+", text.lower())) - {""})
    assert indexed == dict(expected)


def day(n, second=0):
    return f"Tue, {n:02d} Mar 2022 08:00:{second:02d} GMT"


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path, examples=False, config=CONFIG)


def test_two_character_words_are_found_inside_longer_text(site):
    site.write(
        "a.txt", article_text("宽松政策", body="<p>中国人民银行（央行）宣布全面降准0.5个百分点</p>")
    )
    site.write("b.txt", article_text("央行行长讲话", body="<p>稳增长</p>"))
    site.write("c.txt", article_text("其他", body="<p>中央银行与准备金</p>"))
    assert site.build().ok
    assert sorted(search(site, "央行")) == ["a", "b"]
    assert search(site, "降准") == ["a"]
    assert search(site, "准备金") == ["c"]
    assert search(site, "央行 降准") == ["a"]


def test_every_field_is_searched(site):
    site.write(
        "a.txt",
        "---\ntitle: 标题里的词\nauthor: 某某日报\ncategories: [金融, 宏观经济]\n"
        "tags: [货币政策]\nsummary: 摘要里的词\ndate: Tue, 15 Mar 2022 14:04:32 GMT\n---\n"
        "<p>正文里的词</p>\n",
    )
    site.write("b.txt", article_text("无关", body="<p>无关</p>"))
    assert site.build().ok
    for word in ("标题", "某某日报", "宏观经济", "货币政策", "摘要", "正文"):
        assert search(site, word) == ["a"], word


def test_the_index_follows_every_change_in_the_same_build(site):
    site.write("a.txt", article_text("第一版", body="<p>降准</p>"))
    site.write("b.txt", article_text("留下", body="<p>降准</p>", date=day(16)))
    assert site.build().ok
    assert search(site, "降准") == ["b", "a"]
    site.write("a.txt", article_text("第二版", body="<p>加息25个基点</p>"))  # a new size
    assert site.build().ok
    assert search(site, "降准") == ["b"] and search(site, "加息") == ["a"]
    assert search(site, "第一版") == [] and search(site, "第二版") == ["a"]
    (site.articles / "b.txt").unlink()
    assert site.build().ok
    assert search(site, "降准") == [] and search(site, "留下") == []
    integrity_check(site)


def test_a_bad_edit_keeps_the_last_good_article_searchable(site):
    site.write("a.txt", article_text("好文章", body="<p>降准</p>"))
    assert site.build().ok
    site.write("a.txt", "no front matter at all\n")
    assert not site.build().ok
    assert search(site, "降准") == ["a"]  # as in the feeds: the last good version stays


def test_results_are_newest_first_at_most_the_limit_in_the_feeds_order(site):
    for n in range(1, 13):  # two articles in each second: the feeds order them by id
        site.write(f"x{n:02d}.txt", article_text(f"甲{n}", body="<p>降准</p>", date=day(n, 5)))
        site.write(f"y{n:02d}.txt", article_text(f"乙{n}", body="<p>降准</p>", date=day(n, 5)))
    assert site.build().ok
    expected = [f"{prefix}{n:02d}" for n in range(12, 0, -1) for prefix in "xy"]
    assert search(site, "降准") == expected
    assert search(site, "降准", limit=5) == expected[:5]


def found_by_each_way(site, query, limit):
    """The ids newest_for finds, and the ids FTS5 alone finds; and whether newest_for
    answered from the newest articles without FTS5."""
    connection = open_reader(site.config().state.dir / FILE_NAME)
    try:
        answered = newest_for(connection, query, limit)
        character = single_character(query)
        scanned = character is not None and newest_holding(connection, character, limit)
        fts5 = newest_matches(connection, match_expression(query), limit)
    finally:
        connection.close()
    return [h.article.id for h in answered], [h.article.id for h in fts5], bool(scanned)


def test_a_character_most_articles_hold_is_found_among_the_newest_as_fts5_finds_it(site):
    for n in range(1, 13):  # two in each second, and every kind of field
        site.write(f"x{n:02d}.txt", article_text(f"甲{n}", body="<p>降准</p>", date=day(n, 5)))
        site.write(f"y{n:02d}.txt", article_text(f"乙{n}", body="<p>Ａ股</p>", date=day(n, 5)))
    site.write("z.txt", article_text("丙", body="<p><img alt='降'>别的</p>", date=day(13)))
    # A second file claiming y01's id: the feeds show y01.txt, which does not hold 降.
    site.write("zz.txt", article_text("丁", body="<p>降</p>", date=day(14), extra="id: y01\n"))
    # Text all in ASCII keeps its case in the index, which the tokenizer folds.
    site.write("v.txt", f"\n---\ntitle: GDP\ncategories: [Markets]\ndate: {day(15)}\n---\nUP\n")
    assert site.build().articles_failed == 1  # zz.txt, whose id y01.txt has
    for query, limit in (("降", 5), ("准", 12), ("a", 7), ("股", 3), ("甲", 4), ("g", 1)):
        answered, fts5, scanned = found_by_each_way(site, query, limit)
        assert scanned, query
        assert answered == fts5 and len(answered) == limit, query
    assert found_by_each_way(site, "降", 12)[0][:2] == ["x12", "x11"]  # no alt text, no y01
    # Fewer than the limit among the newest: FTS5 answers.
    assert found_by_each_way(site, "丙", 2) == (["z"], ["z"], False)
    assert found_by_each_way(site, "降", 13)[2] is False


def test_of_two_files_with_one_id_only_the_feeds_choice_is_found(site):
    site.write("a.txt", article_text("先到", body="<p>降准</p>", extra="id: same\n"))
    site.write("b.txt", article_text("后到", body="<p>降准 加息</p>", extra="id: same\n"))
    site.build()
    assert search(site, "降准") == ["same"]
    assert search(site, "加息") == []  # the other file's article is not published


def test_a_first_build_fills_the_index_in_chunks_in_the_order_of_time(site, monkeypatch):
    monkeypatch.setattr(search_index, "_FILL_CHUNK", 3)  # 10 articles: 4 chunks
    for n in range(1, 9):
        site.write(f"{n:02d}.txt", article_text(f"第{n}篇", body="<p>降准</p>", date=day(n)))
    for name in ("09", "10"):  # two in one second, across a chunk's end
        site.write(f"{name}.txt", article_text(name, body="<p>降准</p>", date=day(9, 30)))
    report = site.build()
    assert report.ok and list(report.timings)[-2:] == ["publish", FILLING]
    assert search(site, "降准") == ["09", "10", *(f"{n:02d}" for n in range(8, 0, -1))]
    # Row ids follow the order of time, and a fill adds rows in the order of their ids:
    # FTS5 never has to write out what it holds early.
    with sqlite3.connect(site.config().state.dir / FILE_NAME) as connection:
        by_row = [source for (source,) in connection.execute("SELECT source FROM search_rows")]
    assert by_row == [f"{n:02d}.txt" for n in range(1, 11)]
    integrity_check(site)


def test_many_changes_in_a_later_build_are_indexed_in_batches(site, monkeypatch):
    site.write("00.txt", article_text("第0篇", body="<p>降准</p>", date=day(1)))
    assert site.build().ok
    monkeypatch.setattr(search_index, "_BATCH", 3)  # 10 rows: 4 batches
    for n in range(1, 11):
        site.write(f"{n:02d}.txt", article_text(f"第{n}篇", body="<p>降准</p>", date=day(n, 30)))
    assert site.build().ok
    assert search(site, "降准") == [f"{n:02d}" for n in range(10, 0, -1)] + ["00"]
    integrity_check(site)


def stop_a_fill_half_way(site):
    """What a build killed while it filled the index leaves: its articles committed, the
    fill's own transaction rolled back."""
    with sqlite3.connect(site.config().state.dir / FILE_NAME) as connection:
        connection.executescript(
            "DELETE FROM meta WHERE key = 'search index filled';"
            " INSERT INTO search (search) VALUES ('delete-all'); DELETE FROM search_rows;"
        )


def test_a_fill_that_stopped_half_way_is_done_again_by_the_next_build(site):
    site.write("a.txt", article_text("降准", body="<p>正文</p>", date=day(1)))
    site.write("b.txt", article_text("加息", body="<p>正文</p>", date=day(2)))
    assert site.build().ok
    stop_a_fill_half_way(site)
    connection = open_reader(site.config().state.dir / FILE_NAME)
    assert not index_ready(connection)
    connection.close()
    site.write("b.txt", article_text("降息", body="<p>新的正文</p>", date=day(2)))  # meanwhile
    report = site.build()
    assert report.ok and FILLING in report.timings
    assert search(site, "降准") == ["a"] and search(site, "降息") == ["b"]
    assert search(site, "加息") == []
    integrity_check(site)
    assert FILLING not in site.build().timings  # once is enough


def merge_settings(site):
    with sqlite3.connect(site.config().state.dir / FILE_NAME) as connection:
        rows = connection.execute("SELECT k, v FROM search_config WHERE k LIKE '%merge'")
        return dict(rows)


def test_a_first_build_leaves_merging_to_the_builds_after_it(site, monkeypatch):
    monkeypatch.setattr(search_index, "_BATCH", 3)
    # Each batch older than the one before: each is written as a segment of its own.
    for n in range(1, 11):
        site.write(f"{n:02d}.txt", article_text(f"第{n}篇", body="<p>降准</p>", date=day(20 - n)))
    assert site.build().ok
    # Merging is back on for later builds; a level merges at once only at 64 segments.
    assert merge_settings(site) == {"automerge": 16, "crisismerge": 64}
    site.write("11.txt", article_text("第11篇", body="<p>降准</p>", date=day(25)))
    assert site.build().ok
    assert search(site, "降准") == ["11", *(f"{n:02d}" for n in range(1, 11))]
    integrity_check(site)


def test_a_fill_leaves_one_segment_for_later_builds_to_merge_into(site, monkeypatch):
    # A small hash makes the fill write a segment every few articles, as 16 MB does every
    # few thousand; left so, they would all be merged inside some later build's write.
    small = store.SEARCH_SCHEMA.replace("16777216", "4096")
    monkeypatch.setattr(store, "SEARCH_SCHEMA", small)
    for n in range(1, 41):
        site.write(f"{n:02d}.txt", article_text(f"第{n}篇", body="<p>降准 央行</p>" * 20))
    assert site.build().ok
    assert segments(site) == 1
    assert len(search(site, "降准")) == 40
    integrity_check(site)


def segments(site):
    with sqlite3.connect(site.config().state.dir / FILE_NAME) as connection:
        return connection.execute("SELECT COUNT(DISTINCT segid) FROM search_idx").fetchone()[0]


def test_a_change_of_rules_indexes_everything_again(site):
    site.write("a.txt", article_text("降准", body="<p>正文</p>"))
    assert site.build().ok
    config = site.config_path.read_text() + "clean: {summary_length: 20}\n"
    site.config_path.write_text(config, encoding="utf-8")
    assert site.build().ok
    assert search(site, "降准") == ["a"]
    integrity_check(site)


def test_the_reader_cannot_write(site):
    site.write("a.txt", article_text("降准"))
    assert site.build().ok
    connection = open_reader(site.config().state.dir / FILE_NAME)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("DELETE FROM search_rows")
    connection.close()


def test_no_catalogue_is_an_error_and_creates_none(site):
    path = site.config().state.dir / FILE_NAME
    with pytest.raises(sqlite3.OperationalError):
        open_reader(path)
    assert not path.exists()


def test_a_reader_in_the_middle_of_a_query_does_not_stop_a_build(site):
    for n in range(1, 4):
        site.write(f"{n}.txt", article_text(f"第{n}篇", body="<p>降准</p>", date=day(n)))
    assert site.build().ok
    reader = open_reader(site.config().state.dir / FILE_NAME)
    rows = reader.execute("SELECT rowid FROM search WHERE search MATCH ?", ('"降准"',))
    assert rows.fetchone() is not None  # its read transaction is open
    site.write("4.txt", article_text("第4篇", body="<p>降准</p>", date=day(4)))
    assert site.build().ok
    rows.close()
    assert newest_matches(reader, match_expression("降准"), 50)[0].article.id == "4"
    reader.close()


def test_an_edit_removes_the_right_row_of_two_in_one_second(site):
    site.write("a.txt", article_text("甲", body="<p>降准</p>", date=day(3, 7)))
    site.write("b.txt", article_text("乙", body="<p>降准</p>", date=day(3, 7)))
    assert site.build().ok
    site.write("b.txt", article_text("乙", body="<p>加息了</p>", date=day(3, 7)))
    assert site.build().ok
    assert search(site, "降准") == ["a"] and search(site, "加息") == ["b"]
    integrity_check(site)


def test_an_article_whose_text_cannot_be_made_is_left_out_and_no_other(site, monkeypatch, caplog):
    site.write("a.txt", article_text("降准甲", body="<p>正文</p>", date=day(1)))
    site.write("b.txt", article_text("降准乙", body="<p>正文</p>", date=day(2)))

    def failing(article):
        if article.title == "降准乙":
            raise ValueError("broken")
        return search_text(article)

    monkeypatch.setattr(search_index, "search_text", failing)
    assert site.build().ok
    assert search(site, "降准") == ["a"]
    assert "b.txt: left out of the search index (broken)" in caplog.text
    monkeypatch.undo()
    site.write("b.txt", article_text("降准乙", body="<p>改过的正文</p>", date=day(2)))
    assert site.build().ok  # nothing to take out of the index for it: it was never in
    assert search(site, "降准") == ["b", "a"]
    integrity_check(site)
