"""The catalogue makes builds incremental: only what changed is read, rendered, written."""

import os
import shutil
import sqlite3
from contextlib import closing

import pytest
from feedcheck import assert_parses_cleanly
from sites import FIXED_MTIME, article_text, make_site

from feeds.build.builder import Builder
from feeds.catalogue import store
from feeds.catalogue.store import FILE_NAME
from feeds.tree.urls import entry_id


@pytest.fixture
def site(tmp_path):
    site = make_site(tmp_path)
    assert site.build().files_read == 40
    return site


def entries(site, feed="all"):
    parsed = assert_parses_cleanly((site.public / f"feeds/{feed}.atom").read_bytes())
    return {e.title: e for e in parsed.entries}


def test_a_restart_with_nothing_changed_reads_and_writes_nothing(site):
    before = site.tree()
    report = site.build()  # a new Catalogue object on the same file: a restart
    assert report.files_read == 0
    assert report.files_written == report.files_removed == 0
    assert report.ok and report.articles_found == 40
    assert site.tree() == before


def test_a_new_file_is_the_only_one_read_and_only_its_feeds_change(site):
    untouched = site.public / "feeds/ke-ji--xin-lang-ke-ji-dc4b8d.atom"
    stamp = untouched.stat().st_ino, untouched.stat().st_mtime_ns
    site.write("new.txt", article_text("新文章", date="Thu, 30 Jun 2022 08:00:00 GMT"))
    report = site.build()
    assert report.files_read == 1
    assert "新文章" in entries(site)
    assert "新文章" in entries(site, "finance")
    assert (untouched.stat().st_ino, untouched.stat().st_mtime_ns) == stamp
    assert 0 < report.feeds_changed < report.feeds
    assert (site.public / "articles/new.html").exists()


def test_a_touched_file_with_the_same_bytes_changes_nothing(site):
    path = next(site.articles.glob("*.txt"))
    os.utime(path, (FIXED_MTIME + 99, FIXED_MTIME + 99))
    report = site.build()
    assert report.files_read == 1 and report.files_written == 0
    assert site.build().files_read == 0  # the new stat was recorded


def test_an_edit_keeps_the_id_and_changes_updated(site):
    site.write("edit.txt", article_text("改前", body="<p>一</p>"))
    site.build()
    site.write("edit.txt", article_text("改后", body="<p>二</p>"), FIXED_MTIME + 10**8)
    report = site.build()
    assert report.files_read == 1
    after = entries(site)
    assert "改前" not in after
    assert after["改后"].id == entry_id("edit")
    assert after["改后"].updated_parsed > after["改后"].published_parsed


def test_a_delete_removes_the_entry_and_its_page(site):
    site.write("gone.txt", article_text("将被删除"))
    site.build()
    (site.articles / "gone.txt").unlink()
    report = site.build()
    assert "将被删除" not in entries(site)
    assert not (site.public / "articles/gone.html").exists()
    assert report.files_removed >= 1


def test_a_move_with_a_front_matter_id_keeps_the_entry_id(site):
    site.write("old/place.txt", article_text("搬家", extra="id: stays-put\n"))
    site.build()
    (site.articles / "new").mkdir()
    os.replace(site.articles / "old/place.txt", site.articles / "new/place.txt")
    report = site.build()
    assert report.ok, report.errors
    assert entries(site)["搬家"].id == entry_id("stays-put")
    assert (site.public / "articles/stays-put.html").exists()


def test_a_move_without_an_id_is_a_new_entry_and_the_old_one_goes(site):
    site.write("a.txt", article_text("无编号搬家"))
    site.build()
    os.replace(site.articles / "a.txt", site.articles / "b.txt")
    site.build()
    assert entries(site)["无编号搬家"].id == entry_id("b")
    assert not (site.public / "articles/a.html").exists()
    assert (site.public / "articles/b.html").exists()


def test_a_broken_edit_keeps_the_last_good_version_until_fixed(site):
    site.write("fragile.txt", article_text("好版本"))
    site.build()
    site.write("fragile.txt", "---\ntitle: 'unclosed\n---\n<p>x</p>\n", FIXED_MTIME + 5)
    broken = site.build()
    assert any(e.startswith("fragile.txt:") for e in broken.errors)
    assert "好版本" in entries(site)
    assert (site.public / "articles/fragile.html").exists()
    again = site.build()  # the error is still reported, without reading the file again
    assert again.files_read == 0 and any("fragile.txt" in e for e in again.errors)
    site.write("fragile.txt", article_text("修好了"), FIXED_MTIME + 10)
    fixed = site.build()
    assert fixed.ok
    assert "修好了" in entries(site) and "好版本" not in entries(site)


def test_the_problems_reported_are_read_without_passing_over_every_source(site):
    site.write("fragile.txt", "---\ntitle: 'unclosed\n---\n<p>x</p>\n")
    assert any(e.startswith("fragile.txt:") for e in site.build().errors)
    with closing(sqlite3.connect(site.public / ".feeds" / FILE_NAME)) as catalogue:
        plan = catalogue.execute("EXPLAIN QUERY PLAN " + store._PROBLEMS).fetchall()
    assert [step[-1] for step in plan] == ["SCAN sources USING INDEX sources_with_problems"]


def test_a_damaged_catalogue_is_rebuilt(site, caplog):
    path = site.public / ".feeds" / FILE_NAME
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    before = site.tree()
    report = site.build()
    assert report.ok and report.files_read == 40
    assert site.tree() == before
    assert "rebuilding it from the articles" in caplog.text
    assert site.build().files_read == 0


def test_a_missing_catalogue_is_rebuilt(site):
    for leftover in (site.public / ".feeds").glob(FILE_NAME + "*"):
        leftover.unlink()
    assert site.build().files_read == 40


def test_after_a_cold_build_the_catalogue_keeps_a_write_ahead_log_again(site):
    # The cold build wrote through a rollback journal; later builds' small commits must not
    # pay for one (a sync of the journal and of the file at each).
    path = site.public / ".feeds" / FILE_NAME
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == 40


def test_changed_cleaning_rules_re_clean_everything(site):
    site.config_path.write_text(
        site.config_path.read_text() + "clean:\n  summary_length: 40\n", encoding="utf-8"
    )
    report = site.build()
    assert report.files_read == 40
    summary = next(iter(entries(site).values())).summary
    assert len(summary) <= 41


def test_a_config_change_re_renders_without_re_reading(site):
    site.config_path.write_text(
        site.config_path.read_text().replace("title: 测试站点", "title: 新名字"), encoding="utf-8"
    )
    report = site.build()
    assert report.files_read == 0
    assert report.feeds_changed == report.feeds
    assert "新名字" in (site.public / "index.html").read_text()
    assert "新名字" in (site.public / "404.html").read_text()  # what static hosts answer with


def test_a_wiped_output_dir_is_published_again(site, tmp_path):
    before = site.tree()
    state = site.public / ".feeds"
    keep = tmp_path / "state-copy"
    state.rename(keep)
    import shutil

    shutil.rmtree(site.public)
    site.public.mkdir()
    keep.rename(state)
    report = site.build()
    assert report.files_read == 0
    assert site.tree() == before


def test_the_catalogue_is_plain_sqlite(site):
    with sqlite3.connect(site.public / ".feeds" / FILE_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == 40
        assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 40


def test_a_catalogue_of_an_older_format_is_replaced(site):
    path = site.public / ".feeds" / FILE_NAME
    with sqlite3.connect(path) as db:
        db.executescript(
            "DROP TABLE articles; CREATE TABLE articles (source TEXT PRIMARY KEY, id TEXT);"
            "UPDATE meta SET value = '0' WHERE key = 'schema';"
        )
    before = site.tree()
    report = site.build()
    assert report.ok and report.files_read == 40
    assert site.tree() == before


def test_a_catalogue_whose_tables_disagree_with_its_meta_is_rebuilt(site, caplog):
    path = site.public / ".feeds" / FILE_NAME
    with sqlite3.connect(path) as db:  # as a crash between two schema steps could leave it
        db.executescript("DROP TABLE articles; CREATE TABLE articles (source TEXT, id TEXT);")
    site.write("new.txt", article_text("表结构损坏之后"))
    report = site.build()
    assert report.ok and report.files_read == 41
    assert "表结构损坏之后" in entries(site)
    assert "rebuilding it from the articles" in caplog.text


@pytest.mark.slow
def test_worker_processes_build_the_same_bytes_as_one_process(tmp_path, monkeypatch):
    """Forked workers (a `feeds build`), workers from the fork server (a process that runs
    threads: the watcher, the web server) and no workers all give the same tree."""
    from feeds.bench.corpus import generate
    from feeds.build import ingest

    trees = []
    ways = (("forked", 1, "fork"), ("fork server", 1, "forkserver"), ("serial", 10**9, None))
    for name, pool_from, start_method in ways:
        monkeypatch.setattr(ingest, "POOL_FROM", pool_from)
        if start_method is not None:
            threads = 1 if start_method == "fork" else 2
            monkeypatch.setattr(ingest.threading, "active_count", lambda threads=threads: threads)
            assert ingest._pool_context().get_start_method() == start_method
        site = make_site(tmp_path / name, examples=False)
        generate(site.articles, 120)
        for path in site.articles.iterdir():
            os.utime(path, (FIXED_MTIME, FIXED_MTIME))
        site.write("dup-a.txt", article_text("甲", extra="id: same\n"))
        site.write("dup-b.txt", article_text("乙", extra="id: same\n"))
        report = site.build()
        assert report.files_read == 122
        assert [e for e in report.errors if "already used" in e]
        trees.append(site.tree())
    assert trees[0] == trees[1] == trees[2]
    assert "甲" in trees[0]["articles/same.html"].decode()  # the first file by path wins


def _dies_on_a_batch(batch):
    """A worker's task that kills its worker process on the `_dying` batch it takes."""
    _taken.append(batch)
    if len(_taken) == _dying:
        os._exit(1)  # as the kernel's OOM killer would end it: no exception, no clean-up
    return _read_batch(batch)


_taken: list = []
_dying = 0
_read_batch = None


@pytest.mark.slow
@pytest.mark.parametrize("dying", [1, 2, 3, 5])
def test_a_dead_worker_leaves_its_files_to_the_builder(tmp_path, monkeypatch, caplog, dying):
    """Every file is read once a worker dies: those it held, those handed out as the pool
    broke, and those not handed out. (When the pool breaks is a race: each case tries
    it at another moment.)"""
    global _read_batch, _dying
    from feeds.bench.corpus import generate
    from feeds.build import ingest

    _read_batch, _dying = ingest._read_batch, dying
    monkeypatch.setattr(ingest, "_read_batch", _dies_on_a_batch)
    monkeypatch.setattr(ingest, "BATCH", 8)
    monkeypatch.setattr(ingest.threading, "active_count", lambda: 1)  # forked workers
    sites = []
    for name, pool_from in (("died", 1), ("serial", 10**9)):
        monkeypatch.setattr(ingest, "POOL_FROM", pool_from)
        site = make_site(tmp_path / name, examples=False)
        generate(site.articles, 100)
        for path in site.articles.iterdir():
            os.utime(path, (FIXED_MTIME, FIXED_MTIME))
        report = site.build()
        assert report.ok and report.files_read == 100
        sites.append(site)
    assert "worker processes failed" in caplog.text
    died, serial = sites
    assert died.tree() == serial.tree()


def test_a_builder_that_keeps_running_publishes_what_a_new_one_would(site, tmp_path):
    """The builder the watcher keeps publishes each change from what it updated in the
    catalogue; a cold build of the same files must publish the same tree."""
    builder = Builder(site.config())
    builder.build()
    # An edit is seen by its new mtime; its `updated` is given (else it is the time the
    # edit was seen, which a cold build cannot know).
    later, earlier = FIXED_MTIME + 100, "Mon, 03 Jan 2022 08:00:00 GMT"
    updated = "updated: Mon, 03 Jan 2022 09:00:00 GMT\n"
    changes = [
        lambda: site.write("new.txt", article_text("新文章", date="Thu, 30 Jun 2022 08:00:00 GMT")),
        lambda: site.write("new.txt", article_text("新文章", date=earlier, extra=updated), later),
        lambda: site.write("tie.txt", article_text("同一秒", date=earlier)),
        lambda: site.write("other.txt", article_text("另一个", extra="id: new\n")),  # new.txt's
        lambda: (site.root / "articles" / "new.txt").unlink(),
        lambda: (site.root / "articles" / "tie.txt").unlink(),
    ]
    try:
        for number, change in enumerate(changes):
            change()
            errors = builder.build().errors
            fresh = make_site(tmp_path / f"fresh-{number}", examples=False)
            shutil.copytree(site.articles, fresh.articles, dirs_exist_ok=True)
            assert fresh.build().errors == errors
            assert site.tree() == fresh.tree()
    finally:
        builder.close()


def test_the_article_left_with_a_shared_id_gets_its_page(site):
    site.write("a/one.txt", article_text("一", extra="id: same\n"))
    site.write("b/two.txt", article_text("二", extra="id: same\n"))
    site.build()
    page = site.public / "articles/same.html"
    assert "<h1>一</h1>" in page.read_text(encoding="utf-8")
    (site.articles / "a/one.txt").unlink()
    assert site.build().ok
    assert "<h1>二</h1>" in page.read_text(encoding="utf-8")
    site.write("b/two.txt", article_text("二", extra="id: other\n"))
    site.build()
    assert not page.exists()
    assert (site.public / "articles/other.html").exists()


def test_a_restart_compares_names_in_any_script_in_the_catalogues_order(tmp_path):
    """A scan and the catalogue's records are compared in one pass, each in its own sort
    order: they must agree, or a restart would read files again as new and gone."""
    site = make_site(tmp_path, examples=False)
    names = ["Z.txt", "a b.txt", "a-b.txt", "a.txt", "é.txt", "数据.txt", "😀.txt", "ｚ.txt"]
    names += ["sub/b.txt", "sub-x.txt", "sub0.txt"]
    for name in names:
        site.write(name, article_text(name))
    first = site.build()
    assert first.ok and first.files_read == len(names)
    again = site.build()
    assert again.files_read == again.files_written == again.files_removed == 0
    pages = len(list((site.public / "articles").rglob("*.html")))
    (site.root / "articles" / "sub" / "b.txt").unlink()
    (site.root / "articles" / "sub").rmdir()
    builder = Builder(site.config())  # as the watcher builds what a file event names
    try:
        gone = builder.build(only=["sub"])
    finally:
        builder.close()
    assert gone.files_read == 0 and gone.articles_found == len(names) - 1
    assert len(list((site.public / "articles").rglob("*.html"))) == pages - 1


def test_files_left_to_settle_count_as_found_once(site):
    """A build of event-named files counts what the catalogue records, plus the new files
    it leaves for later; an edited file left for later is already counted."""
    site.write("new.txt", article_text("新文章"))
    edited = sorted(site.articles.glob("*.txt"))[0].name
    site.write(edited, article_text("改过的"), mtime=FIXED_MTIME + 60)
    builder = Builder(site.config())
    try:
        report = builder.build(only=["new.txt", edited], settled=lambda file: False)
    finally:
        builder.close()
    assert report.files_read == 0 and report.deferred == {"new.txt", edited}
    assert report.articles_found == 41
