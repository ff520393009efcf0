"""articles.py: bytes -> ParsedArticle; a case per rule of "The input, as it really is"."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import pytest

from feeds.errors import ArticleError
from feeds.model import ParsedArticle
from feeds.sources.articles import decode, parse_article
from feeds.sources.frontmatter import parse_front_matter

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 1, 1, tzinfo=UTC)
MTIME = datetime(2023, 6, 1, 12, 0, tzinfo=UTC)
SOURCE = "posts/a.md"


def parse(data: str | bytes, source: str = SOURCE, mtime: datetime = MTIME) -> ParsedArticle:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return parse_article(raw, source, timezone=SHANGHAI, mtime=mtime.timestamp(), now=NOW)


def post(front: str, body: str = "<p>正文</p>\n") -> str:
    """An article whose front matter starts at line 2 and always has a date."""
    if "date:" not in front:
        front += "date: 2022-03-15 22:04:32\n"
    return f"---\n{front}---\n{body}"


def error(data: str | bytes, source: str = SOURCE) -> ArticleError:
    with pytest.raises(ArticleError) as caught:
        parse(data, source)
    assert str(caught.value).startswith(source)
    return caught.value


# --- decoding ---------------------------------------------------------------------------------

CHINESE = post(
    "title: 教育部升级国家中小学智慧教育平台\nauthor: 新浪财经\n", "<p>资源数量增加一倍</p>\n"
)


def test_utf8() -> None:
    article = parse(CHINESE)
    assert article.title == "教育部升级国家中小学智慧教育平台"
    assert article.body == "<p>资源数量增加一倍</p>\n"
    assert article.body_line == 6
    assert article.warnings == ()


def test_utf8_bom() -> None:
    article = parse(b"\xef\xbb\xbf" + CHINESE.encode("utf-8"))
    assert article.title == "教育部升级国家中小学智慧教育平台"
    assert article.author == "新浪财经"


def test_crlf() -> None:
    article = parse(CHINESE.replace("\n", "\r\n"))
    assert article.title == "教育部升级国家中小学智慧教育平台"
    assert article.body == "<p>资源数量增加一倍</p>\n"
    assert article.body_line == 6


def test_leading_blank_lines() -> None:
    article = parse("\n \n\t\n" + CHINESE)
    assert article.title == "教育部升级国家中小学智慧教育平台"
    assert article.body_line == 9


@pytest.mark.parametrize("codec", ["gbk", "gb2312", "gb18030"])
def test_chinese_codecs(codec: str) -> None:
    article = parse(CHINESE.encode(codec))
    assert article.title == "教育部升级国家中小学智慧教育平台"
    assert article.body == "<p>资源数量增加一倍</p>\n"
    assert article.warnings == ()


def test_gb18030_only_characters() -> None:
    # U+3400 and U+20000 exist in GB18030 (four-byte sequences) but not in GBK.
    text = post("title: 㐀𠀀新闻\n")
    assert parse(text.encode("gb18030")).title == "㐀𠀀新闻"


def test_invalid_utf8_bytes_are_replaced_with_a_warning() -> None:
    data = post("title: 新闻标题\n", "<p>第一行</p>\n<p>坏\xff字节</p>\n").encode("utf-8")
    data = data.replace("\xff".encode(), b"\xff")
    article = parse(data)
    assert article.title == "新闻标题"
    assert "坏\ufffd字节" in article.body
    (warning,) = article.warnings
    assert warning.startswith(f"{SOURCE}:6: invalid UTF-8 bytes")
    assert "save the file as UTF-8" in warning


def test_truncated_gbk_is_decoded_with_a_warning() -> None:
    data = CHINESE.encode("gbk") + "中".encode("gbk")[:1]  # a scrape cut mid-character
    text, warnings = decode(data, SOURCE)
    assert text == CHINESE + "\ufffd"
    (warning,) = warnings
    assert warning == f"{SOURCE}:7: invalid GB18030 bytes replaced by '\ufffd' (1 in all): " + (
        "save the file as UTF-8"
    )


def test_decode_plain_utf8() -> None:
    assert decode("标题".encode(), SOURCE) == ("标题", ())


def test_utf16_with_bom() -> None:
    assert parse(CHINESE.encode("utf-16")).title == "教育部升级国家中小学智慧教育平台"


def test_other_encodings_are_detected_with_a_warning() -> None:
    text = post("title: Café crème à la française\n", "<p>Un résumé naïve, déjà vu.</p>\n")
    article = parse(text.encode("cp1252"))
    assert article.title.startswith("Caf")
    (warning,) = article.warnings
    assert warning.startswith(f"{SOURCE}: not UTF-8; read as ")


@pytest.mark.parametrize(
    "data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\x01\x02\x03\x04\x05\x06\x07\x08" * 8]
)
def test_binary_file(data: bytes) -> None:
    assert "not a text file" in error(data).reason


def test_a_stray_nul_is_removed_with_a_warning_naming_its_line() -> None:
    article = parse(post("title: 标题\n", "<p>资源\x00数量</p>\n<p>增加\x00一倍</p>\n"))
    assert article.body == "<p>资源数量</p>\n<p>增加一倍</p>\n"
    (warning,) = article.warnings
    assert warning.startswith(f"{SOURCE}:5: 2 control bytes removed (the first is 0x00)")


def test_stray_controls_are_removed_before_the_encoding_is_detected() -> None:
    gb = post("title: 标题\n", "<p>资源数量\x1f增加一倍</p>\n").encode("gb18030")
    article = parse(gb)
    assert article.body == "<p>资源数量增加一倍</p>\n"
    assert article.warnings[0].startswith(f"{SOURCE}:5: 1 control byte removed (the first is 0x1f)")


def test_form_feed_tab_and_escape_are_not_stray() -> None:
    assert parse(post("title: 标题\n", "<p>a\tb\x0cc\x1b[0m</p>\n")).warnings == ()


def test_text_with_many_controls_is_binary() -> None:
    data = post("title: 标题\n", "<p>" + "正文\x00\x01" * 200 + "</p>\n").encode()
    assert "not a text file" in error(data).reason


# --- front matter -----------------------------------------------------------------------------


def test_toml() -> None:
    text = (
        "+++\ntitle = '标题'\ndate = 2022-03-15T14:04:32Z\n"
        "categories = ['金融', '新浪财经']\n[extra]\nx = 1\n+++\n<p>b</p>"
    )
    article = parse(text)
    assert article.title == "标题"
    assert article.published == datetime(2022, 3, 15, 14, 4, 32, tzinfo=UTC)
    assert article.categories == (("金融", "新浪财经"),)
    assert article.extra == {"extra": {"x": 1}}
    assert article.body == "<p>b</p>"
    assert article.body_line == 8


def test_toml_error_names_the_file_line() -> None:
    caught = error("\n+++\ntitle = '标题'\ndate = not a date\n+++\n")
    assert caught.line == 4
    assert "TOML" in caught.reason


def test_no_front_matter() -> None:
    caught = error("<p>只有正文</p>\n")
    assert caught.line == 1
    assert "must start with '---'" in caught.reason
    assert "'title:'" in caught.reason and "'date:'" in caught.reason


def test_unclosed_front_matter() -> None:
    caught = error("---\ntitle: 标题\n<p>正文</p>\n")
    assert caught.line == 1
    assert "never closed" in caught.reason


@pytest.mark.parametrize("front", ["- 金融\n- 新浪财经\n", "只是一行文字\n"])
def test_front_matter_not_a_mapping(front: str) -> None:
    caught = error(f"---\n{front}---\n")
    assert caught.line == 2
    assert "not keys" in caught.reason


def test_empty_front_matter_reports_the_missing_title() -> None:
    caught = error("---\n---\n<p>正文</p>\n")
    assert caught.line == 1
    assert "title" in caught.reason


def test_a_missing_title_is_reported_at_the_opening_fence() -> None:
    caught = error("\n---\ndate: 2022-03-15 22:04:32\n---\n<p>正文</p>\n")
    assert caught.line == 2 and "add 'title: ...'" in caught.reason


@pytest.mark.parametrize(
    ("line", "opened", "fix"),
    [
        ("categories: [金融\n", "a [ list", "close it with ']'"),
        ("extra: {a: 1\n", "a { mapping", "close it with '}'"),
        ("author: '新浪财经\n", "a quoted value", "close the quote"),
    ],
)
def test_an_unclosed_list_or_quote_is_reported_where_it_opens(
    line: str, opened: str, fix: str
) -> None:
    caught = error(f"\n---\ntitle: 标题\n{line}date: 2022-03-15 22:04:32\n---\n<p>b</p>\n")
    assert caught.line == 4, caught.reason
    assert caught.reason.startswith(f"front matter is not valid YAML: {opened} begun on this")
    assert fix in caught.reason and "on line 5" in caught.reason


def test_unquoted_colon_names_the_line_and_the_fix() -> None:
    caught = error("\n---\nauthor: 新浪财经\ntitle: 原标题: 新闻\n---\n")
    assert caught.line == 4
    assert "quote the value" in caught.reason


def test_yaml_error_line_with_crlf_and_bom() -> None:
    data = b"\xef\xbb\xbf\r\n---\r\nauthor: x\r\ntitle: a: b\r\n---\r\n"
    with pytest.raises(ArticleError) as caught:
        parse(data)
    assert caught.value.line == 4


def test_python_tag_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    caught = error(
        post(f"title: x\nhook: !!python/object/apply:os.system ['touch {marker}']\n"),
    )
    assert caught.line == 3
    assert "!!python/object/apply:os.system" in caught.reason
    assert "remove the tag" in caught.reason
    assert not marker.exists()


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    start = time.perf_counter()
    caught = error(post("title: x\n" + "\n".join(lines) + "\n"))
    assert time.perf_counter() - start < 1.0
    assert caught.line == 3
    assert "anchor or alias" in caught.reason


def test_front_matter_over_64_kb() -> None:
    caught = error(post("title: x\n" + "k: " + "长" * 30000 + "\n"))
    assert "larger than 64 KB" in caught.reason
    assert caught.line == 1


def test_only_a_line_of_the_fence_alone_closes_the_front_matter() -> None:
    # Lines that start or hold the fence without being it are front matter (or YAML errors).
    text = "---\ntitle: '---'\nnote: x ---\n---\u3000 \t\nbody ---\n---\n"
    front = parse_front_matter(text, "p/a.txt")
    assert front.data == {"title": "---", "note": "x ---"}
    assert (front.body, front.body_line) == ("body ---\n---\n", 5)
    assert "never closed" in error("---\ntitle: x\n----\n--- x\n").reason


@pytest.mark.parametrize("closed", [True, False])
def test_front_matter_over_64_kb_unclosed_or_not(closed: bool) -> None:
    text = "---\n" + ("k: " + "长" * 100 + "\n") * 300 + ("---\n" if closed else "")
    assert "larger than 64 KB" in error(text).reason


# --- title ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.10", "1.10"),  # as written, not the float 1.1
        ("2022", "2022"),
        ("'<b>加粗</b> &amp; 标题'", "加粗 & 标题"),
        ('"\\u200b零宽\\u202e双向\\ufeff"', "零宽双向"),
        ("'a\x07b'", "ab"),
    ],
)
def test_title_forms(value: str, expected: str) -> None:
    assert parse(post(f"title: {value}\n")).title == expected


@pytest.mark.parametrize("value", ["", " ~", " null", " ''", " '<br>'"])
def test_null_or_empty_title(value: str) -> None:
    caught = error(post(f"author: x\ntitle:{value}\n"))
    assert caught.line == 3
    assert "title" in caught.reason


def test_missing_title() -> None:
    caught = error(post("author: x\n"))
    assert caught.line == 1
    assert "add 'title: ...'" in caught.reason


# --- dates ------------------------------------------------------------------------------------

UTC_1404 = datetime(2022, 3, 15, 14, 4, 32, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 15 Mar 2022 14:04:32 GMT", UTC_1404),
        ("Tue, 15 Mar 2022 22:04:32 +0800", UTC_1404),
        ("2022-03-15T14:04:32Z", UTC_1404),
        ("2022-03-15T22:04:32+08:00", UTC_1404),
        ("2022-03-15 22:04:32", UTC_1404),  # YAML datetime, naive -> Asia/Shanghai
        ("'2022-03-15T22:04:32'", UTC_1404),  # ISO string, naive -> Asia/Shanghai
        ("1647353072", UTC_1404),
        ("1647353072.0", UTC_1404),
        ("'1647353072'", UTC_1404),
        ("2022-03-15", datetime(2022, 3, 15, tzinfo=SHANGHAI)),  # YAML date
        ("'2022-03-15'", datetime(2022, 3, 15, tzinfo=SHANGHAI)),
    ],
)
def test_date_forms(value: str, expected: datetime) -> None:
    article = parse(post(f"title: x\ndate: {value}\n"))
    assert article.published == expected
    assert article.published.tzinfo is not None


def test_naive_date_takes_the_configured_timezone() -> None:
    article = parse(post("title: x\ndate: 2022-03-15 22:04:32\n"))
    assert article.published.tzinfo == SHANGHAI
    assert article.published.hour == 22


def test_missing_date_uses_the_file_mtime(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\ntitle: x\n---\n", encoding="utf-8")
    os.utime(path, (1647353072, 1647353072))
    article = parse_article(
        path.read_bytes(),
        "a.md",
        timezone=SHANGHAI,
        mtime=path.stat().st_mtime,
        now=NOW,
    )
    assert article.published == UTC_1404
    assert article.updated == UTC_1404
    assert article.warnings == (
        "a.md: no date; using the file's modification time: add 'date: ...'",
    )


@pytest.mark.parametrize("value", ["next tuesday", "'2022-13-45'", "[2022]", "true"])
def test_unparseable_date(value: str) -> None:
    caught = error(post(f"title: x\ndate: {value}\n"))
    assert caught.line == 3
    assert "is not a date" in caught.reason
    assert "Tue, 15 Mar 2022 14:04:32 GMT" in caught.reason and "1647353072" in caught.reason


def test_future_date_is_clamped_to_mtime() -> None:
    article = parse(post("title: x\ndate: 2030-01-01 00:00:00\n"))
    assert article.published == MTIME
    assert article.warnings == (
        f"{SOURCE}:3: date is in the future; using the file's modification time",
    )


def test_date_within_a_day_ahead_is_kept() -> None:
    ahead = NOW + timedelta(hours=20)
    article = parse(post(f"title: x\ndate: {ahead.isoformat()}\n"), mtime=NOW)
    assert article.published == ahead
    assert article.warnings == ()


def test_future_date_with_default_now() -> None:
    article = parse_article(
        post("title: x\ndate: 2999-01-01\n").encode(),
        SOURCE,
        timezone=SHANGHAI,
        mtime=MTIME.timestamp(),
    )
    assert article.published == MTIME


CHANGED = datetime(2023, 7, 1, 8, 30, tzinfo=UTC)  # when a build saw the content change


@pytest.mark.parametrize(
    ("front", "updated_from", "changed", "expected"),
    [
        ("updated: 2022-04-01T00:00:00Z\n", "date", None, datetime(2022, 4, 1, tzinfo=UTC)),
        ("updated: 2022-04-01T00:00:00Z\n", "date", CHANGED, datetime(2022, 4, 1, tzinfo=UTC)),
        ("updated: 2022-04-01T00:00:00Z\n", "mtime", None, datetime(2022, 4, 1, tzinfo=UTC)),
        ("", "date", None, UTC_1404),  # a newer mtime says when the file was copied: ignored
        ("", "date", CHANGED, CHANGED),  # a change of content that a build saw
        ("", "mtime", None, MTIME),  # as asked: the file's modification time
        ("", "mtime", CHANGED, MTIME),
        ("updated: 2020-01-01\n", "date", None, UTC_1404),  # never before published
    ],
)
def test_updated(
    front: str, updated_from: str, changed: datetime | None, expected: datetime
) -> None:
    article = parse_article(
        post(f"title: x\ndate: 2022-03-15T14:04:32Z\n{front}").encode(),
        SOURCE,
        timezone=SHANGHAI,
        mtime=MTIME.timestamp(),
        changed=None if changed is None else changed.timestamp(),
        updated_from=updated_from,
        now=NOW,
    )
    assert article.updated == expected
    assert article.updated >= article.published


@pytest.mark.parametrize("updated_from", ["date", "mtime"])
def test_updated_is_never_before_the_date(updated_from: str) -> None:
    article = parse_article(
        post("title: x\ndate: 2022-03-15T14:04:32Z\n").encode(),
        SOURCE,
        timezone=SHANGHAI,
        mtime=datetime(2020, 1, 1, tzinfo=UTC).timestamp(),
        updated_from=updated_from,
        now=NOW,
    )
    assert article.updated == UTC_1404


def test_unparseable_updated() -> None:
    caught = error(post("title: x\nupdated: soon\n"))
    assert caught.line == 3
    assert "updated 'soon' is not a date" in caught.reason


# --- categories and tags ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("categories: [金融, 新浪财经, 新浪财经－国內]", (("金融", "新浪财经", "新浪财经－国內"),)),
        ("categories:\n - 金融\n - 新浪财经", (("金融", "新浪财经"),)),
        ("categories: [[金融, 新浪财经], [科技]]", (("金融", "新浪财经"), ("科技",))),
        ("categories: [[金融, 新浪财经], 科技]", (("金融", "新浪财经"), ("科技",))),
        ("categories: 金融", (("金融",),)),
        ("category: 金融", (("金融",),)),
        ("categories: 2022", (("2022",),)),
        ("categories: [[金融], [金融], [科技]]", (("金融",), ("科技",))),
        ("categories: [金融, '', '<b></b>', 新浪财经]", (("金融", "新浪财经"),)),
        ("categories: ['<em>金融</em>', \"\\u200b新浪\\u202e财经\"]", (("金融", "新浪财经"),)),
        ("categories: [A/B, C]", (("A/B", "C"),)),
        ("categories: []", ()),
        ("categories:", ()),
    ],
)
def test_categories(yaml_text: str, expected: tuple[tuple[str, ...], ...]) -> None:
    assert parse(post(f"title: x\n{yaml_text}\n")).categories == expected


@pytest.mark.parametrize(
    "yaml_text",
    ["categories: {金融: 新浪财经}", "categories: [[金融, [深]]]", "categories: [{a: b}]"],
)
def test_bad_categories(yaml_text: str) -> None:
    caught = error(post(f"title: x\n{yaml_text}\n"))
    assert caught.line == 3
    assert "categories must be a name, a list" in caught.reason


def test_categories_win_over_category() -> None:
    article = parse(post("title: x\ncategories: 金融\ncategory: 科技\n"))
    assert article.categories == (("金融",),)
    assert article.warnings == (f"{SOURCE}:4: 'category' ignored because 'categories' is set",)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("tags: [教育, '<i>疫情</i>', 教育, '']", ("教育", "疫情")),
        ("tags: 教育", ("教育",)),
        ("tags:", ()),
    ],
)
def test_tags(yaml_text: str, expected: tuple[str, ...]) -> None:
    assert parse(post(f"title: x\n{yaml_text}\n")).tags == expected


def test_nested_tags_are_an_error() -> None:
    assert error(post("title: x\ntags: [[a]]\n")).line == 3


# --- id, image, link, author, summary, extra -------------------------------------------------


@pytest.mark.parametrize(
    ("source", "front", "expected"),
    [
        ("posts/2022/a.md", "", "posts/2022/a"),
        ("000_c956da2606e02062.txt", "", "000_c956da2606e02062"),
        ("a.b.md", "", "a.b"),
        ("posts/a.md", "id: '  sina-123 '\n", "sina-123"),
        ("posts/a.md", "id: 42\n", "42"),
    ],
)
def test_ids(source: str, front: str, expected: str) -> None:
    assert parse(post(f"title: x\n{front}"), source=source).id == expected


@pytest.mark.parametrize(
    "source",
    ["a.md", "a.", ".md", "..md", "a..md", "d.x/a", "d/.md", "a/./b.md", "./a.md", "a//b.md"]
    + ["a/b.md/", "a/.", "/a.md", "//a.md", "../a.md", "a/../b.tar.gz", "中文/标题.txt"],
)
def test_an_id_from_the_file_name_is_its_path_without_suffix(source: str) -> None:
    # Scanned sources are plain relative paths, taken apart without pathlib; any other
    # shape still reads as pathlib reads it.
    expected = str(PurePosixPath(source).with_suffix(""))
    assert parse(post("title: x\n"), source=source).id == expected


@pytest.mark.parametrize(
    "value",
    [
        "Tue, 15 Mar 2022 14:04:32 GMT",
        "Tue, 29 Feb 2000 00:00:00 GMT",
        "Sun, 31 Dec 2023 23:59:59 GMT",
    ]
    + [
        "Mon, 30 Feb 2022 10:00:00 GMT",
        "Mon, 01 Jan 2022 24:00:00 GMT",
        "Mon, 01 Jan 2022 10:60:00 GMT",
    ]
    + [
        "Mon, 01 Jan 22 10:00:00 GMT",
        "Mon, 1 Jan 2022 10:00:00 GMT",
        "Mon, 01 Jan 2022 10:00:00 -0000",
    ],
)
def test_rfc_822_dates_read_as_the_email_parser_reads_them(value: str) -> None:
    # The common shape has a short way of its own: it must agree with the email parser.
    try:
        expected = parsedate_to_datetime(value)
    except ValueError:
        assert "is not a date" in error(post(f"title: x\ndate: {value}\n")).reason
        return
    if expected.tzinfo is None:  # -0000: a time whose zone is unknown
        expected = expected.replace(tzinfo=SHANGHAI)
    published = parse(post(f"title: x\ndate: {value}\n")).published
    assert (published, published.utcoffset()) == (expected, expected.utcoffset())


@pytest.mark.parametrize("value", ["''", "'  '", "true", "[1]"])
def test_bad_ids(value: str) -> None:
    caught = error(post(f"title: x\nid: {value}\n"))
    assert caught.line == 3
    assert "id" in caught.reason


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        (
            "headimg: 'https://n.sinaimg.cn/a.png'\nthumbnail: 'https://x/b.png'",
            "https://n.sinaimg.cn/a.png",
        ),
        ("thumbnail: http://n.sinaimg.cn/b.png", "http://n.sinaimg.cn/b.png"),
        ("cover: //n.sinaimg.cn/c.png", "https://n.sinaimg.cn/c.png"),
        ("headimg: ''\nthumbnail: https://x.cn/b.png", "https://x.cn/b.png"),
    ],
)
def test_image(front: str, expected: str) -> None:
    article = parse(post(f"title: x\n{front}\n"))
    assert article.image == expected
    assert article.warnings == ()


@pytest.mark.parametrize(
    "value", ["images/a.png", "ftp://x.cn/a.png", "javascript:alert(1)", "[a]"]
)
def test_bad_image_is_dropped_with_a_warning(value: str) -> None:
    article = parse(post(f"title: x\nheadimg: {value}\n"))
    assert article.image is None
    (warning,) = article.warnings
    assert warning.startswith(f"{SOURCE}:3: headimg ")
    assert "not an http(s) URL" in warning


@pytest.mark.parametrize(
    ("front", "expected", "extra"),
    [
        ("link: https://finance.sina.com.cn/a.shtml", "https://finance.sina.com.cn/a.shtml", {}),
        ("url: http://finance.sina.com.cn/b", "http://finance.sina.com.cn/b", {}),
        (
            "source: 新浪财经\nurl: https://finance.sina.com.cn/c",
            "https://finance.sina.com.cn/c",
            {"source": "新浪财经"},
        ),
        ("source: 新浪财经", None, {"source": "新浪财经"}),
    ],
)
def test_link(front: str, expected: str | None, extra: dict[str, object]) -> None:
    article = parse(post(f"title: x\n{front}\n"))
    assert article.link == expected
    assert dict(article.extra) == extra


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("author: '<a href=\"/u\">新浪财经</a>'", "新浪财经"),
        ("author: {name: 王蒙, email: a@b.cn}", "王蒙"),
        ("author: ''", None),
        ("", None),
    ],
)
def test_author(front: str, expected: str | None) -> None:
    assert parse(post(f"title: x\n{front}\n")).author == expected


def test_author_of_the_wrong_type_is_a_warning() -> None:
    article = parse(post("title: x\nauthor: [a, b]\n"))
    assert article.author is None
    assert article.warnings == (f"{SOURCE}:3: author must be a name or {{name: ...}}; ignored",)


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("summary: '<p>要点 一</p>'", "要点 一"),
        ("description: 描述", "描述"),
        ("excerpt: 摘要", "摘要"),
        ("", None),
    ],
)
def test_summary(front: str, expected: str | None) -> None:
    assert parse(post(f"title: x\n{front}\n")).summary == expected


def test_unknown_keys_are_kept_unchanged() -> None:
    article = parse(
        post("title: x\ncomments: false\nlayout: post\nmeta: {views: 3, refs: [a, b]}\n")
    )
    assert dict(article.extra) == {
        "comments": False,
        "layout": "post",
        "meta": {"views": 3, "refs": ["a", "b"]},
    }


# --- the real sample --------------------------------------------------------------------------


def test_real_sample(sample_article: Path) -> None:
    article = parse_article(
        sample_article.read_bytes(),
        sample_article.name,
        timezone=SHANGHAI,
        mtime=sample_article.stat().st_mtime,
        now=datetime(2022, 3, 16, tzinfo=UTC),
    )
    assert article.id == "000_c956da2606e02062"
    assert article.title == "教育部升级_国家中小学智慧教育平台_，资源数量增加一倍"
    assert article.categories == (("金融", "新浪财经", "新浪财经－国內"),)
    assert article.published == datetime(2022, 3, 15, 14, 4, 32, tzinfo=UTC)
    assert article.image == "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"
    assert article.author == "新浪财经"
    assert article.extra == {"comments": False}
    assert article.body.lstrip().startswith("<div>")
    assert article.body_line == 14  # the file opens with a blank line
    assert article.warnings == ()
