"""Every setting is documented in the README, in the table generated from the declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.config import FEED_SETTINGS, SETTINGS, settings_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
REGENERATE = "python -c 'from feeds.config import settings_markdown; print(settings_markdown())'"
KEYS = [setting.name for setting in SETTINGS] + ["feeds"] + [s.name for s in FEED_SETTINGS]


def readme() -> str:
    assert README.is_file(), f"{README} is missing; it must carry the Configuration section"
    return README.read_text(encoding="utf-8")


@pytest.mark.parametrize("key", KEYS)
def test_setting_is_documented_in_readme(key: str) -> None:
    assert f"`{key}`" in readme(), f"{key} is not documented in README.md"


def test_readme_table_is_the_generated_one() -> None:
    assert settings_markdown() in readme(), f"README.md's settings table is stale: {REGENERATE}"


@pytest.mark.parametrize("key", KEYS)
def test_generated_table_has_a_row_per_key(key: str) -> None:
    rows = [line for line in settings_markdown().splitlines() if line.startswith(f"| `{key}` |")]
    assert len(rows) == 1
