"""The synthetic corpus: deterministic, shaped like the real sample, varied enough to test with."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sites import EXAMPLES, REPO

from feeds.bench.corpus import Lengths, generate, iter_articles, main

REGENERATE = (
    "rm examples/articles/*.txt && python -m feeds.bench.corpus examples/articles --count 40"
    " --lengths sample"
)
KIB = 1024
SHANGHAI = timezone(timedelta(hours=8))


def read_tree(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def split(text: str) -> tuple[dict[str, Any], str]:
    """Front matter (parsed the way python-frontmatter does, with libyaml when present) and body."""
    empty, front, body = text.split("\n---\n", 2)
    assert empty == "", "the file should open with one blank line, then ---, like the sample"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    meta = yaml.load(front, Loader=loader)  # noqa: S506 - a safe loader
    assert meta == yaml.safe_load(front)
    assert isinstance(meta, dict)
    return meta, body


def instant(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    assert isinstance(value, str)
    return parsedate_to_datetime(value)


def paths(categories: object) -> list[tuple[str, ...]]:
    if isinstance(categories, str):
        return [(categories,)]
    assert isinstance(categories, list)
    if all(isinstance(item, list) for item in categories):
        return [tuple(item) for item in categories]
    return [tuple(categories)]


@pytest.mark.parametrize("lengths", ["sample", "real"])
def test_same_count_and_seed_give_identical_files(tmp_path: Path, lengths: Lengths) -> None:
    generate(tmp_path / "a", 25, seed=7, lengths=lengths)
    generate(tmp_path / "b", 25, seed=7, lengths=lengths)
    generate(tmp_path / "c", 25, seed=8, lengths=lengths)
    first = read_tree(tmp_path / "a")
    assert first == read_tree(tmp_path / "b")
    assert first.keys().isdisjoint(read_tree(tmp_path / "c").keys())


def test_real_lengths_repeat_across_runs_and_differ_from_the_samples() -> None:
    first = list(iter_articles(120, seed=4, lengths="real"))
    assert first == list(iter_articles(120, seed=4, lengths="real"))
    short = list(iter_articles(120, seed=4))
    assert [name for name, _ in first] == [name for name, _ in short]
    assert sum(map(len, dict(first).values())) > 2 * sum(map(len, dict(short).values()))


def quantile(sizes: list[int], q: float) -> int:
    return sorted(sizes)[int(q * (len(sizes) - 1))]


def test_real_lengths_spread_like_a_real_scrape() -> None:
    texts = [text for _, text in iter_articles(2000, seed=9, lengths="real")]
    sizes = [len(text.encode()) for text in texts]
    assert 2.5 * KIB <= quantile(sizes, 0.1) <= 4 * KIB
    assert 5 * KIB <= quantile(sizes, 0.5) <= 6.5 * KIB
    assert 8 * KIB <= quantile(sizes, 0.9) <= 10 * KIB
    long = [text for text, size in zip(texts, sizes, strict=True) if size >= 14 * KIB]
    assert 0.045 <= len(long) / len(texts) <= 0.055
    assert all(20 * KIB <= len(text.encode()) <= 60 * KIB for text in long)
    # Each kind of long article is there: tables, galleries, analyses in sections.
    assert sum("<table" in text for text in long) > 20
    assert sum(text.count('class="img_descr">图') >= 20 for text in long) > 20
    assert sum("<p><strong>十、" in text for text in long) > 10


def distinct_pairs(text: str) -> tuple[int, set[str]]:
    """How many pairs of Chinese characters the body's text holds, and which."""
    body = re.sub("<[^>]*>", " ", text.split("\n---\n", 2)[2])
    pairs = [a + b for a, b in zip(body, body[1:], strict=False) if CJK.fullmatch(a + b)]
    return len(pairs), set(pairs)


CJK = re.compile("[\u4e00-\u9fff]{2}")
SAMPLE = REPO.parent / "shared" / "samples" / "000_c956da2606e02062.txt"


def test_real_lengths_use_words_as_varied_as_the_samples() -> None:
    # A search index's size and cost grow with the distinct pairs of characters in each
    # article and in the archive: the phrase lists alone repeat a few hundred of them.
    counted, in_sample = distinct_pairs(SAMPLE.read_text(encoding="utf-8"))
    assert 0.6 <= len(in_sample) / counted <= 0.7
    vocabulary: set[str] = set()
    shares = []
    for _, text in iter_articles(400, seed=6, lengths="real"):
        count, pairs = distinct_pairs(text)
        vocabulary |= pairs
        if counted / 2 <= count <= counted * 2:
            shares.append(len(pairs) / count)
    assert 0.58 <= sum(shares) / len(shares) <= 0.75
    assert len(vocabulary) > 45_000
    short = set().union(*(distinct_pairs(text)[1] for _, text in iter_articles(400, seed=6)))
    assert len(short) < 1000


def test_real_lengths_keep_the_samples_proportions_of_cruft_and_images() -> None:
    for lengths in ("sample", "real"):
        texts = [text for _, text in iter_articles(400, seed=2, lengths=lengths)]
        with_cruft = sum("appendQr_wrap" in text for text in texts)
        with_image = sum('<div class="img_wrapper">' in text for text in texts)
        # The decks deal 17 in 20 with the cruft and 9 in 20 with an image, in every
        # block of twenty: a gallery adds images only to articles already drawn with one
        # or without.
        assert with_cruft == 340, lengths
        assert 175 <= with_image <= 200, lengths


def test_generate_writes_and_returns_the_count(tmp_path: Path) -> None:
    assert generate(tmp_path / "seven", 7) == 7
    assert len(list((tmp_path / "seven").iterdir())) == 7
    assert generate(tmp_path / "none", 0) == 0
    assert list((tmp_path / "none").iterdir()) == []
    with pytest.raises(ValueError, match="-1"):
        generate(tmp_path / "bad", -1)


def test_names_are_shaped_like_the_sample() -> None:
    names = [name for name, _ in iter_articles(1000)]
    assert all(re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", name) for name in names)
    assert names[:2] == sorted(names[:2]) and names[999].startswith("999_")
    wide = [name for name, _ in iter_articles(1001)]
    assert wide[0].startswith("0000_") and wide[1000].startswith("1000_")
    assert len(set(wide)) == 1001


@pytest.mark.parametrize("lengths", ["sample", "real"])
def test_every_file_has_parseable_front_matter(lengths: Lengths) -> None:
    for name, text in iter_articles(300, seed=3, lengths=lengths):
        text.encode("utf-8")  # no lone surrogates
        meta, body = split(text)
        assert isinstance(meta["title"], str) and meta["title"], name
        assert meta["categories"], name
        assert isinstance(meta["date"], str | datetime), name
        assert body.startswith("\n<div>") and body.rstrip().endswith("</div>"), name


@pytest.mark.slow
def test_dates_are_distinct_and_in_the_first_half_of_2022() -> None:
    count = 5000
    # Only the date line is parsed: loading 5,000 whole front matters is slow in pure Python.
    lines = (re.search(r"^date: .*$", text, re.M) for _, text in iter_articles(count, seed=1))
    seen = [instant(yaml.safe_load(line[0])["date"]) for line in lines if line]
    assert len(set(seen)) == count
    assert min(seen) >= datetime(2022, 1, 1, tzinfo=UTC)
    assert max(seen) < datetime(2022, 7, 1, tzinfo=UTC)
    assert seen != sorted(seen), "file order should not follow date order"


def test_shipped_examples_match_the_generator(tmp_path: Path) -> None:
    generate(tmp_path, 40, lengths="sample")
    assert read_tree(EXAMPLES) == read_tree(tmp_path), (
        f"examples/articles drifted from feeds/bench/corpus.py; regenerate with `{REGENERATE}`"
        " from the repository root and review the diff"
    )


@pytest.mark.parametrize("lengths", ["sample", "real"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forty_files_show_every_variant(seed: int, lengths: Lengths) -> None:
    articles = [split(text) for _, text in iter_articles(40, seed=seed, lengths=lengths)]
    metas = [meta for meta, _ in articles]
    bodies = [body for _, body in articles]

    leaf_paths = {path for meta in metas for path in paths(meta["categories"])}
    assert len(leaf_paths) >= 4, leaf_paths
    assert ("金融", "新浪财经", "新浪财经－国內") in leaf_paths
    assert ("科技", "新浪科技", "互联网") in leaf_paths
    assert any(isinstance(meta["categories"], str) for meta in metas)
    assert any(isinstance(meta["categories"][0], list) for meta in metas)
    assert any("tags" in meta for meta in metas)

    authors = Counter(meta.get("author") for meta in metas)
    assert None in authors and len(authors) >= 5, authors

    dates = [meta["date"] for meta in metas]
    assert sum(isinstance(d, str) and d.endswith(" GMT") for d in dates) > len(dates) / 2
    assert any(isinstance(d, datetime) and d.tzinfo is None for d in dates)
    assert any(isinstance(d, datetime) and d.tzinfo is not None for d in dates)
    assert len({instant(d).month for d in dates}) >= 4

    links = [meta["link"] for meta in metas if "link" in meta]
    assert 8 <= len(links) <= 20, links
    assert all(link.startswith("https://finance.sina.com.cn/") for link in links)
    assert 0 < sum("id" in meta for meta in metas) < 10

    titles = [meta["title"] for meta in metas]
    assert any("'" in title for title in titles), "the YAML quote escape is not exercised"
    assert any(re.search(r"[A-Za-z0-9]", title) for title in titles)

    assert any("原标题：" in body for body in bodies)
    assert sum("appendQr_wrap" in body for body in bodies) > len(bodies) / 2
    assert any('<img src="//n.sinaimg.cn/' in body for body in bodies)
    images = [img for body in bodies for img in re.findall(r'<div class="img_wrapper">.*?>', body)]
    assert any("referrerpolicy" in img for img in images)
    assert any("referrerpolicy" not in img for img in images)
    editors = {m for body in bodies for m in re.findall(r"责任编辑：(\S+) </p>", body)}
    assert len(editors) >= 3, editors


@pytest.mark.parametrize("lengths", ["sample", "real"])
def test_cruft_is_byte_for_byte_the_samples(sample_article: Path, lengths: Lengths) -> None:
    sample = sample_article.read_text(encoding="utf-8")
    marker = "<!-- news_keyword_pub"
    tail = sample[sample.index(marker) :].replace("责任编辑：王蒙 ", "责任编辑：{} ")
    header = sample[: sample.index("title: '")]
    checked = 0
    for _, text in iter_articles(40, lengths=lengths):
        assert text.startswith(header)
        if marker in text:
            editor = re.findall(r"责任编辑：(\S+) </p>", text)[-1]
            assert text[text.index(marker) :] == tail.format(editor)
            checked += 1
    assert checked > 20


def test_command_line_writes_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "out"), "--count", "3", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert out == f"wrote 3 article files to {tmp_path / 'out'} (seed 5, real lengths)\n"
    generate(tmp_path / "api", 3, seed=5, lengths="real")
    assert read_tree(tmp_path / "out") == read_tree(tmp_path / "api")

    assert main([str(tmp_path / "short"), "--count", "3", "--lengths", "sample"]) == 0
    assert capsys.readouterr().out.endswith("(seed 0, sample lengths)\n")
    generate(tmp_path / "api-short", 3)
    assert read_tree(tmp_path / "short") == read_tree(tmp_path / "api-short")


def test_command_line_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "--count", "-2"])
    assert exit_info.value.code == 2
    assert "give 0 or more" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "--lengths", "huge"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'huge' (choose from" in capsys.readouterr().err

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main([str(blocker / "out")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert str(blocker) in err and "writable directory" in err


def test_runs_as_a_module(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "feeds.bench.corpus", str(tmp_path), "--count", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote 2 article files")
    assert len(list(tmp_path.iterdir())) == 2
