"""ruff and mypy, as configured in pyproject.toml, are clean on the package and the tests."""

import subprocess
import sys

import pytest
from conftest import REPO

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_ruff_check():
    result = _run("ruff", "check", "feeds", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = _run("ruff", "format", "--check", "feeds", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy():
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
