"""The docs hold together: every setting in the generated table, every relative link leading on.

The settings table in docs/configuration.md is generated from the declarations; after a
change of settings, `pytest tests/test_docs.py --update-golden` rewrites it.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from feeds.config import FEED_SETTINGS, SETTINGS, settings_markdown

REPO = Path(__file__).resolve().parents[1]
CONFIGURATION = REPO / "docs" / "configuration.md"
REGENERATE = "pytest tests/test_docs.py --update-golden"
KEYS = [setting.name for setting in SETTINGS] + ["feeds"] + [s.name for s in FEED_SETTINGS]
MARKDOWN = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

_FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def configuration() -> str:
    assert CONFIGURATION.is_file(), f"{CONFIGURATION} is missing; it carries the settings table"
    return CONFIGURATION.read_text(encoding="utf-8")


@pytest.mark.parametrize("key", KEYS)
def test_setting_is_documented(key: str) -> None:
    assert f"`{key}`" in configuration(), f"{key} is not documented in docs/configuration.md"


def test_configuration_table_is_the_generated_one(update_golden: bool) -> None:
    table = settings_markdown()
    if update_golden:
        _rewrite_table(table)
    assert table in configuration(), (
        f"docs/configuration.md's settings table is stale: run `{REGENERATE}` "
        "and review `git diff docs/configuration.md`"
    )


def _rewrite_table(table: str) -> None:
    """Replace the table in docs/configuration.md (from its header row to the next blank line)."""
    text = configuration()
    start = text.index(table.splitlines()[0])
    end = text.find("\n\n", start)
    end = len(text) if end == -1 else end + 1
    CONFIGURATION.write_text(text[:start] + table + text[end:], encoding="utf-8")


@pytest.mark.parametrize("key", KEYS)
def test_generated_table_has_a_row_per_key(key: str) -> None:
    rows = [line for line in settings_markdown().splitlines() if line.startswith(f"| `{key}` |")]
    assert len(rows) == 1


def _prose(text: str) -> str:
    """The text outside code blocks and code spans, where a `[x](y)` is a link."""
    return _CODE_SPAN.sub("", _FENCED.sub("", text))


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file (a repeat gets -1, -2, ...)."""
    seen: Counter[str] = Counter()
    found = set()
    for heading in _HEADING.findall(_FENCED.sub("", path.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return found


def broken_links(path: Path) -> list[str]:
    """Each relative link in a Markdown file whose file or heading does not exist."""
    broken = []
    for target in _LINK.findall(_prose(path.read_text(encoding="utf-8"))):
        if _EXTERNAL.match(target):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    return broken


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda path: str(path.relative_to(REPO)))
def test_relative_links_lead_to_existing_files_and_headings(path: Path) -> None:
    broken = broken_links(path)
    assert not broken, f"{path.relative_to(REPO)} has broken links: " + "; ".join(broken)


def test_the_link_check_sees_links_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Archived feeds (RFC 5005)\n", "utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#archived-feeds-rfc-5005) [top](#page) [web](https://x.org/)\n"
        "[gone](missing.md) [bad](other.md#nowhere) `[code](ignored.md)`\n"
        "```\n[fenced](ignored.md)\n```\n",
        "utf-8",
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#nowhere: no heading with anchor #nowhere",
    ]
