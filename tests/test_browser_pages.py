"""The pages as a person sees them: headless Chromium (Debian's `chromium`), driven through
Playwright, against the real app on the real server at 127.0.0.1.

Each page is checked in the site's language, with no XSLT anywhere, and the copy button of
a feed's page is clicked. Screenshots go to the test artifacts folder (see conftest.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from server import running
from sites import CONFIG, Site, make_site

from feeds.web.app import create_app

CHROMIUM = shutil.which("chromium")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")

ARTICLE = "articles/000_d56c9c7e6769d062.html"  # has an editor credit
# What each kind of page says in each language, as a reader sees it.
SEEN = {
    "zh-CN": {"lang": "zh-CN", "view": "订阅这个订阅源", "article": "责任编辑", "copied": "已复制"},
    "zh-TW": {"lang": "zh-TW", "view": "訂閱這個訂閱源", "article": "責任編輯", "copied": "已複製"},
    "en": {"lang": "en", "view": "Subscribe to this feed", "article": "Editor", "copied": "Copied"},
}


def _served_site(root: Path, language: str) -> Iterator[tuple[Site, str]]:
    """The examples, built for the server's own address (the pages load their script from
    site.base_url), in `language`."""
    site = make_site(root)
    # The app reads its config once, and the config needs the server's address: the server
    # starts first, with an app made once the config is written.
    made = {}
    with running(lambda environ, reply: made["app"](environ, reply)) as server:
        config = CONFIG.replace("http://127.0.0.1:8080/", server.url)
        config = config.replace("base_url:", f"language: {language}\n  base_url:")
        site.config_path.write_text(config, encoding="utf-8")
        made["app"] = create_app(site.config())
        report = site.build()
        assert report.ok, report.errors
        yield site, server.url


@pytest.fixture(scope="module", params=sorted(SEEN))
def served(request, tmp_path_factory) -> Iterator[tuple[Site, str, str]]:
    language = request.param
    for site, url in _served_site(tmp_path_factory.mktemp(f"pages-{language}"), language):
        yield site, url, language


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, served):
    _, url, _ = served
    context = browser.new_context(
        permissions=["clipboard-read", "clipboard-write"], viewport={"width": 1100, "height": 900}
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    opened = context.new_page()
    messages: list[str] = []
    opened.on("console", lambda message: messages.append(message.text))
    opened.console_messages = messages  # type: ignore[attr-defined]
    yield opened
    context.close()


def _shot(page, artifacts: Path, name: str) -> None:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000, f"{path} looks blank"


def _no_xslt(page) -> None:
    # An XSLT page is an XML document the browser transformed; these are HTML documents.
    assert page.evaluate("document.contentType") == "text/html"
    assert page.evaluate("document.xmlVersion") is None
    assert not any("XSLT" in text for text in page.console_messages)


def test_the_index_in_the_sites_language(page, served, artifacts_dir):
    site, url, language = served
    page.goto(url)
    assert page.evaluate("document.documentElement.lang") == SEEN[language]["lang"]
    assert page.locator("li#feed-finance").count() == 1
    assert page.locator("#search-query").count() == 1
    _no_xslt(page)
    _shot(page, artifacts_dir, f"index-{language}")


def test_a_feed_address_opens_as_its_page_in_the_sites_language(page, served, artifacts_dir):
    site, url, language = served
    page.goto(url + "feeds/finance.atom")
    _no_xslt(page)
    assert page.evaluate("document.documentElement.lang") == SEEN[language]["lang"]
    assert SEEN[language]["view"] in page.locator("#subscribe").inner_text()
    assert page.locator("#entries li.entry").count() > 0
    # Times are machine-readable, with the zone of source.timezone.
    stamp = page.locator("#entries li.entry time").first.get_attribute("datetime")
    assert stamp is not None and stamp.endswith("+08:00")
    assert page.locator("#search-query").count() == 1
    _shot(page, artifacts_dir, f"feed-{language}")


def test_the_copy_button_copies_the_address_the_page_was_opened_at(page, served):
    site, url, language = served
    address = url + "feeds/finance.rss"
    page.goto(address)
    button = page.locator("#copy-address")
    assert button.is_visible(), "the script did not show the copy button"
    button.click()
    page.wait_for_function(
        "expected => document.getElementById('copy-status').textContent.includes(expected)",
        arg=SEEN[language]["copied"],
    )
    assert page.evaluate("navigator.clipboard.readText()") == address


def test_an_article_page_in_the_sites_language(page, served, artifacts_dir):
    site, url, language = served
    page.goto(url + ARTICLE)
    _no_xslt(page)
    assert page.evaluate("document.documentElement.lang") == SEEN[language]["lang"]
    assert SEEN[language]["article"] in page.locator("body").inner_text()
    stamp = page.locator("time").first.get_attribute("datetime")
    assert stamp is not None and stamp.endswith("+08:00")
    _shot(page, artifacts_dir, f"article-{language}")


def test_nothing_published_names_a_stylesheet(served):
    site, _, _ = served
    for path in site.public.rglob("*"):
        if path.suffix in {".atom", ".rss", ".xml", ".html"}:
            assert b"xml-stylesheet" not in path.read_bytes(), path
    assert not (site.public / "feed.xsl").exists()


def test_a_search_page_in_the_sites_language(page, served, artifacts_dir):
    site, url, language = served
    page.goto(url)
    page.fill("#search-query", "降准")
    page.click("#search-submit")
    page.wait_for_url("**/search?q=*")
    _no_xslt(page)
    assert page.evaluate("document.documentElement.lang") == SEEN[language]["lang"]
    assert page.input_value("#search-query") == "降准"
    assert "降准" in page.locator("body").inner_text()
    results = page.locator("#results li.entry")
    assert results.count() >= 1
    # Each result as a feed's view shows an entry, with its time and categories.
    assert results.first.locator("time").get_attribute("datetime")
    assert results.first.locator(".category").first.is_visible()
    _shot(page, artifacts_dir, f"search-{language}")
