"""The site speaks `site.language`: the index, the feeds' views, the article pages, the
error pages and the feed subtitles the builder writes, all from one message catalogue,
served by the real app on the real server. A language with no catalogue gets English, and
`feeds check` says so."""

import json
from importlib.resources import files

import pytest
from babel.messages.pofile import read_po
from lxml import html
from server import running
from sites import CONFIG, make_site, run_feeds

from feeds.web.app import create_app

pytestmark = pytest.mark.slow

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ARTICLE = "/articles/000_d56c9c7e6769d062.html"  # has an editor credit
# A phrase of each kind of page in each language.
WORDS = {
    "zh-CN": {
        "index": "篇文章",
        "view": "订阅这个订阅源",
        "article": "责任编辑：",
        "404": "找不到页面",
        "503": "订阅源正在生成",
        "405": "不允许",
        "subtitle": "测试站点的全部文章",
    },
    "zh-TW": {
        "index": "篇文章",
        "view": "訂閱這個訂閱源",
        "article": "責任編輯：",
        "404": "找不到頁面",
        "503": "訂閱源正在產生",
        "405": "不允許",
        "subtitle": "测试站点的全部文章",
    },
    "en": {
        "index": "(40 entries)",
        "view": "Subscribe to this feed",
        "article": "Editor: ",
        "404": "Not found",
        "503": "being built",
        "405": "GET or HEAD",
        "subtitle": "Every article of 测试站点",
    },
}
# Tags that pick each catalogue, by script or by region; `fr` has none: English.
TAGS = {"zh-CN": "zh-CN", "zh-SG": "zh-CN", "zh": "zh-CN", "zh-TW": "zh-TW", "zh-HK": "zh-TW"}
TAGS |= {"en": "en", "en-GB": "en", "fr": "en"}


def _config(language: str) -> str:
    return CONFIG.replace("base_url:", f"language: {language}\n  base_url:")


def _english_messages() -> list[str]:
    """The catalogue's messages that hold no placeholder: none may show on a Chinese page."""
    pot = files("feeds.render") / "locale" / "messages.pot"
    if not pot.is_file():  # an installed package ships the .po files only
        pot = files("feeds.render") / "locale" / "en" / "LC_MESSAGES" / "messages.po"
    with pot.open("rb") as handle:
        catalog = read_po(handle)
    return [m.id for m in catalog if isinstance(m.id, str) and m.id and "%(" not in m.id]


def _shown_text(page: bytes) -> str:
    """What a person reads or hears of a page: its text and its labels."""
    tree = html.fromstring(page)
    labels = tree.xpath("//@placeholder | //@aria-label | //@data-copied | //@data-failed")
    return " ".join([tree.text_content(), *labels])


@pytest.fixture(scope="module", params=sorted(TAGS))
def served(request, tmp_path_factory):
    """A site in one language, built, on the real server; and a copy not built yet."""
    language = request.param
    site = make_site(tmp_path_factory.mktemp(language), config=_config(language))
    unbuilt = make_site(tmp_path_factory.mktemp(language + "-unbuilt"), config=_config(language))
    assert site.build().ok
    with (
        running(create_app(site.config())) as server,
        running(create_app(unbuilt.config())) as starting,
    ):
        yield language, site, server, starting


def test_every_page_speaks_the_sites_language(served):
    language, site, server, starting = served
    pages = {
        "index": server.request("/", headers={"Accept": BROWSER}),
        "view": server.request("/feeds/finance.atom", headers={"Accept": BROWSER}),
        "article": server.request(ARTICLE),
        "404": server.request("/feeds/missing.atom", headers={"Accept": BROWSER}),
        "503": starting.request("/feeds/all.atom"),
        "405": server.request("/feeds/all.atom", "POST"),
    }
    assert [reply.status for reply in pages.values()] == [200, 200, 200, 404, 503, 405]
    for reply in pages.values():
        assert reply.headers["content-type"] == "text/html; charset=utf-8"
    words = WORDS[TAGS[language]]
    for kind, reply in pages.items():
        assert words[kind] in _shown_text(reply.body), (language, kind)
        assert f'<html lang="{language}">' in reply.body.decode()
    subtitle = json.loads(server.request("/feeds/all.json").body)["description"]
    assert subtitle == words["subtitle"]
    if TAGS[language] != "en":
        english = _english_messages()
        for kind, reply in pages.items():
            shown = _shown_text(reply.body)
            assert [m for m in english if m in shown] == [], (language, kind)


@pytest.mark.parametrize(
    ("language", "warned"),
    [("fr", True), ("de-DE", True), ("zh-Latn", True), ("zh-HK", False), ("en-US", False)],
)
def test_check_warns_of_a_language_with_no_catalogue(tmp_path, language, warned):
    site = make_site(tmp_path, config=_config(language))
    result = run_feeds("check", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr
    warning = (
        f"warning: site.language: no catalogue is shipped for {language!r}: pages are shown"
        " in English"
    )
    assert (warning in result.stderr) is warned, result.stderr
    if warned:
        assert "(feeds.yaml:3)" in result.stderr  # where the file sets it
        assert "zh-Hans (zh, zh-CN, zh-SG)" in result.stderr
