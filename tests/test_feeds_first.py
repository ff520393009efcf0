"""A first build of a large archive publishes its feeds, and the pages of their entries,
before it cleans the rest (feeds.build.ahead): what is out first must be what the whole
build publishes, and link to nothing that is not there yet."""

from __future__ import annotations

import json
import logging
import os
import random
from datetime import UTC, datetime

import pytest
from sites import CONFIG, FIXED_MTIME, article_text, make_site

from feeds.build import ingest
from feeds.build.ahead import FeedsAhead
from feeds.build.builder import build
from feeds.build.selection import feed_specs, in_order, newest_first, select_feeds
from feeds.build.workers import Surveyed
from feeds.config import load_config
from feeds.tree.manifest import lists_nothing, read_listed
from feeds.tree.status import FEEDS_ARTICLES, FRONT_MATTER

# Configured feeds that choose by node, exclusion and author, besides the automatic ones.
FEEDS = """\
  - slug: world
    title: 国际
    categories: [金融/新浪财经/新浪财经－国际, 科技]
    exclude: [科技/新浪科技]
    limit: 7
  - slug: press
    title: 中证
    authors: [中国证券报]
    limit: 5
"""
ARTICLES = 400
BASE = "http://127.0.0.1:8080/"  # the site's, in tests.sites.CONFIG


def _site(root, monkeypatch, *, first_from: int, config: str = CONFIG + FEEDS):
    from feeds.bench.corpus import generate

    monkeypatch.setattr(ingest, "FIRST_FROM", first_from)
    site = make_site(root, examples=False, config=config)
    generate(site.articles, ARTICLES)
    for path in site.articles.iterdir():
        os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    return site


@pytest.mark.slow
def test_a_first_build_puts_the_feeds_out_first_and_then_the_same_tree(tmp_path, monkeypatch):
    whole = _site(tmp_path / "whole", monkeypatch, first_from=10**9)
    whole_report = whole.build()
    assert whole_report.ok and whole_report.feeds_out is None

    site = _site(tmp_path / "first", monkeypatch, first_from=100)
    seen: dict[str, bytes] = {}
    stages: list[tuple[str, int]] = []

    def progress(done: int, total: int, stage: str = "articles") -> None:
        if not stages or stages[-1] != (stage, total):
            stages.append((stage, total))
        if not seen and not lists_nothing(site.public):  # the first call after the feeds
            listed = read_listed(site.public)
            assert listed is not None
            seen.update((path, (site.public / path).read_bytes()) for path in listed)

    report = build(site.config(), progress=progress)
    assert report.ok and report.articles_found == ARTICLES and report.files_read == ARTICLES
    assert report.feeds_out is not None and report.feeds_out < report.seconds
    # Told of every stage, each whole: a bar or /healthz never sits still through one.
    assert [stage for stage, _ in stages] == [FRONT_MATTER, FEEDS_ARTICLES, "articles"]
    assert stages[0][1] == ARTICLES and stages[1][1] + stages[2][1] == ARTICLES
    assert sorted(report.feeds_written) == sorted(whole_report.feeds_written)
    pages = [path for path in seen if path.startswith("articles/")]
    assert 0 < len(pages) < ARTICLES, "the feeds' pages came first, the others after"
    linked = set()
    for path, data in seen.items():
        if path.startswith("feeds/") and path.endswith(".json"):
            urls = [item["url"] for item in json.loads(data)["items"]]
            linked.update(url.removeprefix(BASE) for url in urls if url.startswith(BASE))
    assert linked and linked <= set(pages), "a feed out first links only to pages out"
    final = site.tree(twins=True)
    assert {path: final[path] for path in seen if path in final} == {
        path: data for path, data in seen.items() if path in final
    }, "what was out first is what the whole build publishes"
    assert final == whole.tree(twins=True)
    again = site.build()
    assert again.files_read == 0 and again.files_written == 0


@pytest.mark.slow
def test_feeds_that_filter_on_text_are_published_with_the_rest(tmp_path, monkeypatch):
    config = CONFIG + "    match: 央行\n"
    site = _site(tmp_path, monkeypatch, first_from=100, config=config)
    report = site.build()
    assert report.ok and report.feeds_out is None
    assert site.tree()


@pytest.mark.slow
def test_an_id_claimed_twice_leaves_the_feeds_to_the_whole_build(tmp_path, monkeypatch, caplog):
    """Which of two files keeps an id is told only once both are read: the newest article's
    id, claimed again by a file it would not read first, stops the feeds going out first."""
    site = _site(tmp_path, monkeypatch, first_from=100)
    newest = "2023-12-01 10:00:00"  # after every generated article
    site.write("0-first.txt", article_text("甲", date=newest, extra="id: same\n"))
    site.write("zz-old.txt", article_text("乙", date="2001-01-01", extra="id: same\n"))
    with caplog.at_level(logging.INFO, logger="feeds"):
        report = site.build()
    assert report.feeds_out is None
    assert "two files claim an id a feed shows" in caplog.text
    assert [e for e in report.errors if "zz-old.txt: id 'same' is already used" in e]
    assert "甲" in (site.public / "feeds" / "all.json").read_text("utf-8")


@pytest.mark.slow
def test_a_tree_already_published_is_replaced_in_one_go(tmp_path, monkeypatch):
    """A catalogue made again (new rules, or lost) beside a published tree: publishing the
    feeds first would take every other page out of the manifest until the rest is read."""
    site = _site(tmp_path, monkeypatch, first_from=100)
    assert site.build().feeds_out is not None
    (site.public / ".feeds" / "catalogue.sqlite").unlink()
    report = site.build()
    assert report.ok and report.files_read == ARTICLES and report.feeds_out is None


def _surveyed(rng: random.Random, number: int) -> Surveyed:
    paths = [("金融",), ("金融", "股市"), ("金融", "国际"), ("科技",), ("科技", "互联网")]
    published = datetime(2022, 1, 1, tzinfo=UTC).timestamp() + rng.randrange(40) * 3600
    return Surveyed(
        source=f"{number:03}.md",
        stat=(number, number),
        id=f"id-{number}",
        title="标题",
        published=published,  # many ties: the id, then the source, order them
        updated=published + rng.randrange(10**6),
        categories=tuple(rng.sample(paths, rng.randrange(3))),
        author=rng.choices([None, "甲", "乙"], [10, 1, 10])[0],  # 甲's are far apart
    )


@pytest.mark.parametrize("seed", range(20))
def test_the_articles_told_ahead_hold_every_feed_s_entries(tmp_path, seed):
    """Whatever the archive, every entry of every feed, and the newest update, is among
    the articles told ahead."""
    rng = random.Random(seed)
    config_path = tmp_path / "feeds.yaml"
    limit = rng.randrange(1, 6)
    # Without a feed for each category node, only the configured feeds' choices count.
    auto = "" if seed % 2 else "category_feeds: false\n"
    config_path.write_text(
        auto
        + CONFIG.replace("[金融]\n", f"[金融]\n    limit: {limit}\n")
        + "  - slug: some\n    title: 某\n    categories: [金融, 科技/互联网]\n"
        + f"    exclude: [金融/股市]\n    authors: [甲]\n    limit: {limit + 1}\n"
        + "  - slug: by\n    title: 甲\n    authors: [甲]\n",
        encoding="utf-8",
    )
    config = load_config(config_path, base_dir=tmp_path)
    articles = [_surveyed(rng, number) for number in range(rng.randrange(1, 1000))]
    ahead = FeedsAhead(config)
    for article in articles:
        ahead.add(article)
    wanted = ahead.wanted()
    assert wanted is not None
    nodes = sorted({p[:d] for a in articles for p in a.categories for d in range(1, len(p) + 1)})
    ordered = newest_first(
        [a._replace(published=datetime.fromtimestamp(a.published, UTC)) for a in articles]
    )
    chosen = select_feeds(feed_specs(config, nodes), in_order(ordered))
    shown = {entry.source for selection in chosen for entry in selection.entries}
    assert shown <= wanted.keys()
    assert max(articles, key=lambda a: a.updated).source in wanted
    assert all(wanted[a.source] == a.stat for a in articles if a.source in wanted)
