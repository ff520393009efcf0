"""An entry's `updated` comes from the front matter and from changes of content the catalogue
saw, never from a copy's modification times; `source.updated: mtime` is the old way, asked for.

Every build here is the real `feeds build` in a process of its own: each is a restart.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from scan import ATOM
from server import running
from sites import CONFIG, EXAMPLES, FIXED_MTIME, Site, make_site, run_feeds

from feeds.catalogue.store import FILE_NAME
from feeds.tree.urls import entry_id
from feeds.web.app import create_app

# Every test here builds through the real command line: outside the inner loop.
pytestmark = pytest.mark.slow

EDITED = "000_d56c9c7e6769d062"
EDITED_ID = entry_id(EDITED)


def built(site: Site) -> None:
    result = run_feeds("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stdout + result.stderr


def dates(site: Site, feed: str = "all") -> dict[str, tuple[datetime, datetime]]:
    """Entry id -> (published, updated), as the Atom feed says."""
    root = etree.fromstring((site.public / "feeds" / f"{feed}.atom").read_bytes())
    return {
        entry.findtext(f"{ATOM}id"): (
            datetime.fromisoformat(entry.findtext(f"{ATOM}published")),
            datetime.fromisoformat(entry.findtext(f"{ATOM}updated")),
        )
        for entry in root.iter(f"{ATOM}entry")
    }


def copied_site(root: Path, mtime: float | None) -> Site:
    """The examples copied as `cp -r` copies them (new mtimes), then set to `mtime` if given."""
    site = Site(root)
    root.mkdir()
    site.config_path.write_text(CONFIG, encoding="utf-8")
    shutil.copytree(EXAMPLES, site.articles, copy_function=shutil.copy)
    for path in site.articles.iterdir():
        if mtime is not None:
            os.utime(path, (mtime, mtime))
    return site


def test_copies_that_differ_only_in_mtimes_publish_the_same_bytes(tmp_path: Path) -> None:
    fresh = copied_site(tmp_path / "fresh", None)  # copied just now
    older = copied_site(tmp_path / "older", time.time() - 40 * 86400)  # as an older rsync left it
    for site in (fresh, older):
        built(site)
    assert fresh.tree() == older.tree()
    with running(create_app(fresh.config())) as one, running(create_app(older.config())) as two:
        first, second = one.request("/feeds/all.atom"), two.request("/feeds/all.atom")
    assert first.body == second.body
    for header in ("etag", "last-modified"):
        assert first.headers[header] == second.headers[header]


def test_no_two_example_entries_share_an_updated_time_after_a_copy(tmp_path: Path) -> None:
    site = copied_site(tmp_path / "site", None)
    built(site)
    found = dates(site)
    assert len(found) == len(list(EXAMPLES.iterdir()))
    # The W3C validator's DuplicateUpdated: with the copy's time, all 40 shared one.
    assert len({updated for _, updated in found.values()}) == len(found)
    assert all(updated == published for published, updated in found.values())


def edit(site: Site, old: str, new: str, mtime: float) -> None:
    """Change an article's bytes; `mtime` is what an `rsync -t` or a clone could leave."""
    path = site.articles / f"{EDITED}.txt"
    text = path.read_text("utf-8")
    assert old in text
    site.write(path.name, text.replace(old, new, 1), mtime)


def test_a_change_of_content_is_dated_when_a_build_first_saw_it(tmp_path: Path) -> None:
    site = make_site(tmp_path)  # mtimes before every date: they say nothing
    built(site)
    published, updated = dates(site)[EDITED_ID]
    assert updated == published
    seen_from = datetime.fromtimestamp(int(time.time()), UTC)
    edit(site, "</div>", "<p>更正：数据已更新。</p></div>", FIXED_MTIME + 60)
    built(site)
    seen_until = datetime.fromtimestamp(int(time.time()) + 1, UTC)
    published_after, seen = dates(site)[EDITED_ID]
    assert published_after == published
    assert seen_from <= seen <= seen_until
    before = site.tree()

    os.utime(site.articles / f"{EDITED}.txt")  # a touch: same bytes
    built(site)
    assert site.tree() == before

    # New rules make every file be read again: the time of the change is kept.
    site.config_path.write_text(
        site.config_path.read_text("utf-8") + "clean:\n  summary_length: 40\n", encoding="utf-8"
    )
    built(site)
    assert dates(site)[EDITED_ID] == (published, seen)

    # Back to the first version: a change too, seen later still.
    edit(site, "<p>更正：数据已更新。</p></div>", "</div>", FIXED_MTIME)
    built(site)
    assert dates(site)[EDITED_ID][1] >= seen


def test_the_front_matters_updated_wins_over_a_seen_change(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    built(site)
    edit(site, "comments: false\n", "comments: false\nupdated: 2023-01-02T03:04:05Z\n", FIXED_MTIME)
    built(site)
    assert dates(site)[EDITED_ID][1] == datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_source_updated_mtime_takes_the_files_time(tmp_path: Path) -> None:
    site = copied_site(tmp_path / "site", None)
    site.config_path.write_text(
        CONFIG.replace("  dir: articles\n", "  dir: articles\n  updated: mtime\n"),
        encoding="utf-8",
    )
    mtime = datetime(2023, 5, 6, 7, 8, 9, tzinfo=UTC)
    os.utime(site.articles / f"{EDITED}.txt", (mtime.timestamp(), mtime.timestamp()))
    built(site)
    assert dates(site)[EDITED_ID][1] == mtime


def test_a_catalogue_without_the_changes_table_is_replaced(tmp_path: Path) -> None:
    """A catalogue an older version wrote (schema 6, no record of changes) is read again."""
    site = make_site(tmp_path)
    built(site)
    path = site.public / ".feeds" / FILE_NAME
    with closing(sqlite3.connect(path)) as db:
        db.executescript("DROP TABLE changes; UPDATE meta SET value = '6' WHERE key = 'schema';")
    before = site.tree()
    result = run_feeds("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert "articles: 40 published, 0 failed" in result.stdout
    assert site.tree() == before
    edit(site, "</div>", "<p>补充。</p></div>", FIXED_MTIME + 60)
    built(site)
    published, updated = dates(site)[EDITED_ID]
    assert updated > published
