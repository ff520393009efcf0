"""Property tests: whatever bytes or text an article holds, nothing crashes and every
published document stays valid.

Deterministic (derandomize) and small enough to run in a few seconds; to search harder,
raise max_examples in the profile below and drop derandomize for a local run.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from factories import make_article, make_spec
from feedcheck import assert_parses_cleanly, assert_valid_atom, assert_valid_json_feed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from sites import make_site

from feeds.build.contents import site_contents, winners
from feeds.build.ingest import _compare
from feeds.build.selection import category_nodes, feed_specs, in_order, select_feeds
from feeds.catalogue.records import Listing, encode, feed_order
from feeds.catalogue.sql import StoredSet
from feeds.catalogue.store import Catalogue
from feeds.clean.cleaner import clean_body
from feeds.config import parse_config
from feeds.errors import ArticleError
from feeds.sources.articles import parse_article
from feeds.sources.files import SourceFile
from feeds.sources.frontmatter import parse_front_matter
from feeds.text import xml_safe

settings.register_profile(
    "feeds-properties",
    max_examples=150,
    deadline=None,
    derandomize=True,
    print_blob=True,
    # atom_schema is a path that never changes between examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROFILE = settings.get_profile("feeds-properties")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 1, 1, tzinfo=UTC)
MTIME = datetime(2023, 6, 1, tzinfo=UTC).timestamp()
LIBYAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FIELDS = ("title", "author", "categories", "tags", "date", "link", "headimg", "summary", "id")

# Pieces scrapers and attackers really produce, so that random text meets markup and YAML.
SNIPPETS = [
    "---",
    "\n",
    "\r\n",
    ": ",
    " #",
    "'",
    '"',
    "[",
    "]",
    "{",
    "&",
    "*",
    "!!python/object:os.system",
    "&a",
    "*a",
    "<p>",
    "</p>",
    "<div>",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">',
    "<style>p{}</style>",
    "<!--",
    "-->",
    "]]>",
    "<![CDATA[",
    "&lt;script&gt;",
    "&#0;",
    "\x00",
    "\x07",
    "\x1b",
    "\ufeff",
    "\u200b",
    "\u202e",
    "\ufffe",
    "\ud7ff",
    "\U0001f600",
    "新浪财经",
    "2022-03-15",
    "0001-01-01",
    "9999-12-31",
    "Tue, 15 Mar 2022 14:04:32 GMT",
    "1647353072",
    "https://n.sinaimg.cn/a.png",
    "//host/x",
    "../..",
    "a/b",
]
texts = st.one_of(
    st.text(max_size=60), st.lists(st.sampled_from(SNIPPETS), max_size=8).map("".join)
)
front_values = st.one_of(
    texts,  # written as is: often a YAML error, sometimes a number, a list, a mapping
    texts.map(json.dumps),  # a double-quoted YAML string holding exactly the text
    st.lists(texts.map(json.dumps), max_size=3).map(lambda v: "[" + ", ".join(v) + "]"),
)
articles = st.fixed_dictionaries({key: front_values for key in FIELDS}).flatmap(
    lambda front: st.tuples(st.just(front), texts, st.sampled_from(["utf-8", "gb18030"]))
)


def article_bytes(front: dict[str, str], body: str, codec: str) -> bytes:
    lines = "".join(f"{key}: {value}\n" for key, value in front.items())
    return f"---\n{lines}---\n{body}\n".encode(codec, "replace")


def parse(data: bytes) -> None:
    """Parse and clean; only ArticleError may escape."""
    try:
        article = parse_article(data, "p/a.txt", timezone=SHANGHAI, mtime=MTIME, now=NOW)
    except ArticleError as exc:
        assert exc.path == "p/a.txt" and exc.reason
        return
    for text in (article.title, article.author or "", article.summary or ""):
        assert xml_safe(text) == text
    assert article.title and article.published.tzinfo is not None
    body = clean_body(article.body, base_url=article.link or "http://127.0.0.1:8080/")
    assert xml_safe(body.html) == body.html and xml_safe(body.summary) == body.summary


@PROFILE
@given(
    st.one_of(
        st.binary(max_size=400),
        st.tuples(st.binary(max_size=200), st.binary(max_size=200)).map(
            lambda parts: b"---\ntitle: x\n" + parts[0] + b"\n---\n" + parts[1]
        ),
        st.binary(max_size=200).map(lambda data: b"\xef\xbb\xbf---\r\n" + data),
    )
)
def test_arbitrary_bytes_are_an_article_or_an_article_error(data: bytes) -> None:
    parse(data)


@PROFILE
@given(articles)
def test_arbitrary_front_matter_and_body_never_crash(case: tuple[dict[str, str], str, str]) -> None:
    parse(article_bytes(*case))


@settings(PROFILE, max_examples=20)
@given(cases=st.lists(articles, min_size=1, max_size=3))
def test_a_build_of_arbitrary_articles_publishes_valid_feeds(
    cases: list[tuple[dict[str, str], str, str]], atom_schema: Path
) -> None:
    with tempfile.TemporaryDirectory() as root:
        site = make_site(Path(root), examples=False)
        site.write(
            "good.txt", article_bytes({"title": "正常", "date": "2022-03-15"}, "<p>x</p>", "utf-8")
        )
        for number, case in enumerate(cases):
            site.write(f"case-{number}.txt", article_bytes(*case))
        report = site.build()
        assert report.articles_published >= 1
        assert not [e for e in report.errors if "unexpected error" in e], report.errors
        assert not [e for e in report.errors if e.startswith("feed ")], report.errors
        tree = site.tree()
        assert "feeds/all.atom" in tree
        for path, data in tree.items():
            if path.endswith(".atom"):
                assert_valid_atom(data, atom_schema)
                assert_parses_cleanly(data)
            elif path.endswith(".rss"):
                etree.fromstring(data)
                assert_parses_cleanly(data)
            elif path.endswith(".json"):
                assert_valid_json_feed(data)


# Names as scraped: mostly plain CJK and ASCII words, now and then markup, entities,
# odd whitespace and invisible or XML-illegal characters.
_NAME_PIECES = st.sampled_from(
    [
        "新浪财经",
        "A股",
        " ",
        "  ",
        "\t",
        "\u3000",
        "\xa0",
        "<b>",
        "&amp;",
        "&#8203;",
        "\u200b",
        "\x01",
        "\ufeff",
        "<",
        ">",
        "&",
        "x",
        "\n",
        "\ud800",
        "\x85",
    ]
)


@PROFILE
@given(st.one_of(st.text(), st.lists(_NAME_PIECES, max_size=8).map("".join)))
def test_plain_text_fast_path_agrees_with_the_full_one(value: str) -> None:
    from feeds.text import _plain, plain_text

    assert plain_text(value) == _plain(value)


@PROFILE
@given(st.fixed_dictionaries({key: front_values for key in FIELDS}))
def test_front_matter_loads_as_pyyaml_builds_it(front: dict[str, str]) -> None:
    """The loader builds the usual shapes itself (text, lists of text); the result must be
    what PyYAML's own constructors give, whatever the values."""
    text = "".join(f"{key}: {value}\n" for key, value in front.items())
    text += "nested:\n  a: [1, 2.5, 2022-03-15, null, true, x]\n"
    try:
        expected = yaml.load(text, Loader=LIBYAML)  # noqa: S506 - a safe loader
        loaded = parse_front_matter(f"---\n{text}---\nbody\n", "p/a.txt")
    except (yaml.YAMLError, ArticleError):
        return  # refused, as tests/test_articles.py checks; here only what loads matters
    assert loaded.data == {str(key): value for key, value in expected.items()}


def test_plain_scalars_keep_their_types_when_their_tags_are_remembered() -> None:
    # The loader remembers each plain scalar's tag: a second reading must type it the same.
    scalars = "yes No true FALSE on ~ null '' 12 -0x1f 0o17 1_000 .5 1e3 .inf .NaN 2022-03-15"
    text = "".join(f"k{i}: {s}\n" for i, s in enumerate(scalars.split()))
    text += "k: [2022-03-15 14:04:32, 1.5, x, 'yes', \"12\"]\n"
    expected = yaml.load(text, Loader=LIBYAML)  # noqa: S506 - a safe loader
    for _ in range(2):
        assert parse_front_matter(f"---\n{text}---\n", "p/a.txt").data == expected


_STATS = st.tuples(st.integers(0, 3), st.integers(0, 3))


@given(st.dictionaries(st.text(max_size=4), _STATS), st.dictionaries(st.text(max_size=4), _STATS))
def test_a_scan_is_compared_with_the_records_in_one_pass_as_with_sets(found, kept):
    files = [SourceFile("/" + s, s, *found[s]) for s in sorted(found)]
    records = [(s, *kept[s]) for s in sorted(kept)]
    changed, recorded, gone = _compare(files, iter(records))
    assert [f.source for f in changed] == [s for s in sorted(found) if kept.get(s) != found[s]]
    assert recorded == [f.source for f in changed if f.source in kept]
    assert gone == sorted(kept.keys() - found.keys())


_ITEMS = st.lists(st.lists(st.text(max_size=3) | st.sampled_from(["a", "articles/a.html"])))


@settings(max_examples=40)  # a small, plain piece of SQL: few examples cover it
@given(_ITEMS, _ITEMS)
def test_a_stored_set_holds_what_a_python_set_would(batches, others):
    """The sets a build keeps in the catalogue's connection, added to a batch at a time."""
    db = sqlite3.connect(":memory:")
    stored, kept = StoredSet(db, "things"), set()
    for batch in batches:
        stored.add(batch)
        kept.update(batch)
    assert len(stored) == len(kept) and bool(stored) == bool(kept)
    assert sorted(stored) == sorted(kept)
    assert all(item in stored for item in kept)
    probes = {item for batch in others for item in batch}
    assert {item for item in probes if item in stored} == probes & kept
    assert stored & probes == kept & probes and stored - probes == kept - probes
    assert {*stored, "x"} == kept | {"x"}
    assert list(StoredSet(db, "things")) == []  # made again, it starts empty


# -- choosing entries in SQLite chooses what choosing them in memory does ------------------

_NAMES = st.sampled_from(["金融", "证券", "国内", "a", "a b", "ab"])
_PATHS = st.lists(st.lists(_NAMES, min_size=1, max_size=3).map(tuple), max_size=3).map(tuple)
_CHANGE = st.tuples(
    st.sampled_from(["a.txt", "b.txt", "c/d.txt", "e.txt", "f.txt", "g.txt"]),  # source
    st.none() | st.sampled_from(["1", "2", "3", "4", "5"]),  # an id; None: the file is gone
    st.integers(0, 3),  # the day: ties are many
    _PATHS,
    st.sampled_from(["甲", "乙", None]),  # author
)
_NODE = st.lists(_NAMES, min_size=1, max_size=2).map(tuple)
_SPECS = st.lists(
    st.tuples(
        st.lists(_NODE, max_size=2), st.lists(_NODE, max_size=1), st.integers(1, 4), st.booleans()
    ),
    min_size=1,
    max_size=3,
)


@given(st.lists(_CHANGE, max_size=14), _SPECS)
def test_the_catalogue_chooses_each_feeds_entries_as_a_walk_over_every_article(changes, specs):
    catalogue = Catalogue.open(None, "rules", search=False)
    kept: dict[str, Listing] = {}
    for source, id_, day, paths, author in changes:
        if id_ is None:
            catalogue.forget(source)
            kept.pop(source, None)
            continue
        published = datetime(2022, 3, 1 + day, tzinfo=UTC)
        article = make_article(id_, source=source, published=published, categories=paths)
        record = encode(source, replace(article, author=author), None, indexed=False)
        catalogue.record_article(source, (1, 1), "digest", record, ())
        kept[source] = record.listing
        if len(kept) % 3 == 0:
            catalogue.commit()  # changes on either side of a commit
    feeds = [
        make_spec(
            f"f{n}",
            categories=tuple(c),
            exclude=tuple(x),
            limit=limit,
            authors=("甲",) if by_author else (),
        )
        for n, (c, x, limit, by_author) in enumerate(specs)
    ]
    config = replace(parse_config("{}", base_dir=Path("/")), feeds=tuple(feeds))
    found = site_contents(config, catalogue, 0)

    listings, duplicates = winners(sorted(kept.values(), key=feed_order))
    expected = select_feeds(feed_specs(config, category_nodes(listings)), in_order(listings))
    assert found.selections == expected
    assert found.duplicates == duplicates
    assert found.listings == listings
    newest = max((s.updated for s in listings), default=None)
    assert found.newest.timestamp() == (newest if newest is not None else 0)
    ids = [s.id for s in kept.values()]
    shared = [s for s in kept.values() if ids.count(s.id) > 1]
    assert catalogue.sharing_ids() == sorted(shared, key=lambda s: s.source)
