"""The published output of the shipped examples, byte for byte.

Regenerate after an intended change with `pytest tests/test_golden.py --update-golden`,
then read `git diff tests/golden` before committing.
"""

from pathlib import Path

import pytest
from sites import make_site

GOLDEN = Path(__file__).parent / "golden"
# A sample of the tree, small enough to review in a diff: every kind of document.
CHECKED = [
    "feeds/all.atom",
    "feeds/all.rss",
    "feeds/all.json",
    "feeds/finance.atom",
    "feeds/ke-ji--xin-lang-ke-ji-dc4b8d.rss",
    "index.html",
    "opml.xml",
    "feeds/finance.html",
    "feeds/all.html",
    "404.html",
    "articles/000_d56c9c7e6769d062.html",
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    site = make_site(tmp_path_factory.mktemp("golden"))
    report = site.build()
    assert report.ok, report.errors
    return site.tree()


@pytest.mark.parametrize("path", CHECKED)
def test_output_matches_golden(tree, path, update_golden):
    golden = GOLDEN / path
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(tree[path])
    assert path in tree, f"{path} is no longer published"
    assert golden.exists(), f"no golden file {golden}: run pytest --update-golden"
    assert tree[path] == golden.read_bytes(), (
        f"{path} differs from {golden}; if the change is intended, run "
        "`pytest tests/test_golden.py --update-golden` and review `git diff tests/golden`"
    )
