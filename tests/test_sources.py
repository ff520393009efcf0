"""Reading article files: what a scan lists, and reading one that changed after it was listed."""

from __future__ import annotations

import pytest

from feeds.errors import ArticleError
from feeds.sources.files import read_source, scan_sources


def test_a_file_that_grew_since_the_scan_is_read_whole(tmp_path):
    (tmp_path / "a.md").write_bytes(b"x" * 100)
    [listed] = scan_sources(tmp_path, (".md",)).files
    (tmp_path / "a.md").write_bytes(b"y" * 5000)  # rewritten, bigger, after the scan
    assert read_source(listed, max_bytes=10_000) == b"y" * 5000


def test_a_file_that_grew_past_the_cap_since_the_scan_is_refused(tmp_path):
    (tmp_path / "a.md").write_bytes(b"x" * 100)
    [listed] = scan_sources(tmp_path, (".md",)).files
    (tmp_path / "a.md").write_bytes(b"y" * 20_000)
    with pytest.raises(ArticleError, match="over the limit of 10,000 bytes"):
        read_source(listed, max_bytes=10_000)


def test_a_file_that_shrank_since_the_scan_is_read_as_it_is(tmp_path):
    (tmp_path / "a.md").write_bytes(b"x" * 100)
    [listed] = scan_sources(tmp_path, (".md",)).files
    (tmp_path / "a.md").write_bytes(b"short")
    assert read_source(listed, max_bytes=10_000) == b"short"
    assert listed.size == 100


def test_a_scan_takes_the_extension_after_the_last_dot_in_any_case(tmp_path):
    names = ["a.txt", "b.TXT", "c.md.txt", "txt", "d.txt.bak", "e.", "f.tar.gz", "数据.txt"]
    for name in names:
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "g.Md").write_text("x", encoding="utf-8")
    scan = scan_sources(tmp_path, (".txt", ".md"))
    found = [file.source for file in scan.files]
    assert found == ["a.txt", "b.TXT", "c.md.txt", "sub/g.Md", "数据.txt"]
    assert all(file.path == str(tmp_path / file.source) for file in scan.files)
