"""The command line as a user runs it: a real process, real files, exit codes, output."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from sites import article_text, make_site, run_feeds

pytestmark = pytest.mark.slow  # every test here runs `feeds` in a process of its own


def run(*args, cwd, env=None):
    return run_feeds(*args, cwd=cwd, env=env)


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path)


def test_build_prints_a_summary_and_exits_0(site):
    result = run("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert "articles: 40 published, 0 failed" in result.stdout
    assert "written" in result.stdout and "unchanged" in result.stdout
    assert (site.public / "feeds/all.atom").exists()
    assert "feeds published after" in result.stdout  # then the search index
    assert ", 40 read by this build" in result.stdout
    again = run("build", "-c", "feeds.yaml", cwd=site.root)
    assert "0 changed" in again.stdout and ", 0 read by this build" in again.stdout
    assert "files: nothing to write or remove" in again.stdout
    assert "search index" not in again.stdout  # kept in step, nothing to fill


def test_ctrl_c_stops_a_build_and_the_next_one_finishes_it(tmp_path):
    from feeds.bench.corpus import generate

    site = make_site(tmp_path, examples=False)
    generate(site.articles, 1500, seed=6)
    process = subprocess.Popen(
        [sys.executable, "-m", "feeds", "build", "-c", "feeds.yaml"],
        cwd=site.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own: Ctrl-C signals every process in it
    )
    pages = site.public / "articles"
    deadline = time.monotonic() + 60
    while not (pages.is_dir() and any(pages.iterdir())):  # the workers are writing pages
        assert process.poll() is None and time.monotonic() < deadline, process.stderr
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err == "interrupted: the next build carries on from here\n"  # no traceback
    result = run("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert "articles: 1500 published, 0 failed" in result.stdout
    assert sum(1 for _ in pages.iterdir()) == 1500


# A first build of a real archive of 2,100 articles.
def test_build_says_when_a_large_archive_s_feeds_were_out(tmp_path):
    from feeds.bench.corpus import generate

    site = make_site(tmp_path, examples=False)
    generate(site.articles, 2100)
    result = run("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr
    times = re.search(
        r"time: ([\d.]+)s \(feeds published after ([\d.]+)s, every page after ([\d.]+)s,"
        r" then the search index filled in ([\d.]+)s\)",
        result.stdout,
    )
    assert times, result.stdout
    total, feeds, pages, filling = map(float, times.groups())
    assert feeds < pages < total and filling > 0


def test_build_exits_1_and_lists_each_broken_file(site):
    site.write("broken.txt", "no front matter here")
    site.write("bad-date.txt", article_text(date="someday"))
    result = run("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 1
    assert "broken.txt:1:" in result.stderr
    assert "bad-date.txt" in result.stderr and "someday" in result.stderr
    assert "articles: 40 published, 2 failed" in result.stdout
    assert (site.public / "feeds/all.atom").exists()


def test_check_validates_and_writes_nothing(site):
    ok = run("check", "-c", "feeds.yaml", cwd=site.root)
    assert ok.returncode == 0, ok.stderr
    assert "would be published" in ok.stdout
    assert not site.public.exists()
    site.write("broken.txt", "no front matter here")
    bad = run("check", "-c", "feeds.yaml", cwd=site.root)
    assert bad.returncode == 1 and "broken.txt" in bad.stderr
    assert not site.public.exists()


def test_a_config_error_exits_2_with_key_path_and_line(site):
    site.config_path.write_text(
        "site:\n  titel: x\nfeeds:\n  - slug: a\n    title: A\n    limit: -1\n"
    )
    result = run("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 2
    assert "site.titel: unknown key; did you mean 'title'? (feeds.yaml:2)" in result.stderr
    assert "feeds[0].limit: must be a positive integer (feeds.yaml:6)" in result.stderr
    assert not site.public.exists()


def test_a_missing_config_exits_2_and_says_how_to_fix_it(tmp_path):
    result = run("build", cwd=tmp_path)
    assert result.returncode == 2
    assert "config/feeds.yaml" in result.stderr and "FEEDS_CONFIG" in result.stderr


def test_a_missing_source_dir_exits_2(site):
    site.articles.rename(site.root / "elsewhere")
    result = run("build", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 2
    assert "source.dir" in result.stderr


def test_feeds_config_environment_variable(site):
    result = run("build", cwd=site.root, env={"FEEDS_CONFIG": "feeds.yaml"})
    assert result.returncode == 0, result.stderr
    assert (site.public / "index.html").exists()


def test_verbose_lists_warnings(site):
    site.write("undated.txt", "---\ntitle: 无日期\n---\n<p>x</p>\n")
    result = run("build", "-v", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert "undated.txt" in result.stderr and "warning:" in result.stderr


def test_the_console_script_is_installed():
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "feeds"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "feeds" in result.stdout


def test_the_real_sample_with_a_nul_byte_is_published_with_a_warning(tmp_path, sample_article):
    site = make_site(tmp_path, examples=False)
    data = sample_article.read_bytes()
    damaged = data.replace("原标题".encode(), b"\x00" + "原标题".encode(), 1)
    assert damaged != data
    site.write("sample.txt", damaged)
    result = run("build", "-v", "-c", "feeds.yaml", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert "articles: 1 published, 0 failed" in result.stdout
    assert "sample.txt:16: 1 control byte removed (the first is 0x00)" in result.stderr
    page = (site.public / "articles/sample.html").read_text("utf-8")
    assert "原标题：国家中小学智慧教育平台" in page


def test_a_build_that_failed_for_a_missing_source_dir_leaves_nothing_to_warn_of(site):
    site.articles.rename(site.root / "elsewhere")
    for _ in range(2):
        failed = run("build", "-c", "feeds.yaml", cwd=site.root)
        assert failed.returncode == 2 and "source.dir" in failed.stderr
        assert "did not finish" not in failed.stderr
    (site.root / "elsewhere").rename(site.articles)
    built = run("build", "-c", "feeds.yaml", cwd=site.root)
    assert built.returncode == 0, built.stderr
    assert "did not finish" not in built.stderr


def test_an_output_dir_that_is_a_file_is_named_as_such(site):
    site.public.write_text("a file\n", encoding="utf-8")
    for command in ("build", "check"):
        result = run(command, "-c", "feeds.yaml", cwd=site.root)
        assert result.returncode == 1, result.stdout
        assert f"error: {site.public}: is a file, not a directory" in result.stderr
        assert "lock" not in result.stderr and "Traceback" not in result.stderr
    assert site.public.read_text(encoding="utf-8") == "a file\n"


def test_check_reports_an_unwritable_output_dir(site):
    from sites import as_owner_only

    python = as_owner_only() or [sys.executable]
    site.public.mkdir()
    site.public.chmod(0o555)
    try:
        result = subprocess.run(
            [*python, "-m", "feeds", "check", "-c", "feeds.yaml"],
            cwd=site.root,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        site.public.chmod(0o755)
    assert result.returncode == 1, result.stdout
    assert f"error: {site.public}: cannot write (Permission denied)" in result.stderr
    assert "would be published" in result.stdout  # the articles are still checked
    assert list(site.public.iterdir()) == []
