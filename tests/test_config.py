"""Config loading: defaults, the shipped file, and every problem reported with key path and line."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sites import REPO

from feeds.config import (
    FEED_SETTINGS,
    SETTINGS,
    CleanConfig,
    Config,
    FeedSpec,
    ImagesConfig,
    OutputConfig,
    ScheduleConfig,
    SiteConfig,
    SourceConfig,
    StateConfig,
    WebSubConfig,
    key_location,
    load_config,
    parse_config,
)
from feeds.errors import ConfigError, FeedsError

WHERE = Path("config/feeds.yaml")


def problems(text: str) -> list[str]:
    """The problems parse_config reports for text, as if read from config/feeds.yaml."""
    with pytest.raises(ConfigError) as caught:
        parse_config(textwrap.dedent(text), WHERE, base_dir=Path("/srv"))
    return list(caught.value.problems)


def parse(text: str, base_dir: Path = Path("/srv")) -> Config:
    return parse_config(textwrap.dedent(text), WHERE, base_dir=base_dir)


# --- defaults and the shipped file -------------------------------------------------------


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    config = parse_config("", base_dir=tmp_path)
    assert config.site == SiteConfig(
        title="feeds",
        base_url="http://127.0.0.1:8080/",
        language="zh-CN",
        description="",
        search=True,
    )
    assert config.source == SourceConfig(
        dir=tmp_path / "examples" / "articles",
        timezone=ZoneInfo("Asia/Shanghai"),
        extensions=(".md", ".markdown", ".txt", ".html"),
        updated="date",
        max_bytes=5_000_000,
    )
    assert config.output == OutputConfig(dir=tmp_path / "public")
    assert config.schedule == ScheduleConfig(interval=60.0, watch=True, settle=0.5)
    assert config.clean == CleanConfig(
        remove=(
            ".appendQr_wrap",
            ".app-kaihu-qr",
            "#left_hzh_ad",
            ".tech-quotation",
            "p.article-editor",
        ),
        drop_images=("*://n.sinaimg.cn/finance/cece9e13/*",),
        summary_length=150,
    )
    assert config.category_feeds is True
    assert config.feeds == ()
    assert config.path is None


def test_comments_only_and_empty_sections_are_defaults() -> None:
    config = parse("# nothing yet\nsite:\nsource:\nfeeds:\n")
    assert config == parse("")
    assert config.feeds == ()


def test_config_is_frozen() -> None:
    config = parse("")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.site.title = "changed"  # type: ignore[misc]


def test_shipped_config_parses(tmp_path: Path) -> None:
    config = load_config(REPO / "config" / "feeds.yaml", base_dir=tmp_path)
    assert config.path == REPO / "config" / "feeds.yaml"
    assert config.site.base_url == "http://127.0.0.1:8080/"
    assert config.source.dir == tmp_path / "examples" / "articles"
    assert config.output.dir == tmp_path / "public"
    assert config.schedule.interval == 60
    assert config.category_feeds is True
    by_slug = {feed.slug: feed for feed in config.feeds}
    assert by_slug["finance"].categories == (("金融",),)
    assert by_slug["china"].categories == (("金融", "新浪财经", "新浪财经－国內"),)
    assert any(feed.exclude for feed in config.feeds)


def _article_paths(path: Path) -> list[tuple[str, ...]]:
    """Category paths of one Hexo article, read the Hexo way (a list is one path)."""
    text = path.read_text(encoding="utf-8-sig", errors="replace").lstrip()
    meta = yaml.safe_load(text.split("\n---", 1)[0].removeprefix("---")) or {}
    categories = meta.get("categories") or []
    if isinstance(categories, str):
        return [(categories,)]
    if all(isinstance(item, list) for item in categories):
        return [tuple(str(name) for name in item) for item in categories]
    return [tuple(str(name) for name in categories)]


def test_shipped_feeds_match_example_articles(tmp_path: Path) -> None:
    articles = sorted((REPO / "examples" / "articles").glob("*.txt"))
    if not articles:
        pytest.skip("no example articles under examples/articles")
    paths = [p for article in articles for p in _article_paths(article)]
    config = load_config(REPO / "config" / "feeds.yaml", base_dir=tmp_path)
    for feed in config.feeds:
        for prefix in feed.categories + feed.exclude:
            assert any(p[: len(prefix)] == prefix for p in paths), (feed.slug, prefix)


def test_settings_table_matches_dataclasses() -> None:
    declared = {setting.name for setting in SETTINGS}
    expected = {"category_feeds", "archives"} | {
        f"{section}.{field.name}"
        for section, cls in [
            ("site", SiteConfig),
            ("source", SourceConfig),
            ("output", OutputConfig),
            ("websub", WebSubConfig),
            ("state", StateConfig),
            ("schedule", ScheduleConfig),
            ("clean", CleanConfig),
            ("images", ImagesConfig),
        ]
        for field in dataclasses.fields(cls)
    }
    assert declared == expected
    assert [s.name for s in FEED_SETTINGS] == [
        f"feeds[].{field.name}" for field in dataclasses.fields(FeedSpec)
    ]
    assert all(setting.help.strip() for setting in (*SETTINGS, *FEED_SETTINGS))


# --- conversions -------------------------------------------------------------------------


def test_values_are_converted() -> None:
    config = parse(
        """\
        site: {base_url: "HTTPS://example.org/news", language: en}
        source: {timezone: UTC, extensions: [MD, .Txt, md], max_bytes: 10}
        schedule: {interval: 0.5}
        category_feeds: off
        clean: {remove: "div.ad", summary_length: 80}
        """
    )
    assert config.site.base_url == "https://example.org/news/"
    assert config.source.timezone == ZoneInfo("UTC")
    assert config.source.extensions == (".md", ".txt")
    assert config.schedule.interval == 0.5
    assert config.category_feeds is False
    assert config.clean.remove == ("div.ad",)


@pytest.mark.parametrize(
    ("written", "expected"),
    [("auto", True), ("off", False), ("'off'", False), ("true", True), ("false", False)],
)
def test_category_feeds_accepts_auto_off_and_booleans(written: str, expected: bool) -> None:
    assert parse(f"category_feeds: {written}\n").category_feeds is expected


def test_feed_categories_forms() -> None:
    config = parse(
        """\
        feeds:
          - slug: one
            title: One
            categories: " 金融 / 新浪财经 "
          - slug: two
            title: Two
            categories: [金融, "科技/新浪科技", [金融, 新浪财经], 金融]
            exclude: "金融/新浪财经/新浪财经－股市"
        """
    )
    one, two = config.feeds
    assert one == FeedSpec("one", "One", "", (("金融", "新浪财经"),), (), 50)
    assert two.categories == (("金融",), ("科技", "新浪科技"), ("金融", "新浪财经"))
    assert two.exclude == (("金融", "新浪财经", "新浪财经－股市"),)


def test_relative_dirs_resolve_against_base_dir(tmp_path: Path) -> None:
    config = parse("source: {dir: articles}\noutput: {dir: /var/www/feeds}\n", base_dir=tmp_path)
    assert config.source.dir == tmp_path / "articles"
    assert config.output.dir == Path("/var/www/feeds")


def test_base_dir_defaults_to_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_config("output: {dir: out}\n").output.dir == tmp_path / "out"


def test_merge_keys_let_feeds_share_settings() -> None:
    config = parse(
        """\
        feeds:
          - &base {slug: a, title: A, limit: 3, categories: [金融]}
          - {<<: *base, slug: b, limit: 4}
        """
    )
    assert [(f.slug, f.title, f.limit, f.categories) for f in config.feeds] == [
        ("a", "A", 3, (("金融",),)),
        ("b", "A", 4, (("金融",),)),
    ]


# --- problems, each with its exact message and line --------------------------------------

ERRORS = [
    (
        "feeds:\n  - {slug: a, title: A}\n  - {slug: b, title: B}\n  - slug: c\n    title: C\n"
        "    limit: 0\n",
        "feeds[2].limit: must be a positive integer (config/feeds.yaml:6)",
    ),
    ("site:\n  titel: x\n", "site.titel: unknown key; did you mean 'title'? (config/feeds.yaml:2)"),
    (
        "colour: red\n",
        "colour: unknown key; expected one of site, source, output, websub, state, "
        "schedule, category_feeds, archives, clean, images, feeds (config/feeds.yaml:1)",
    ),
    (
        "site.title: x\n",
        "site.title: unknown key; write it nested: 'site:' with 'title:' indented below it "
        "(config/feeds.yaml:1)",
    ),
    (
        "- site\n",
        "top level: must be a mapping with keys such as site, source, output, websub, state, "
        "schedule, "
        "category_feeds, archives, clean, images, feeds, not a list (config/feeds.yaml:1)",
    ),
    (
        "site: x\n",
        "site: must be a mapping with keys such as title, base_url, language, description, "
        "search, not the value 'x' (config/feeds.yaml:1)",
    ),
    (
        "site:\n  title: 2022\n",
        "site.title: must be a string, not the number 2022; put it in quotes (config/feeds.yaml:2)",
    ),
    ("site:\n  title: '  '\n", "site.title: must not be empty (config/feeds.yaml:2)"),
    (
        "site:\n  base_url: example.org\n",
        "site.base_url: must be an absolute http(s) URL such as 'https://example.org/', "
        "not 'example.org' (config/feeds.yaml:2)",
    ),
    (
        "site:\n  base_url: http://example.org/?a=1\n",
        "site.base_url: must not have a query or fragment: 'http://example.org/?a=1' "
        "(config/feeds.yaml:2)",
    ),
    (
        "site:\n  language: no\n",
        "site.language: must be a string, not the boolean false; put it in quotes "
        "(config/feeds.yaml:2)",
    ),
    (
        "source:\n  timezone: Asia/Shanghi\n",
        "source.timezone: must be an IANA time zone such as 'Asia/Shanghai' or 'UTC', "
        "not 'Asia/Shanghi'; did you mean 'Asia/Shanghai'? (config/feeds.yaml:2)",
    ),
    (
        "source:\n  extensions:\n    - .md\n    - 3\n",
        "source.extensions[1]: must be a string, not the number 3; put it in quotes "
        "(config/feeds.yaml:4)",
    ),
    (
        "source:\n  extensions: []\n",
        "source.extensions: must list at least one file extension, such as [.md, .txt] "
        "(config/feeds.yaml:2)",
    ),
    (
        "source:\n  max_bytes: '5000'\n",
        "source.max_bytes: must be a positive integer (config/feeds.yaml:2)",
    ),
    (
        "source:\n  dir: ''\n",
        "source.dir: must not be empty (config/feeds.yaml:2)",
    ),
    (
        "schedule:\n  interval: -1\n",
        "schedule.interval: must be a positive number of seconds (config/feeds.yaml:2)",
    ),
    (
        "schedule:\n  interval: '60'\n",
        "schedule.interval: must be a positive number of seconds (config/feeds.yaml:2)",
    ),
    (
        "category_feeds: sometimes\n",
        "category_feeds: must be 'auto' or 'off', not the string 'sometimes' (config/feeds.yaml:1)",
    ),
    (
        "clean:\n  remove:\n    - .ok\n    - 'div['\n",
        "clean.remove[1]: must be a CSS selector; 'div[' is not one (Expected ident or '*', "
        "got <EOF at 4>); fix or remove it (config/feeds.yaml:4)",
    ),
    (
        "clean:\n  summary_length: 1.5\n",
        "clean.summary_length: must be a positive integer (config/feeds.yaml:2)",
    ),
    (
        "feeds: finance\n",
        "feeds: must be a list of mappings with slug and title, not the value 'finance' "
        "(config/feeds.yaml:1)",
    ),
    (
        "feeds:\n  - finance\n",
        "feeds[0]: must be a mapping with keys such as slug, title, description, categories, "
        "exclude, limit, authors, exclude_authors, match, exclude_match, max_bytes, not the "
        "value 'finance' (config/feeds.yaml:2)",
    ),
    (
        "feeds:\n  - title: T\n",
        "feeds[0].slug: is missing; every feed needs a slug (config/feeds.yaml:2)",
    ),
    (
        "feeds:\n  - {slug: Finance, title: T}\n",
        "feeds[0].slug: must be lower-case letters, digits and '-', starting with a letter or "
        "digit, at most 80 characters (it names the feed's URL), not 'Finance' "
        "(config/feeds.yaml:2)",
    ),
    (
        f"feeds:\n  - {{slug: {'a' * 81}, title: T}}\n",
        "feeds[0].slug: must be lower-case letters, digits and '-', starting with a letter or "
        f"digit, at most 80 characters (it names the feed's URL), not '{'a' * 81}' "
        "(config/feeds.yaml:2)",
    ),
    (
        "feeds:\n  - {slug: a, title: ''}\n",
        "feeds[0].title: must not be empty (config/feeds.yaml:2)",
    ),
    (
        "feeds:\n  - slug: a\n    title: T\n    categories: ['金融//新浪财经']\n",
        "feeds[0].categories[0]: must be a category path such as '金融/新浪财经' with no empty "
        "segment, not '金融//新浪财经' (config/feeds.yaml:4)",
    ),
    (
        "feeds:\n  - slug: a\n    title: T\n    exclude: {金融: 1}\n",
        "feeds[0].exclude: must be a list of strings, not a mapping (config/feeds.yaml:4)",
    ),
    (
        "feeds:\n  - {slug: a, title: T, lmit: 5}\n",
        "feeds[0].lmit: unknown key; did you mean 'limit'? (config/feeds.yaml:2)",
    ),
    (
        "site: !!set {title}\n",
        "site: must be a mapping with keys such as title, base_url, language, description, "
        "search, not a !!set (config/feeds.yaml:1)",
    ),
    (
        "site:\n  title: a\n  title: b\n",
        "site.title: is set twice (also on line 2); keep one (config/feeds.yaml:3)",
    ),
    (
        "site:\n  title: !!int x\n",
        "site.title: does not match its YAML tag (invalid literal for int() with base 10: 'x'); "
        "fix it (config/feeds.yaml:2)",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS, ids=[e[1].split(":")[0] for e in ERRORS])
def test_each_problem_has_exact_message_and_line(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    found = problems(
        """\
        site:
          title: 1
          base_url: ftp://example.org/
        schedule:
          interval: 0
        feeds:
          - slug: a
            title: A
            limit: -5
          - slug: a
            title: A again
        """
    )
    assert found == [
        "site.title: must be a string, not the number 1; put it in quotes (config/feeds.yaml:2)",
        "site.base_url: must be an absolute http(s) URL such as 'https://example.org/', "
        "not 'ftp://example.org/' (config/feeds.yaml:3)",
        "schedule.interval: must be a positive number of seconds (config/feeds.yaml:5)",
        "feeds[0].limit: must be a positive integer (config/feeds.yaml:9)",
        "feeds[1].slug: 'a' is already used by feeds[0] (line 7); slugs must be unique "
        "(config/feeds.yaml:10)",
    ]


def test_every_bad_item_of_a_list_is_reported() -> None:
    found = problems("clean:\n  remove: ['div[', .ok, '', 7]\n")
    assert [p.split(":")[0] for p in found] == [
        "clean.remove[0]",
        "clean.remove[2]",
        "clean.remove[3]",
    ]


def test_config_error_is_a_feeds_error_with_one_problem_per_line() -> None:
    with pytest.raises(FeedsError) as caught:
        parse("site: {title: 1, language: 2}\n")
    assert isinstance(caught.value, ConfigError)
    assert str(caught.value).splitlines() == list(caught.value.problems)
    assert len(caught.value.problems) == 2


# --- YAML itself -------------------------------------------------------------------------


def test_yaml_syntax_error_names_the_line() -> None:
    assert problems("site:\n  title: a: b\n") == [
        "YAML syntax error: mapping values are not allowed here at column 11; check the "
        "indentation, and quote values that contain ': ' or ' #' (config/feeds.yaml:2)"
    ]


def test_unclosed_bracket_names_where_it_opened() -> None:
    assert problems("site:\n  title: [unclosed\n") == [
        "YAML syntax error: while parsing a flow sequence, expected ',' or ']', but got "
        "'<stream end>' at column 1 (the construct starts on line 2); check the indentation, "
        "and quote values that contain ': ' or ' #' (config/feeds.yaml:3)"
    ]


def test_control_character_is_a_syntax_error_with_line() -> None:
    assert problems("site:\n  title: a\x00b\n") == [
        "YAML syntax error: special characters are not allowed #x0000; delete that character "
        "(config/feeds.yaml:2)"
    ]


def test_python_tags_are_errors_and_never_construct(tmp_path: Path) -> None:
    target = tmp_path / "created"
    found = problems(
        f"""\
        site:
          title: !!python/object/apply:os.mkdir ["{target}"]
        feeds:
          - !!python/object/apply:os.mkdir
            args: ["{target}"]
        """
    )
    assert found == [
        "site.title: the YAML tag !!python/object/apply:os.mkdir is not allowed; remove it "
        "(only plain strings, numbers, lists and mappings are) (config/feeds.yaml:2)",
        "feeds[0]: the YAML tag !!python/object/apply:os.mkdir is not allowed; remove it "
        "(only plain strings, numbers, lists and mappings are) (config/feeds.yaml:4)",
    ]
    assert not target.exists()


def test_utf8_bom_and_crlf_are_read(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes("\ufeffsite:\r\n  title: 新浪\r\n".encode())
    assert load_config(path, base_dir=tmp_path).site.title == "新浪"


# --- the file ----------------------------------------------------------------------------


def test_problems_name_the_file_as_given(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("site:\n  title: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == (
        f"site.title: must be a string, not the number 3; put it in quotes ({path}:2)",
    )


def test_missing_file_says_how_to_choose_another(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: config file not found; create it, or pass -c PATH or set FEEDS_CONFIG "
        "to use another file"
    )


def test_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}: is a directory, not a config file;")
    assert "FEEDS_CONFIG" in str(caught.value)


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("site:\n  title: 新浪\n".encode("gbk"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"config file: not UTF-8 text (byte 0xd0); save it as UTF-8 ({path}:2)"
    )


def test_state_dir_defaults_inside_the_output_dir(tmp_path: Path) -> None:
    assert parse_config("", base_dir=tmp_path).state.dir == tmp_path / "public" / ".feeds"
    config = parse_config("output: {dir: out}\nstate: {dir: st}\n", base_dir=tmp_path)
    assert config.state.dir == tmp_path / "st"


def test_feed_filters_and_cap(tmp_path: Path) -> None:
    config = parse_config(
        "feeds:\n  - slug: a\n    title: A\n    authors: 新浪财经\n"
        "    exclude_authors: [经济观察报]\n    match: '(?i)A股|港股'\n"
        "    exclude_match: 广告\n    max_bytes: 524288\n",
        base_dir=tmp_path,
    )
    (spec,) = config.feeds
    assert spec.authors == ("新浪财经",) and spec.exclude_authors == ("经济观察报",)
    assert spec.match == "(?i)A股|港股" and spec.exclude_match == "广告"
    assert spec.max_bytes == 524288 and spec.filters_text


def test_bad_feed_filters_are_reported_with_their_lines(tmp_path: Path) -> None:
    text = "feeds:\n  - slug: a\n    title: A\n    match: '(unclosed'\n    max_bytes: 100\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, Path("config/feeds.yaml"), base_dir=tmp_path)
    problems = caught.value.problems
    assert problems[0].startswith("feeds[0].match: must be a regular expression; '(unclosed'")
    assert problems[0].endswith("(config/feeds.yaml:4)")
    assert problems[1] == (
        "feeds[0].max_bytes: must be at least 4096 bytes (a feed's header alone takes about "
        "1 KB) (config/feeds.yaml:5)"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("site:\n  title: t\n  language: fr\n", "feeds.yaml:3"),
        ("site: {title: t}\n", "feeds.yaml"),  # not set: the file alone
        ("site: [not, a, mapping]\n", "feeds.yaml"),
        ("site: {language: [\n", "feeds.yaml"),  # not YAML at all
    ],
)
def test_a_message_about_a_value_names_where_the_file_sets_it(tmp_path, text, where):
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    assert key_location(path, "site.language") == str(tmp_path / where)
