"""Every setting is documented in docs/configuration.md, in the table generated from the settings.

After a change of settings, `pytest tests/test_docs.py --update-golden` rewrites that table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.config import FEED_SETTINGS, SETTINGS, settings_markdown

REPO = Path(__file__).resolve().parents[1]
CONFIGURATION = REPO / "docs" / "configuration.md"
REGENERATE = "pytest tests/test_docs.py --update-golden"
KEYS = [setting.name for setting in SETTINGS] + ["feeds"] + [s.name for s in FEED_SETTINGS]


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
