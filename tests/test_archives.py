"""RFC 5005 archived feeds (`archives: true`): real builds in temp dirs, a real server on
loopback, and a reader that backfills by following the links."""

from __future__ import annotations

import os
from pathlib import Path

import feedparser
import pytest
from feedcheck import assert_parses_cleanly, assert_valid_atom
from lxml import etree
from server import running
from sites import CONFIG, Site, article_text, make_site

from feeds.tree.manifest import MANIFEST
from feeds.web.app import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"
ARCHIVED = CONFIG.replace("feeds:\n", "archives: true\nfeeds:\n") + "    limit: 7\n"
ARCHIVE = "public/feeds/finance/archive"
UNDER_FINANCE = 30  # example articles the finance feed holds


def links(data: bytes) -> dict[str, str]:
    """The feed-level links of an Atom document, by rel."""
    root = etree.fromstring(data)
    return {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}


def entry_ids(data: bytes) -> list[str]:
    root = etree.fromstring(data)
    return [entry.findtext(f"{ATOM}id") for entry in root.iter(f"{ATOM}entry")]


def archive_files(site: Site) -> list[Path]:
    directory = site.root / ARCHIVE
    return sorted(directory.glob("*.atom"), key=lambda path: int(path.stem))


def stamps(paths: list[Path]) -> dict[str, tuple[int, int]]:
    """Inode and modification time: a rewritten file changes one or the other."""
    return {path.name: (os.stat(path).st_ino, os.stat(path).st_mtime_ns) for path in paths}


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path, config=ARCHIVED)
    assert site.build().ok
    return site


def test_older_entries_go_into_linked_archive_documents(site: Site) -> None:
    feed = (site.public / "feeds/finance.atom").read_bytes()
    documents = archive_files(site)
    # 30 example articles under 金融, 7 in the feed: 23 archived, 7 a document.
    assert [path.name for path in documents] == ["1.atom", "2.atom", "3.atom", "4.atom"]
    assert [len(entry_ids(p.read_bytes())) for p in documents] == [7, 7, 7, 2]
    assert len(entry_ids(feed)) == 7
    base = "http://127.0.0.1:8080/feeds/finance"
    assert links(feed)["prev-archive"] == f"{base}/archive/4.atom"
    first, middle, newest = (links(documents[i].read_bytes()) for i in (0, 2, 3))
    assert "prev-archive" not in first and first["next-archive"] == f"{base}/archive/2.atom"
    assert middle["prev-archive"] == f"{base}/archive/2.atom"
    assert middle["next-archive"] == f"{base}/archive/4.atom"
    assert middle["current"] == f"{base}.atom"
    assert middle["self"] == f"{base}/archive/3.atom"
    assert "next-archive" not in newest  # the open document: nothing newer yet
    for path in documents:
        root = etree.fromstring(path.read_bytes())
        assert root.find(f"{FH}archive") is not None
        assert root.findtext(f"{ATOM}id") == etree.fromstring(feed).findtext(f"{ATOM}id")
        assert not assert_parses_cleanly(path.read_bytes()).bozo
    # The oldest entries are in the first document: a cold build archives in date order.
    dates = [
        [e.published_parsed for e in feedparser.parse(p.read_bytes()).entries] for p in documents
    ]
    assert max(dates[0]) <= min(dates[1]) and max(dates[2]) <= min(dates[3])


def test_archive_documents_are_valid_atom(site: Site, atom_schema: Path) -> None:
    for path in [*archive_files(site), site.public / "feeds/finance.atom"]:
        assert_valid_atom(path.read_bytes(), atom_schema)


def test_feed_and_archives_hold_every_entry_exactly_once(site: Site) -> None:
    every = entry_ids((site.public / "feeds/finance.atom").read_bytes())
    for path in archive_files(site):
        every += entry_ids(path.read_bytes())
    assert len(every) == len(set(every)) == UNDER_FINANCE


def test_a_new_article_fills_the_open_document_and_full_ones_are_never_rewritten(
    site: Site,
) -> None:
    full = archive_files(site)[:3]
    before = stamps(full)
    contents = {path.name: path.read_bytes() for path in full}
    site.write("new.txt", article_text("新的", date="Wed, 15 Jun 2033 10:00:00 GMT"))
    for day in range(10, 14):
        site.write(
            f"late{day}.txt", article_text(f"迟到的{day}", date=f"Mon, {day} Jun 2009 10:00:00 GMT")
        )
    report = site.build()
    assert report.ok
    documents = archive_files(site)
    # The newest entry pushed the feed's oldest out; the old articles went straight to the
    # archive; the open document (4) is full now, so an empty 5 opens.
    assert [len(entry_ids(p.read_bytes())) for p in documents] == [7, 7, 7, 7, 0]
    assert stamps(full) == before
    assert {path.name: path.read_bytes() for path in full} == contents
    assert "next-archive" in links(documents[3].read_bytes())
    feed = (site.public / "feeds/finance.atom").read_bytes()
    assert links(feed)["prev-archive"].endswith("/archive/5.atom")
    titles = [e.title for e in feedparser.parse(documents[3].read_bytes()).entries]
    assert "迟到的12" in titles
    # A build with nothing new writes nothing.
    quiet = stamps(archive_files(site))
    assert site.build().files_written == 0
    assert stamps(archive_files(site)) == quiet


def test_full_documents_survive_a_change_of_cleaning_rules(site: Site) -> None:
    full = archive_files(site)[:3]
    before = stamps(full)
    # Changing the rules makes the catalogue re-read every file and republish everything;
    # a full archive document still stays as it is.
    site.config_path.write_text(
        ARCHIVED.replace("feeds:\n", "clean:\n  summary_length: 40\nfeeds:\n"), encoding="utf-8"
    )
    assert site.build().ok
    assert stamps(full) == before


def test_a_lost_archive_document_is_written_again(site: Site) -> None:
    lost = archive_files(site)[1]
    expected = lost.read_bytes()
    lost.unlink()
    (site.public / "feeds/finance.atom").unlink()  # a full rebuild of the tree, too
    (site.public / MANIFEST).unlink()  # as if the tree were copied anew
    assert site.build().ok
    assert lost.read_bytes() == expected


def test_a_feed_that_goes_takes_its_archive_along(site: Site) -> None:
    site.config_path.write_text(ARCHIVED.replace("slug: finance", "slug: money"), encoding="utf-8")
    assert site.build().ok
    assert not archive_files(site)
    assert len(list((site.public / "feeds/money/archive").glob("*.atom"))) == 4


def test_max_bytes_cuts_go_to_the_archive(tmp_path: Path) -> None:
    site = make_site(tmp_path, config=ARCHIVED + "    max_bytes: 9000\n")
    assert site.build().ok
    feed = (site.public / "feeds/finance.atom").read_bytes()
    assert len(feed) <= 9000
    shown = entry_ids(feed)
    assert 0 < len(shown) < 7
    every = shown + [i for p in archive_files(site) for i in entry_ids(p.read_bytes())]
    assert len(every) == len(set(every)) == UNDER_FINANCE


def test_archives_off_publishes_none(tmp_path: Path) -> None:
    site = make_site(tmp_path, config=CONFIG + "    limit: 7\n")
    assert site.build().ok
    assert not (site.public / "feeds/finance").exists()
    assert "prev-archive" not in links((site.public / "feeds/finance.atom").read_bytes())


@pytest.mark.slow
def test_a_reader_backfills_everything_over_http(site: Site) -> None:
    with running(create_app(site.config())) as server:
        base = "http://127.0.0.1:8080/"
        path = "/feeds/finance.atom"
        seen: list[str] = []
        etags = {}
        while path:
            reply = server.request(path)
            assert reply.status == 200
            assert reply.headers["content-type"].startswith("application/atom+xml")
            seen += entry_ids(reply.body)
            etags[path] = reply.headers["etag"]
            previous = links(reply.body).get("prev-archive")
            path = "/" + previous.removeprefix(base) if previous else ""
        assert len(seen) == len(set(seen)) == UNDER_FINANCE
        # An archive document is a stable resource: a poller gets 304s.
        again = server.request(
            "/feeds/finance/archive/1.atom",
            headers={"If-None-Match": etags["/feeds/finance/archive/1.atom"]},
        )
        assert again.status == 304


def test_a_lost_catalogue_reads_the_archive_back_and_rewrites_no_full_document(
    site: Site,
) -> None:
    # Late arrivals fill document 4 (their order differs from a cold build's), 5 opens.
    for day in range(10, 15):
        site.write(f"late{day}.txt", article_text(f"迟到的{day}", date=f"{day} Jun 2009 10:00:00"))
    assert site.build().ok
    (site.articles / "late12.txt").unlink()  # gone, though a full document holds it
    assert site.build().ok
    full = archive_files(site)[:-1]
    assert len(full) == 4
    before = stamps(full)
    for path in (site.public / ".feeds").glob("catalogue.sqlite*"):
        path.unlink()
    site.write("later.txt", article_text("又一篇迟到的", date="1 Jul 2009 10:00:00"))
    assert site.build().ok
    assert stamps(full) == before
    every = entry_ids((site.public / "feeds/finance.atom").read_bytes())
    for path in archive_files(site):
        every += entry_ids(path.read_bytes())
    # Every article once, the deleted one too (in its full document), the new one in 5.
    assert len(every) == len(set(every)) == UNDER_FINANCE + 5 + 1
    assert "又一篇迟到的" in archive_files(site)[4].read_text("utf-8")


def test_a_check_plans_no_archive_and_reads_none_back(site: Site, caplog) -> None:
    before = stamps(archive_files(site))
    report = site.build(write=False)
    assert report.ok and report.files_written == 0
    assert "read back" not in caplog.text
    assert stamps(archive_files(site)) == before
