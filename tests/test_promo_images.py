"""A promo image is never an entry's picture (issue "Truthful feeds", item 3).

The scraper took the first image of the page as `headimg`: on Sina that is the app's QR
code at the end of the body, inside the `.appendQr_wrap` block the cleaner removes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import feedparser
import pytest
from sites import FIXED_MTIME, article_text, make_site, run_feeds

from feeds.clean.cleaner import clean_body
from feeds.images.signing import image_signer

QR = "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"
PHOTO = "https://n.sinaimg.cn/finance/crawl/243/w550h366/20220123/a7bb-79faf51.jpg"
BASE = "https://finance.sina.com.cn/roll/2022-03-15/doc-1.shtml"
QR_BLOCK = f'<div class="appendQr_wrap"><div class="appendQr_normal"><img src="{QR}"></div></div>'


def dropped(body: str, head_image: str | None, **options: Any) -> bool:
    """Whether cleaning `body` leaves out `head_image` as promo."""
    return clean_body(body, base_url=BASE, head_image=head_image, **options).head_image_dropped


# -- the cleaner's answer ------------------------------------------------------------------


def test_the_sample_head_image_is_promo_by_its_url_and_by_where_it_stands(
    sample_article: Path,
) -> None:
    body = sample_article.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    assert dropped(body, QR)
    # Without the URL pattern, the body still gives it away: it is only in the QR block.
    assert dropped(body, QR, drop_images=())


def test_a_head_image_shown_only_in_removed_cruft_is_dropped() -> None:
    body = f"<p>正文</p>{QR_BLOCK}"
    assert dropped(body, QR, drop_images=())


def test_a_head_image_shown_in_the_kept_body_stays_even_if_cruft_shows_it_too() -> None:
    body = f'<p>正文</p><p><img src="{QR}"></p>{QR_BLOCK}'
    assert not dropped(body, QR, drop_images=())


def test_a_head_image_not_in_the_body_and_matching_no_pattern_stays() -> None:
    assert not dropped(f"<p>正文</p>{QR_BLOCK}", PHOTO)
    assert not dropped("<p>正文</p>", PHOTO)


def test_a_head_image_matching_a_pattern_is_dropped_wherever_it_is() -> None:
    assert dropped("<p>正文</p>", QR)
    body = f'<p><img src="{PHOTO}"></p>'
    assert dropped(body, PHOTO, drop_images=("*/w550h366/*",))
    assert not dropped(body, PHOTO, drop_images=("*/w550h366",))  # the glob is of the whole URL


def test_cruft_urls_resolve_as_body_urls_do() -> None:
    """A relative or lazy-loaded image in the cruft is the head image it resolves to."""
    relative = '<p>正文</p><div class="appendQr_wrap"><img src="/qr/app.png"></div>'
    assert dropped(relative, "https://finance.sina.com.cn/qr/app.png", drop_images=())
    lazy = f'<p>正文</p><div class="appendQr_wrap"><img src="x.gif" data-src="{PHOTO}"></div>'
    # "x.gif" resolves to an image too, so the lazy one is not what the browser shows.
    assert not dropped(lazy, PHOTO, drop_images=())
    lazy = f'<p>正文</p><div class="appendQr_wrap"><img data-src="{PHOTO}"></div>'
    assert dropped(lazy, PHOTO, drop_images=())


def test_cruft_named_by_a_complex_selector_counts_too() -> None:
    body = f'<div class="box"><p>正文</p><div><img src="{PHOTO}"></div></div>'
    assert dropped(body, PHOTO, remove=(".box > div",), drop_images=())
    assert not dropped(body, PHOTO, remove=(), drop_images=())


def test_without_a_head_image_nothing_is_dropped() -> None:
    assert not dropped(f"<p>正文</p>{QR_BLOCK}", None)


# -- what a user sees ----------------------------------------------------------------------


@pytest.fixture
def sample_site(tmp_path: Path, sample_article: Path):
    site = make_site(tmp_path, examples=False)
    shutil.copyfile(sample_article, site.articles / sample_article.name)
    os.utime(site.articles / sample_article.name, (FIXED_MTIME, FIXED_MTIME))
    return site


def published_text(public: Path) -> str:
    return "\n".join(
        path.read_text(encoding="utf-8")
        for path in sorted(public.rglob("*"))
        if path.is_file() and path.suffix in {".atom", ".rss", ".json", ".html"}
    )


def test_the_sample_is_published_without_its_promo_picture(sample_site) -> None:
    story = f'<p>正文</p><img src="{PHOTO}">{QR_BLOCK}'
    sample_site.write(
        "story.txt",
        article_text(
            "有图", date="Mon, 14 Mar 2022 10:00:00 GMT", body=story, extra=f"headimg: '{PHOTO}'\n"
        ),
    )
    result = run_feeds("build", "-c", "feeds.yaml", cwd=sample_site.root)
    assert result.returncode == 0, result.stderr
    assert "images: 1 head image left out as promo" in result.stdout
    public = sample_site.public
    for name in ("all.atom", "finance.atom", "all.rss"):
        entries = feedparser.parse((public / "feeds" / name).read_bytes()).entries
        sample = next(e for e in entries if e.title.startswith("教育部升级"))
        assert "media_thumbnail" not in sample and sample.get("enclosures") == []
        story_entry = next(e for e in entries if e.title == "有图")
        assert story_entry.media_thumbnail[0]["url"] == PHOTO  # a story's picture stays
    items = json.loads((public / "feeds/all.json").read_text(encoding="utf-8"))["items"]
    assert [item.get("image") for item in items] == [None, PHOTO]  # the sample is newer
    assert "智慧教育平台" in items[0]["content_html"]
    assert "343233024" not in published_text(public)
    # Nothing changed, nothing read: the count is of this build's articles.
    again = run_feeds("build", "-c", "feeds.yaml", cwd=sample_site.root)
    assert "images:" not in again.stdout


def test_check_counts_promo_pictures_once_not_per_article(sample_site, sample_article) -> None:
    text = sample_article.read_bytes()
    for number in range(3):
        sample_site.write(
            f"copy-{number}.txt",
            text.replace(b"\ncomments:", f"\nid: c{number}\ncomments:".encode()),
        )
    result = run_feeds("check", "-v", "-c", "feeds.yaml", cwd=sample_site.root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("images: 4 head images left out as promo") == 1
    assert "343233024" not in result.stderr  # no warning per article


def test_a_new_pattern_takes_the_picture_off_articles_already_built(tmp_path: Path) -> None:
    site = make_site(tmp_path, examples=False)
    ad = "https://ads.example.com/banner/1.png"
    site.write("a.txt", article_text(extra=f"headimg: '{ad}'\n"))
    assert run_feeds("build", "-c", "feeds.yaml", cwd=site.root).returncode == 0
    assert ad in (site.public / "feeds/all.atom").read_text(encoding="utf-8")
    with site.config_path.open("a", encoding="utf-8") as config:
        config.write("clean:\n  drop_images: ['https://ads.example.com/*']\n")
    result = run_feeds("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert "images: 1 head image left out as promo" in result.stdout
    assert ad not in published_text(site.public)


def test_a_pattern_that_cannot_match_a_url_is_a_config_error(tmp_path: Path) -> None:
    site = make_site(tmp_path, examples=False)
    with site.config_path.open("a", encoding="utf-8") as config:
        config.write("clean:\n  drop_images: ['343233024.png']\n")
    result = run_feeds("check", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 2
    assert "clean.drop_images[0]: must be a glob of the whole image URL" in result.stderr
    assert "feeds.yaml:13" in result.stderr


def test_through_the_image_proxy_the_decision_is_the_same(sample_site) -> None:
    """Head and body images are compared as the source has them, before either is proxied."""
    with sample_site.config_path.open("a", encoding="utf-8") as config:
        config.write(f"images: {{proxy: true, key: {'k' * 32}}}\nstate: {{dir: state}}\n")
    story = f'<p>正文</p><img src="{PHOTO}">{QR_BLOCK}'
    sample_site.write("story.txt", article_text("有图", body=story, extra=f"headimg: '{PHOTO}'\n"))
    result = run_feeds("build", "-c", "feeds.yaml", cwd=sample_site.root)
    assert result.returncode == 0, result.stderr
    assert "images: 1 head image left out as promo" in result.stdout
    signer = image_signer(sample_site.config())
    assert signer is not None
    items = json.loads((sample_site.public / "feeds/all.json").read_text(encoding="utf-8"))["items"]
    assert {item["title"]: item.get("image") for item in items} == {
        "教育部升级“国家中小学智慧教育平台”，资源数量增加一倍": None,
        "有图": signer.proxied_url(PHOTO),
    }
