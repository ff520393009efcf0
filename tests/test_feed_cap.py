"""`max_bytes`: a feed's documents are cut to fit, oldest entries first, and the index says
how many entries the feed holds. Real builds in temp dirs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
from sites import CONFIG, make_site

CAP = 9000
CAPPED = CONFIG + f"    max_bytes: {CAP}\n"


def index_count(site, slug: str) -> int:
    """The entry count the index shows beside the feed."""
    html = (site.public / "index.html").read_text("utf-8")
    item = html.split(f'<li id="feed-{slug}">', 1)[1]
    return int(re.search(r"\((\d+) ", item)[1])  # "(30 entries)", "(30 篇文章)"


def test_every_document_of_a_capped_feed_fits_and_keeps_the_newest(tmp_path: Path) -> None:
    site = make_site(tmp_path, config=CAPPED)
    assert site.build().ok
    documents = {
        fmt: (site.public / f"feeds/finance.{fmt}").read_bytes() for fmt in ("atom", "rss", "json")
    }
    assert all(len(data) <= CAP for data in documents.values())
    atom = feedparser.parse(documents["atom"]).entries
    rss = feedparser.parse(documents["rss"]).entries
    items = json.loads(documents["json"])["items"]
    assert 0 < len(atom) == len(rss) == len(items)
    # The entries kept are the newest of the uncapped feed, in its order.
    uncapped = make_site(tmp_path / "uncapped", config=CONFIG)
    assert uncapped.build().ok
    full = feedparser.parse((uncapped.public / "feeds/finance.atom").read_bytes()).entries
    assert len(full) > len(atom)
    assert [e.id for e in atom] == [e.id for e in full[: len(atom)]]


def test_the_index_counts_the_entries_a_capped_feed_holds(tmp_path: Path) -> None:
    site = make_site(tmp_path, config=CAPPED)
    assert site.build().ok
    held = len(feedparser.parse((site.public / "feeds/finance.atom").read_bytes()).entries)
    assert index_count(site, "finance") == held
    # Still so after a build that renders only another feed.
    site.write(
        "other.txt", "\n---\ntitle: 科技新闻\ncategories: [科技]\ndate: 2022-05-01\n---\n<p>x</p>\n"
    )
    assert site.build().ok
    assert index_count(site, "finance") == held
    uncapped = index_count(site, "all")
    assert uncapped == len(feedparser.parse((site.public / "feeds/all.atom").read_bytes()).entries)
