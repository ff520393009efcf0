"""The body cleaner: data-driven cases in tests/cases/clean/, the summary, the real sample.

A case file is header lines, a blank line, then the input body:

    Description: what the case shows (required)
    Base-URL: what relative URLs resolve against (default: CASE_BASE_URL)
    Remove: a cruft selector, repeated for several, or "none" (default: DEFAULT_REMOVE)
    Summary-Length: characters (default: 150)
    Escapes: body        -- decode \\xHH and \\uHHHH in the body too (always done in headers)
    Expect-Html: the whole cleaned HTML
    Expect-Contains: a substring of the cleaned HTML (repeatable)
    Expect-Absent: a substring the cleaned HTML must not hold, any case (repeatable)
    Expect-Editor: the editor credit, or "none"
    Expect-Summary: the whole summary
"""

from __future__ import annotations

import html.entities
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from feeds.clean.cleaner import DEFAULT_REMOVE, clean_body
from feeds.clean.cruft import selector_problems
from feeds.clean.summary import summarise
from feeds.errors import ConfigError
from feeds.model import CleanBody
from feeds.text import xml_safe

CASES = Path(__file__).parent / "cases" / "clean"
CASE_BASE_URL = "https://finance.sina.com.cn/roll/2022-03-15/doc-imcwiwss6077285.shtml"
HEADERS = {
    "Description",
    "Base-URL",
    "Remove",
    "Summary-Length",
    "Escapes",
    "Expect-Html",
    "Expect-Contains",
    "Expect-Absent",
    "Expect-Editor",
    "Expect-Summary",
}
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})")


@dataclass
class Case:
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: str = ""

    def one(self, key: str) -> str | None:
        values = self.headers.get(key)
        return values[-1] if values else None


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def load_case(path: Path) -> Case:
    """Read one case file; a malformed file fails with its name and line."""
    head, sep, body = path.read_text(encoding="utf-8").partition("\n\n")
    assert sep, f"{path.name}: add a blank line between the headers and the input body"
    case = Case(body=body)
    for number, line in enumerate(head.splitlines(), start=1):
        key, colon, value = line.partition(":")
        assert colon and key in HEADERS, f"{path.name}:{number}: unknown header line {line!r}"
        case.headers.setdefault(key, []).append(_unescape(value.strip()))
    assert case.one("Description"), f"{path.name}: add a Description: header"
    if case.one("Escapes") == "body":
        case.body = _unescape(case.body)
    return case


class _Checker(HTMLParser):
    """Walks cleaned output and records every rule it breaks."""

    VOID = {"br", "hr", "img", "col", "source"}
    URL_ATTRS = {"href", "src"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "class", "id", "target", "srcset"}:
                self.problems.append(f"<{tag} {name}> survived")
            if name in self.URL_ATTRS and not re.match(r"(https?://|mailto:)", value or ""):
                self.problems.append(f"<{tag} {name}={value!r}> is not an absolute safe URL")
        if tag == "img":
            if "src" not in names:
                self.problems.append("an <img> without src survived")
            if ("referrerpolicy", "no-referrer") not in attrs:
                self.problems.append("an <img> lacks referrerpolicy=no-referrer")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"a comment survived: {data!r}")


def assert_invariants(result: CleanBody) -> None:
    """What holds for every body, whatever the input."""
    checker = _Checker()
    checker.feed(result.html)
    checker.close()
    assert checker.problems == []
    assert checker.stack == [], f"unclosed elements {checker.stack}"
    for text in (result.html, result.summary):
        assert xml_safe(text) == text
        # Atom <content type="html"> and RSS content:encoded carry it as escaped text.
        element = ET.Element("content", type="html")
        element.text = text
        assert ET.fromstring(ET.tostring(element, encoding="unicode")).text == (text or None)


CASE_FILES = sorted(CASES.glob("*.html"))


def test_there_are_enough_cases() -> None:
    assert len(CASE_FILES) >= 30


@pytest.mark.parametrize("path", CASE_FILES, ids=[path.name for path in CASE_FILES])
def test_case(path: Path) -> None:
    case = load_case(path)
    length = case.one("Summary-Length")
    remove = case.headers.get("Remove", list(DEFAULT_REMOVE))

    def clean(body: str) -> CleanBody:
        return clean_body(
            body,
            base_url=case.one("Base-URL") or CASE_BASE_URL,
            remove=() if remove == ["none"] else tuple(remove),
            summary_length=int(length) if length else 150,
        )

    result = clean(case.body)
    assert_invariants(result)
    expected_html = case.one("Expect-Html")
    if expected_html is not None:
        assert result.html == expected_html
    for needle in case.headers.get("Expect-Contains", []):
        assert needle in result.html
    for needle in case.headers.get("Expect-Absent", []):
        assert needle.lower() not in result.html.lower()
    editor = case.one("Expect-Editor")
    if editor is not None:
        assert result.editor == (None if editor == "none" else editor)
    summary = case.one("Expect-Summary")
    if summary is not None:
        assert result.summary == summary
    # Same input, same bytes; and cleaning clean output changes nothing.
    assert clean(case.body) == result
    again = clean_body(result.html, base_url=CASE_BASE_URL, remove=(), summary_length=10**6)
    assert again.html == result.html


def test_every_case_expects_something() -> None:
    for path in CASE_FILES:
        headers = load_case(path).headers
        assert any(key.startswith("Expect-") for key in headers), f"{path.name} checks nothing"


# -- the summary ---------------------------------------------------------------------------


def test_short_text_is_not_cut() -> None:
    assert summarise("\n一句话。\n", 150) == "一句话。"


def test_cjk_summary_cuts_at_a_sentence_end_near_the_limit() -> None:
    first = "甲" * 60 + "。"
    second = "乙" * 80 + "！"
    summary = summarise(first + second + "丙" * 50, 150)
    assert summary == first + second + "…"


def test_cjk_summary_without_punctuation_is_cut_at_the_limit() -> None:
    summary = summarise("字" * 400, 150)
    assert summary == "字" * 150 + "…"
    assert len(summary) == 151


def test_latin_summary_never_cuts_a_word() -> None:
    text = " ".join(["alphabet"] * 40)
    summary = summarise(text, 150)
    assert summary.endswith("alphabet…")
    assert len(summary) <= 151
    assert text.startswith(summary[:-1])


def test_latin_decimal_point_is_not_a_sentence_end() -> None:
    text = "Shares rose " + "x" * 70 + " 3.5 per cent " + "word " * 30
    summary = summarise(text, 100)
    assert "3." not in summary[-3:]
    assert summary.endswith("word…")


def test_sentence_end_keeps_its_closing_quote() -> None:
    text = "他说：“" + "好" * 90 + "。”" + "后" * 100
    assert summarise(text, 150) == "他说：“" + "好" * 90 + "。”…"


def test_original_title_paragraph_is_left_out() -> None:
    body = "<p>　　原标题：另一个标题</p><p>　　正文第一句。</p>"
    assert clean_body(body, base_url=CASE_BASE_URL).summary == "正文第一句。"


def test_ideographic_spaces_and_line_breaks_collapse() -> None:
    body = "<p>　　第一段\n  还在第一段。</p>\n<p>Second　paragraph</p>"
    summary = clean_body(body, base_url=CASE_BASE_URL).summary
    assert summary == "第一段 还在第一段。 Second paragraph"


def test_cjk_paragraphs_join_without_a_space() -> None:
    summary = clean_body("<p>第一段。</p><p>第二段。</p>", base_url=CASE_BASE_URL).summary
    assert summary == "第一段。第二段。"


def test_summary_drops_xml_illegal_characters() -> None:
    assert summarise("a\x00b\x0bc\ufffed", 150) == "abcd"


def test_summary_is_never_longer_than_the_limit_plus_one() -> None:
    texts = ["字" * 300, "word " * 100, "a" * 300, "短句。" * 100, "Mixed 中文 text. " * 40]
    for text in texts:
        for length in (1, 2, 10, 149, 150):
            assert len(summarise(text, length)) <= length + 1


# -- what the fast paths rely on ----------------------------------------------------------

# Code points on both sides of every boundary of what XML allows, and all of the C0 and C1
# controls and of windows-1252's range (which libxml2 reads 0x80-0x9f as).
_CODE_POINTS = [
    *range(0x300),
    *range(0xD7F0, 0xE010),
    *range(0xFDC0, 0xFDF0),
    *range(0xFFF0, 0x10010),
    0x1FFFE,
    0x1FFFF,
    0x10FFFE,
    0x10FFFF,
]


@pytest.mark.parametrize("form", ["&#%d;", "&#x%x;", "&#X%X;", "&#%d", "&#x%x", "&#000%d;"])
def test_references_to_legal_characters_parse_to_legal_ones(form: str) -> None:
    # A body whose every character reference is to a character XML allows is walked without
    # xml_safe on each piece of text: libxml2 must not decode any to one XML forbids.
    legal = " ".join(form % code for code in _CODE_POINTS if xml_safe(chr(code)) == chr(code))
    # And one reference to a character it forbids makes the walk drop such characters again.
    for refs in (legal, form % 1 + " " + legal, legal + " " + form % 0xFFFF):
        body = f"<p>{refs}</p><p><img src=x alt='{refs}'><a title='{refs}'>a</a></p>"
        cleaned = clean_body(body, base_url=CASE_BASE_URL, summary_length=10**7)
        assert len(cleaned.summary) > len(_CODE_POINTS) // 2
        assert xml_safe(cleaned.summary) == cleaned.summary
        # Without an illegal reference the output skips xml_safe: nh3 must add none either.
        assert xml_safe(cleaned.html) == cleaned.html


def test_named_entities_parse_to_legal_characters() -> None:
    body = "<p>" + " ".join(f"&{name}" for name in html.entities.html5) + "</p>"
    cleaned = clean_body(body, base_url=CASE_BASE_URL, summary_length=10**7)
    assert xml_safe(cleaned.summary) == cleaned.summary
    assert xml_safe(cleaned.html) == cleaned.html


@pytest.mark.parametrize("form", ["&amp;#%d;", "&amp;#x%x;", "<![CDATA[&#%d;]]>"])
def test_references_written_as_text_stay_text(form: str) -> None:
    # Text that reads as a reference once libxml2 has decoded the body must not become one
    # when nh3 reads what libxml2 writes.
    refs = " ".join(form % code for code in (0, 1, 8, 0xB, 0x1F, 0xD800, 0xFFFE, 0xFFFF))
    for body in (f"<p>{refs}</p>", f"<p title='{refs}'><img src=x alt='{refs}'>{refs}</p>"):
        html_out = clean_body(body, base_url=CASE_BASE_URL).html
        assert xml_safe(html_out) == html_out


def test_xml_safe_drops_exactly_what_xml_1_0_forbids() -> None:
    def allowed(code: int) -> bool:  # XML 1.0, production [2] Char
        return code in (0x9, 0xA, 0xD) or any(
            low <= code <= high
            for low, high in ((0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))
        )

    for code in _CODE_POINTS:
        for text in (chr(code), "字" * 400 + chr(code)):  # short and long text
            assert (xml_safe(text) == text) == allowed(code), hex(code)


@pytest.mark.parametrize("length", [1, 299, 300, 301, 2000])
def test_long_text_loses_what_short_text_does(length: int) -> None:
    # xml_safe has three ways to find text it can keep as it is (isprintable; encoding, for long
    # text; the regular expression that drops what it must): they must agree.
    illegal = "\x00\x08\x0b\x0c\x0e\x1f\ud800\udbff\udc00\udfff\ufffe\uffff"
    legal = "\t\n\r \x7f\x80\x85\x9f\xa0\u2028\ud7ff\ue000\ufffd\U00010000\U0010ffff"
    padding = "字" * length
    for char in illegal:
        assert xml_safe(padding + char + "a") == padding + "a"
    assert xml_safe(padding + legal) == padding + legal


def test_a_base_url_that_does_not_parse_resolves_no_url() -> None:
    # Absolute URLs skip urljoin when it would return them as they are, and only then.
    body = '<p><img src="https://n.sinaimg.cn/a.jpg"><a href="https://example.org/x">x</a></p>'
    assert clean_body(body, base_url="http://[::1").html == "<p><a>x</a></p>"


# -- configuration errors -----------------------------------------------------------------


def test_a_bad_selector_is_reported_with_its_position_and_fix() -> None:
    assert selector_problems(DEFAULT_REMOVE) == []
    problems = selector_problems([".ok", "p..x"])
    assert len(problems) == 1
    assert problems[0].startswith("clean.remove[1]: 'p..x' is not a valid CSS selector")
    with pytest.raises(ConfigError, match=r"clean\.remove\[0\]"):
        clean_body("<p>x</p>", base_url=CASE_BASE_URL, remove=["div >"])


# -- the real sample ----------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A\s*---\s*\n.*?\n---\s*\n", re.DOTALL)


@pytest.fixture
def sample_result(sample_article: Path) -> CleanBody:
    text = sample_article.read_text(encoding="utf-8")
    front = _FRONT_MATTER.match(text)
    assert front is not None, f"{sample_article}: no front matter found"
    return clean_body(text[front.end() :], base_url="https://finance.sina.com.cn/")


def test_sample_cruft_is_gone(sample_result: CleanBody) -> None:
    html = sample_result.html
    cruft = ("appendQr", "<style", "&#123;", "<!--", "文末二维码", "海量资讯", "责任编辑")
    for needle in (*cruft, "王蒙"):
        assert needle not in html
    assert "<img" not in html  # the only image was the app's QR code
    assert_invariants(sample_result)


def test_sample_editor(sample_result: CleanBody) -> None:
    assert sample_result.editor == "王蒙"


def test_sample_keeps_its_five_paragraphs(sample_result: CleanBody) -> None:
    paragraphs = re.findall(r"<p>(.*?)</p>", sample_result.html)
    assert len(paragraphs) == 5
    assert paragraphs[0].lstrip("\u3000").startswith("原标题：")
    assert paragraphs[4].endswith("平台浏览人次呈高位激增态势。")


def test_sample_summary(sample_result: CleanBody) -> None:
    summary = sample_result.summary
    assert summary.startswith("为深入实施")
    assert "原标题" not in summary
    assert len(summary) <= 151
    assert summary.endswith("…")
