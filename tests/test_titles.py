"""titles.py: quotation marks the scraper replaced by `_` come back from the body, and only
then; the real sample's title through the real CLI, in every format, over the real server."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from server import running
from sites import make_site, run_feeds

from feeds.clean.titles import repaired_title
from feeds.web.app import create_app

SAMPLE_TITLE = "教育部升级_国家中小学智慧教育平台_，资源数量增加一倍"
REPAIRED = "教育部升级“国家中小学智慧教育平台”，资源数量增加一倍"
PAGE = "articles/000_c956da2606e02062.html"


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (SAMPLE_TITLE, "<p>升级了“国家中小学智慧教育平台”，并</p>", REPAIRED),
        ("升级_平台_了", '<p>升级了"平台"</p>', '升级"平台"了'),
        ("升级_平台_了", "<p>升级了&quot;平台&quot;</p>", '升级"平台"了'),  # an entity
        ("升级_平台_了", "<p>升级了「平台」</p>", "升级「平台」了"),
        ("升级_平台_了", "<p>升级了『平台』</p>", "升级『平台』了"),
        ("升级_平台_了", "<p>升级了‘平台’</p>", "升级‘平台’了"),
        ("升级_平台_了", "<p>升级了＂平台＂</p>", "升级＂平台＂了"),
        # The first marks the body puts around it, wherever the others are.
        ("升级_平台_了", "<p>「平台」与“平台”</p>", "升级「平台」了"),
        # Two quoted phrases, each with its own evidence.
        ("_甲_和_乙_", "<p>“甲”和「乙」</p>", "“甲”和「乙」"),
        # Only the second pair has evidence: the first's closing underscore opens it.
        ("a_b_c_d", "<p>“c”</p>", "a_b“c”d"),
    ],
)
def test_marks_come_back_from_the_body(title: str, body: str, expected: str) -> None:
    assert repaired_title(title, body) == expected


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("snake_case", "<p>“case”</p>"),  # one underscore: nothing between two
        ("a_b", "<p>“a”“b”</p>"),
        ("_", "<p>“”</p>"),
        ("__init__", "<p>“init”</p>"),  # nothing between the first pair, no pair around init
        ("read_me_please", "<p>me, without marks</p>"),
        ("升级_平台_了", "<p>升级了“平台升级”</p>"),  # marks around more than X
        ("升级_平台_了", "<p>升级了《平台》</p>"),  # book-title marks are not quotation marks
        ("升级_平台_了", "<p>it's 平台'</p>"),  # an apostrophe is not a mark
        ("升级_ _了", "<p>“ ”</p>"),  # blank
        ("升级_平台_了", "<p>“平</p><p>台”</p>"),
    ],
)
def test_no_evidence_no_change(title: str, body: str) -> None:
    assert repaired_title(title, body) == title


@pytest.mark.slow  # builds the real sample and serves it on a real server
def test_the_real_sample_is_repaired_in_every_format_and_on_its_page(
    tmp_path: Path, sample_article: Path
) -> None:
    site = make_site(tmp_path, examples=False)
    shutil.copy(sample_article, site.articles)
    result = run_feeds("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr
    feeds = site.public / "feeds"
    assert feedparser.parse((feeds / "finance.atom").read_bytes()).entries[0].title == REPAIRED
    rss = etree.fromstring((feeds / "finance.rss").read_bytes())
    assert rss.findtext("channel/item/title") == REPAIRED
    items = json.loads((feeds / "finance.json").read_bytes())["items"]
    assert items[0]["title"] == REPAIRED
    page = (site.public / PAGE).read_text("utf-8")
    assert f"<title>{html.escape(REPAIRED)}" in page
    assert SAMPLE_TITLE not in page
    with running(create_app(site.config())) as server:
        served = server.request(f"/{PAGE}").body.decode("utf-8")
        index = server.request("/").body.decode("utf-8")
    assert f"<h1>{html.escape(REPAIRED)}</h1>" in served
    assert SAMPLE_TITLE not in served + index
