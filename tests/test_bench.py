"""The benchmark scripts still run (on tiny inputs). They print figures; nothing here
checks a speed, since this machine is shared and noisy."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sites import REPO

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow


def run_module(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_cold_build_benchmark_prints_every_figure():
    # Named outright: the suite may import an installed copy, found nowhere near the checkout.
    shared = Path(os.environ.get("FEEDS_SHARED_DIR", REPO.parent / "shared"))
    env = {**os.environ, "FEEDS_SHARED_DIR": str(shared)}
    result = run_module("feeds.bench", "--sizes", "60", env=env)
    assert result.returncode == 0, result.stderr
    figures = ("floor", "cold build", "articles/s", "peak RSS", "front matter", "clean")
    extra = ("feeds published after", "every page published after", "catalogue on disk")
    extra = (*extra, "archives: true")
    for figure in (*figures, *extra, "real lengths", "cost per article", "cost per KiB of body"):
        assert figure in result.stdout
    if shutil.which("hugo") and (shared / "bench" / "hugo").is_dir():
        assert "x Hugo's time" in result.stdout, result.stdout
    else:
        assert "Hugo: skipped" in result.stdout


def test_cold_build_benchmark_says_why_it_skipped_hugo(tmp_path: Path):
    env = {**os.environ, "FEEDS_SHARED_DIR": str(tmp_path)}
    result = run_module("feeds.bench", "--sizes", "30", "--runs", "1", env=env)
    assert result.returncode == 0, result.stderr
    assert "x Hugo's time" not in result.stdout
    if shutil.which("hugo"):
        assert f"Hugo: skipped, no Hugo site at {tmp_path / 'bench' / 'hugo'}" in result.stdout
    else:
        assert "Hugo: skipped, hugo is not on PATH" in result.stdout


def test_cold_build_benchmark_without_extras_leaves_out_hugo_and_archives():
    result = run_module("feeds.bench.cold", "--sizes", "30", "--runs", "1", "--no-extras")
    assert result.returncode == 0, result.stderr
    assert "Hugo: not measured" in result.stdout and "archives: true" not in result.stdout
    assert "peak RSS" in result.stdout and "catalogue on disk" in result.stdout


def test_incremental_benchmark_prints_every_figure():
    result = run_module("feeds.bench.incremental", "--articles", "60", "--drops", "2")
    assert result.returncode == 0, result.stderr
    figures = ("cold build", "restart, nothing new", "one new article", "write to served", "stream")
    for figure in figures:
        assert figure in result.stdout


def test_http_benchmark_prints_every_figure():
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk)")
    result = run_module("feeds.bench.http", "--articles", "60", "--seconds", "1")
    assert result.returncode == 0, result.stderr
    for figure in ("full GET", "gzip accepted", "304", "ratio"):
        assert figure in result.stdout


def test_search_benchmark_prints_every_figure():
    result = run_module("feeds.bench.search", "--articles", "60", "--runs", "1", "--queries", "10")
    assert result.returncode == 0, result.stderr
    figures = ("without the index", "feeds published", "index filled too", "catalogue on disk")
    for figure in (*figures, "p95", "HTTP"):
        assert figure in result.stdout
