"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sites import REPO


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the current output instead of comparing with it",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def _shared_dir() -> Path:
    return Path(os.environ.get("FEEDS_SHARED_DIR", REPO.parent / "shared"))


@pytest.fixture
def shared_dir() -> Path:
    """The project's shared folder (real sample articles, the Atom schema), beside the checkout."""
    path = _shared_dir()
    if not path.is_dir():
        pytest.skip(
            f"no shared folder at {path}: set FEEDS_SHARED_DIR to run the real-sample cases"
        )
    return path


@pytest.fixture
def sample_article(shared_dir: Path) -> Path:
    """The real Sina Finance sample article."""
    path = shared_dir / "samples" / "000_c956da2606e02062.txt"
    if not path.is_file():
        pytest.skip(f"the real sample {path} is missing")
    return path


@pytest.fixture
def atom_schema(shared_dir: Path) -> Path:
    """The RFC 4287 RELAX NG schema."""
    path = shared_dir / "schemas" / "atom-rfc4287.rng"
    if not path.is_file():
        pytest.skip(f"the Atom schema {path} is missing")
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave what a person may want to look at afterwards (browser screenshots):
    FEEDS_TEST_ARTIFACTS, else test-artifacts/ in the checkout (ignored by git)."""
    path = Path(os.environ.get("FEEDS_TEST_ARTIFACTS", REPO / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
