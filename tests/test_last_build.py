"""What a build keeps for the next one (LastBuild): a typed record in tables of its own,
which an older catalogue is brought up to."""

import calendar
import sqlite3
from contextlib import closing

import feedparser
from sites import article_text, make_site

from feeds.catalogue.last_build import (
    LAST_BUILD_SCHEMA,
    FeedState,
    KeptHeadline,
    LastBuild,
    read_last_build,
    write_last_build,
)
from feeds.catalogue.store import FILE_NAME, SCHEMA_VERSION


def test_the_record_reads_back_as_written():
    last = LastBuild(
        render_signature="r",
        pages_signature="p",
        index_signature="i",
        feeds={"all": FeedState("a"), "finance": FeedState("f", held=12)},
        headlines={"one.txt": KeptHeadline("d", "标题", "http://127.0.0.1/articles/one.html")},
        unmatched=("second warning", "first warning"),
        empty_since=1_650_000_000,
    )
    with closing(sqlite3.connect(":memory:")) as db:
        db.executescript(LAST_BUILD_SCHEMA)
        assert read_last_build(db) == LastBuild()  # before the first build: nothing matches
        write_last_build(db, last)
        write_last_build(db, last)  # replaced, not added to
        assert read_last_build(db) == last


def test_a_catalogue_that_kept_json_under_meta_keys_is_rebuilt(tmp_path):
    """Schema 7 kept the last build's signatures, counts and headlines as JSON text under
    keys of the meta table, and the feeds' signatures without their counts."""
    site = make_site(tmp_path)
    first = site.build()
    path = site.public / ".feeds" / FILE_NAME
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(
            "DROP TABLE last_build; DROP TABLE headlines; DROP TABLE unmatched_categories;"
            " DROP TABLE feeds;"
            " CREATE TABLE feeds (slug TEXT PRIMARY KEY, signature TEXT NOT NULL);"
            " INSERT INTO meta VALUES ('render', 'r'), ('pages', 'p'), ('index', 'i'),"
            " ('counts', '{}'), ('headlines', '{}'), ('unmatched', '[]');"
            " UPDATE meta SET value = '7' WHERE key = 'schema';"
        )
    before = site.tree()
    report = site.build()
    assert report.ok and report.files_read == first.files_read == 40
    assert site.tree() == before
    again = site.build()
    assert again.files_read == again.files_written == 0
    with closing(sqlite3.connect(path)) as db:
        assert dict(db.execute("SELECT key, value FROM meta"))["schema"] == SCHEMA_VERSION
        keys = {key for (key,) in db.execute("SELECT key FROM meta")}
        assert keys == {"schema", "rules", "search index filled"}  # none of schema 7's
        assert db.execute("SELECT COUNT(*) FROM feeds").fetchone()[0] == report.feeds


def feed_updated(site) -> int:
    """The `updated` of the feed of every article, in epoch seconds."""
    parsed = feedparser.parse((site.public / "feeds/all.atom").read_bytes())
    return calendar.timegm(parsed.feed.updated_parsed)


def test_a_site_without_articles_keeps_the_time_it_was_first_published(tmp_path):
    site = make_site(tmp_path, examples=False)
    assert site.build().ok
    path = site.public / ".feeds" / FILE_NAME
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE last_build SET empty_since = 1000000000")
    site.config_path.write_text(  # a change that renders every feed again
        site.config_path.read_text().replace("测试站点", "新名字"), encoding="utf-8"
    )
    assert site.build().feeds_changed > 0
    assert feed_updated(site) == 1_000_000_000
    # Once it has articles, the time is theirs; the next empty site gets a time of its own.
    site.write("one.txt", article_text("一"))
    site.build()
    assert feed_updated(site) == 1_647_353_072  # the article's date
    (site.articles / "one.txt").unlink()
    site.build()
    assert feed_updated(site) > 1_700_000_000  # now
