"""The watcher with the real scheduler and real file events, in temp dirs."""

import os
import subprocess
import time
from contextlib import contextmanager

import pytest
from sites import article_text, make_site, run_feeds
from watchdog.events import FileCreatedEvent

from feeds.build.lock import BuilderLock
from feeds.watch import watcher as watcher_module
from feeds.watch.watcher import Watcher

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow

CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
schedule: {interval: 3600, settle: 0.3}
feeds:
  - {slug: finance, title: 金融, categories: [金融]}
"""


def wait_for(condition, timeout=15.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def published(site, text, feed="all.atom"):
    path = site.public / "feeds" / feed
    return path.exists() and text in path.read_text()


@contextmanager
def watching(site):
    """A watcher on the site, once its first build is done; stopped after."""
    watcher = Watcher(site.config())
    watcher.start()
    try:
        assert watcher.first_build.wait(60)
        yield watcher
    finally:
        watcher.stop()


@pytest.fixture
def watched(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    with watching(site) as watcher:
        yield site, watcher


def write_at_once(site, name, text):
    """How a careful writer saves: a temp file, then a rename."""
    temp = site.articles / f".{name}.tmp"
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, site.articles / name)


def test_a_new_file_appears_in_its_feeds_and_in_all(watched):
    site, watcher = watched
    assert watcher.last_report.files_read == 40
    write_at_once(
        site, "new.txt", article_text("监视到的新文章", date="Thu, 30 Jun 2022 08:00:00 GMT")
    )
    wait_for(lambda: watcher.last_report.articles_found == 41, what="a build that found it")
    assert published(site, "监视到的新文章") and published(site, "监视到的新文章", "finance.atom")
    assert watcher.last_report.files_read == 1


def test_a_plainly_written_new_file_is_read_once_settled(watched):
    site, _ = watched
    (site.articles / "plain.txt").write_text(article_text("直接写入"), encoding="utf-8")
    wait_for(lambda: published(site, "直接写入"), what="the plainly written article")


def test_an_edit_a_delete_and_a_move(watched):
    site, watcher = watched
    write_at_once(site, "x.txt", article_text("第一版", extra="id: kept-id\n"))
    wait_for(lambda: published(site, "第一版"))
    write_at_once(site, "x.txt", article_text("第二版", extra="id: kept-id\n"))
    wait_for(lambda: published(site, "第二版") and not published(site, "第一版"))
    (site.articles / "sub").mkdir()
    os.replace(site.articles / "x.txt", site.articles / "sub/y.txt")
    wait_for(
        lambda: (
            watcher.last_report
            and watcher.last_report.files_read >= 1
            and (site.public / "articles/kept-id.html").exists()
            and published(site, "第二版")
        )
    )
    (site.articles / "sub/y.txt").unlink()
    page = site.public / "articles/kept-id.html"
    wait_for(lambda: not published(site, "第二版") and not page.exists(), what="the article to go")


def test_a_half_written_file_is_not_published_until_complete(watched):
    site, watcher = watched
    text = article_text("慢慢写完的文章", body="<p>开头</p>" + "<p>中间</p>" * 50 + "<p>结尾</p>")
    half = len(text) // 2
    with open(site.articles / "slow.txt", "w", encoding="utf-8") as handle:
        handle.write(text[:half])
        handle.flush()
        time.sleep(1.5)  # far longer than schedule.settle, with the file still open
        assert not published(site, "慢慢写完的文章")
        assert not (site.public / "articles/slow.html").exists()
        handle.write(text[half:])
    wait_for(lambda: published(site, "慢慢写完的文章"), what="the completed article")
    assert "结尾" in (site.public / "articles/slow.html").read_text()
    assert watcher.last_report.ok, watcher.last_report.errors


def test_temp_and_hidden_files_are_ignored(watched):
    site, watcher = watched
    before = watcher.last_report
    for name in (".hidden.txt", "draft.txt~", ".draft.txt.swp", "upload.txt.part", "4913"):
        (site.articles / name).write_text(article_text("不该出现"), encoding="utf-8")
    time.sleep(1.0)
    assert watcher.last_report is before, "ignored files must not even trigger a build"
    assert not published(site, "不该出现")


def test_reading_the_whole_archive_queues_no_event(tmp_path, caplog, monkeypatch):
    # A `grep -r` over a large archive opens and closes every file: those events must not
    # even be queued, or the kernel's queue (16,384 by default) overflows and drops the
    # events of files written meanwhile.
    site = make_site(tmp_path, config=CONFIG)
    many = site.articles / "older"
    many.mkdir()
    for n in range(2000):
        (many / f"{n}.md.bak").write_bytes(b"x")  # no article: only read below
    seen = []
    handle = watcher_module._Handler.on_any_event

    def counted(self, event):
        seen.append(event)
        handle(self, event)

    monkeypatch.setattr(watcher_module._Handler, "on_any_event", counted)
    with watching(site) as watcher:
        before = watcher.last_report
        subprocess.run(["grep", "-r", "-l", "央行", str(many)], check=False)
        time.sleep(0.5)
        assert [e for e in seen if "older" in e.src_path] == [], "reading queued events"
        write_at_once(
            site, "new.txt", article_text("读遍之后的新文章", date="Thu, 30 Jun 2022 08:00:00 GMT")
        )
        wait_for(lambda: watcher.last_report is not before, what="the build after the reads")
        wait_for(lambda: published(site, "读遍之后的新文章"), what="the new article")
        assert watcher.last_report.files_read == 1
    assert "overflow" not in caplog.text and "events were lost" not in caplog.text


def test_events_lost_make_the_next_build_scan_everything_soon(tmp_path):
    config = CONFIG.replace("interval: 3600", "interval: 3600, watch: false")
    site = make_site(tmp_path, config=config)
    with watching(site) as watcher:
        write_at_once(site, "unseen.txt", article_text("事件丢失时写入"))  # no event: watch off
        write_at_once(site, "named.txt", article_text("有事件的文章"))
        watcher.on_event(FileCreatedEvent(str(site.articles / "named.txt")))
        wait_for(lambda: published(site, "有事件的文章"), timeout=5, what="the named file")
        assert not published(site, "事件丢失时写入")  # a build on events reads what they name
        write_at_once(site, "named-too.txt", article_text("又一篇有事件的文章"))
        watcher.on_event(FileCreatedEvent(str(site.articles / "named-too.txt")))
        watcher.events_lost()  # what the kernel's overflow notice leads to, events or not
        wait_for(lambda: published(site, "事件丢失时写入"), timeout=5, what="a full scan")
        wait_for(lambda: published(site, "又一篇有事件的文章"), timeout=5, what="the named file")


def test_without_events_the_periodic_scan_still_publishes(tmp_path):
    config = CONFIG.replace("interval: 3600", "interval: 0.5, watch: false")
    site = make_site(tmp_path, config=config)
    with watching(site) as watcher:
        assert watcher._observer is None
        write_at_once(site, "polled.txt", article_text("轮询发现"))
        wait_for(lambda: published(site, "轮询发现"), what="the periodic scan")


def test_a_second_builder_is_refused(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    first = BuilderLock(site.public)
    assert first.acquire()
    try:
        second = BuilderLock(site.public)
        assert not second.acquire()
        assert f"pid {os.getpid()}" in second.busy_message()
        result = run_feeds("watch", "-c", "feeds.yaml", cwd=site.root)
        assert result.returncode == 1
        assert "another feeds process" in result.stderr and "already building" in result.stderr
        built = run_feeds("build", "-c", "feeds.yaml", cwd=site.root)
        assert built.returncode == 1 and "already building" in built.stderr
    finally:
        first.release()
    assert BuilderLock(site.public).acquire()


def test_a_directory_moved_in_and_deleted(watched, tmp_path):
    site, watcher = watched
    outside = tmp_path / "incoming"
    outside.mkdir()
    for i in range(3):
        (outside / f"batch-{i}.txt").write_text(article_text(f"整批{i}"), encoding="utf-8")
    os.replace(outside, site.articles / "batch")
    wait_for(lambda: all(published(site, f"整批{i}") for i in range(3)), what="the moved-in batch")
    for i in range(3):
        (site.articles / "batch" / f"batch-{i}.txt").unlink()
    (site.articles / "batch").rmdir()
    wait_for(lambda: not any(published(site, f"整批{i}") for i in range(3)), what="the batch to go")
    assert watcher.last_report.ok


def test_the_first_build_waits_for_files_just_copied_in(tmp_path):
    """A fresh copy (every mtime "now") is not published without its articles: the first
    build waits until they may have settled, and reads them all."""
    config = CONFIG.replace("settle: 0.3", "settle: 1.0")
    site = make_site(tmp_path, config=config)
    now = time.time()
    for path in site.articles.iterdir():
        os.utime(path, (now, now))  # as a fresh copy leaves them
    watcher = Watcher(site.config())
    watcher.start()
    try:
        assert watcher.first_build.wait(60)
        report = watcher.last_report
        assert report.files_read == 40 and not report.deferred
        assert report.articles_published == 40
        assert time.time() - now >= 1.0  # it did wait for them to settle
    finally:
        watcher.stop()


def test_a_deferred_file_is_read_once_settled_whatever_builds_ran_meanwhile(tmp_path):
    """A file too fresh to read even after the first build's wait (its mtime is ahead, as a
    copy from a machine whose clock runs fast leaves it) is looked at again by the builds
    that events trigger, and one is due when it may have settled: it never waits for the
    next full scan (an hour away here)."""
    site = make_site(tmp_path, config=CONFIG)
    site.write("ahead.txt", article_text("时钟超前的文章"), mtime=time.time() + 2)
    watcher = Watcher(site.config())
    watcher.start()
    try:
        assert watcher.first_build.wait(60)
        assert watcher.last_report.deferred == {"ahead.txt"}
        for i in range(12):  # a build for each file, none of them a full scan
            write_at_once(site, f"drop-{i}.txt", article_text(f"逐个放入{i}"))
            time.sleep(0.3)
        wait_for(lambda: published(site, "时钟超前的文章"), timeout=10, what="the deferred file")
        wait_for(lambda: all(published(site, f"逐个放入{i}") for i in range(12)))
    finally:
        watcher.stop()


def test_files_copied_before_start_and_files_dropped_later_are_all_published(tmp_path):
    """The issue's measurement: a fresh copy, then new files one by one while it settles."""
    config = CONFIG.replace("settle: 0.3", "settle: 1.0")
    site = make_site(tmp_path, config=config)
    now = time.time()
    for path in site.articles.iterdir():
        os.utime(path, (now, now))
    watcher = Watcher(site.config())
    watcher.start()
    try:
        for i in range(10):
            write_at_once(site, f"late-{i}.txt", article_text(f"后来的{i}"))
            time.sleep(0.1)
        wait_for(lambda: watcher.last_report and watcher.last_report.articles_found == 50)
        wait_for(lambda: watcher.last_report.articles_published == 50, timeout=5)
        assert not watcher.last_report.deferred
    finally:
        watcher.stop()
