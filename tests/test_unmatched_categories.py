"""A configured category that matches no article is reported, with the closest paths in use
(issue "Truthful feeds", item 5).

The sample spells its leaf 新浪财经－国內, with U+5167 and a fullwidth hyphen; a user types
新浪财经－国内 (U+5185), or writes a path as 金融 > 新浪财经.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from factories import make_article
from sites import FIXED_MTIME, make_site, run_feeds

from feeds.build.selection import category_nodes, closest_paths, unmatched_categories
from feeds.config import parse_config

NODES = [
    ("专栏",),
    ("科技",),
    ("科技", "新浪科技"),
    ("科技", "新浪科技", "互联网"),
    ("金融",),
    ("金融", "新浪财经"),
    ("金融", "新浪财经", "新浪财经－国內"),
    ("金融", "新浪财经", "新浪财经－国际"),
    ("金融", "新浪财经", "新浪财经－股市"),
]
DOMESTIC = "金融/新浪财经/新浪财经－国內"


@pytest.mark.parametrize(
    ("written", "first"),
    [
        (("新浪财经－国内",), ("金融", "新浪财经", "新浪财经－国內")),  # U+5185 for U+5167
        (("新浪财经-国內",), ("金融", "新浪财经", "新浪财经－国內")),  # ASCII hyphen
        (("金融 > 新浪财经",), ("金融", "新浪财经")),
        (("金融 ＞ 新浪财经",), ("金融", "新浪财经")),  # fullwidth
        (("金融 › 新浪财经 › 新浪财经 — 国內",), ("金融", "新浪财经", "新浪财经－国內")),
        (("金融", "新浪财经－国內"), ("金融", "新浪财经", "新浪财经－国內")),  # a level left out
        (("互联网",), ("科技", "新浪科技", "互联网")),  # only the leaf
        (("新浪科技",), ("科技", "新浪科技")),
    ],
)
def test_the_closest_path_comes_first(written, first) -> None:
    assert closest_paths(written, NODES)[0] == first


def test_at_most_three_and_nothing_far_off() -> None:
    assert len(closest_paths(("新浪财经",), NODES)) == 3
    assert closest_paths(("体育",), NODES) == []
    assert closest_paths(("Finance",), NODES) == []


def test_one_warning_per_category_that_matches_nothing(tmp_path: Path) -> None:
    config = parse_config(
        "feeds:\n"
        "  - {slug: a, title: A, categories: [金融, 新浪财经－国内]}\n"
        "  - {slug: b, title: B, categories: [体育]}\n"
        "  - {slug: c, title: C}\n",
        base_dir=tmp_path,
    )
    articles = [make_article("x"), make_article("y", categories=(("科技",),))]
    warnings = unmatched_categories(config, category_nodes(articles))
    assert len(warnings) == 2
    assert "feeds[0] (a): category '新浪财经－国内' matches no article" in warnings[0]
    assert f"closest in use: {DOMESTIC!r}" in warnings[0]
    assert "feeds[1] (b): category '体育'" in warnings[1]
    assert "no category in use comes close; top-level ones: '科技', '金融'" in warnings[1]
    without_articles = unmatched_categories(config, [])
    assert len(without_articles) == 3  # 金融 too, now
    assert all("; no article has a category yet (" in w for w in without_articles)


# -- through the command line, on the real sample ------------------------------------------

CONFIG = """\
site: {title: 试用, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
feeds:
  - {slug: domestic, title: 国内, categories: [新浪财经－国内]}
  - {slug: sina, title: 新浪财经, categories: [金融 > 新浪财经]}
  - {slug: finance, title: 金融, categories: [金融]}
"""


@pytest.fixture
def site(tmp_path: Path, sample_article: Path):
    site = make_site(tmp_path, examples=False, config=CONFIG)
    shutil.copyfile(sample_article, site.articles / sample_article.name)
    os.utime(site.articles / sample_article.name, (FIXED_MTIME, FIXED_MTIME))
    return site


def assert_both_warned(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if "matches no article" in line]
    assert len(lines) == 2, stderr
    assert "feeds.yaml: feeds[0] (domestic): category '新浪财经－国内'" in lines[0]
    assert f"closest in use: {DOMESTIC!r}" in lines[0]
    assert "feeds.yaml: feeds[1] (sina): category '金融 > 新浪财经'" in lines[1]
    assert "closest in use: '金融/新浪财经'," in lines[1]


def test_check_names_each_category_and_its_closest_paths(site) -> None:
    result = run_feeds("check", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr  # a warning, not an error
    assert_both_warned(result.stderr)
    assert "'金融'" not in result.stderr  # the feed on 金融 matches


@pytest.mark.slow
def test_build_says_so_in_one_line_and_lists_them_with_v(site) -> None:
    result = run_feeds("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert "matches no article" not in result.stderr
    assert "2 categories of configured feeds match no article; run with -v" in result.stderr
    assert (site.public / "feeds/domestic.atom").is_file()  # still published, empty
    # Nothing changed since: the build does no selecting, and still says it.
    again = run_feeds("build", "-v", "-c", "feeds.yaml", cwd=site.root)
    assert "0 changed" in again.stdout
    assert_both_warned(again.stderr)
    # Once the paths are written as the articles have them, nothing is said.
    site.config_path.write_text(
        CONFIG.replace("[新浪财经－国内]", f"['{DOMESTIC}']").replace(
            "金融 > 新浪财经", "金融/新浪财经"
        ),
        encoding="utf-8",
    )
    fixed = run_feeds("build", "-v", "-c", "feeds.yaml", cwd=site.root)
    assert fixed.returncode == 0, fixed.stderr
    assert "match" not in fixed.stderr
    assert b"<entry>" in (site.public / "feeds/domestic.atom").read_bytes()
