"""`feeds serve` as a user runs it: a real process, a real port, signals."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from server import (
    LISTENING,
    Server,
    free_port,
    gunicorn,
    log_of,
    wait_for_line,
    wait_until_built,
)
from sites import article_text, as_owner_only, make_site, run_feeds

from feeds.bench.corpus import generate
from feeds.serve import _base_url_warning

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow

CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
schedule: {interval: 1}
"""


@pytest.fixture
def served(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    process, server = start_serve(site)
    try:
        wait_until_built(server)
        yield site, process, server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        process.stderr.close()


def test_serve_builds_serves_rebuilds_and_stops_on_sigterm(served):
    site, process, server = served
    assert server.request("/healthz").status == 200
    first = server.request("/feeds/all.atom")
    assert first.status == 200 and first.headers["server"] == "feeds"
    site.write("fresh.txt", article_text("定时重建后出现", date="Wed, 29 Jun 2022 10:00:00 GMT"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        reply = server.request("/feeds/all.atom")
        if "定时重建后出现" in reply.body.decode():
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the new article never appeared")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    rest = log_of(process).rest()
    assert "shutting down" in rest
    assert "INFO feeds: build: 41 articles (0 failed)" in rest  # one line per build
    assert "apscheduler" not in rest  # its per-run INFO lines are noise


def test_serve_stops_on_sigint(served):
    _, process, server = served
    assert server.request("/").status == 200
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def test_ctrl_c_during_a_build_lets_it_finish_quietly(tmp_path):
    # A terminal's Ctrl-C signals the whole foreground group: the worker processes too.
    site = make_site(tmp_path, examples=False, config=CONFIG)
    generate(site.articles, 1500, seed=5)
    old = time.time() - 3600
    for path in site.articles.iterdir():
        os.utime(path, (old, old))  # settled: the build starts at once
    process, server = start_serve(site, own_group=True)  # as a terminal starts it
    try:
        deadline = time.monotonic() + 60
        while json.loads(server.request("/healthz").body).get("progress", {}).get("done", 0) < 1:
            assert time.monotonic() < deadline, "the build never started reading"
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
        log = log_of(process).rest()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.stderr.close()
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log
    assert "shutting down" in log
    status = json.loads((site.config().state.dir / "status.json").read_text())
    assert status["ok"] and status["articles_published"] == 1500, status


def test_serve_warns_when_the_links_name_another_port(tmp_path):
    with socket.socket() as unanswered:  # bound, never listening: connections are refused
        unanswered.bind(("127.0.0.1", 0))
        linked = unanswered.getsockname()[1]
        site = make_site(tmp_path / "other", config=CONFIG.replace(":8080/", f":{linked}/"))
        process, server = start_serve(site)  # on a free port, as `--port` gives a newcomer
        try:
            _, seen = wait_for_line(process, re.compile("site.base_url is"))
        finally:
            stop(process)
    warning = seen[-1]
    assert "WARNING" in warning and f"listens on {server.port}" in warning
    assert f"points to port {linked}, where nothing answers" in warning
    assert "FEEDS_BASE_URL" in warning
    port = free_port()
    assert "site.base_url is" not in served_log(tmp_path / "same", port, port)
    with socket.create_server(("127.0.0.1", 0)) as proxy:  # nginx before it, on its port
        assert "site.base_url is" not in served_log(tmp_path / "proxied", proxy.getsockname()[1])


def served_log(root, linked, port=0):
    """The log of `feeds serve` on `port` with base_url on `linked`, through a first build."""
    site = make_site(root, config=CONFIG.replace(":8080/", f":{linked}/"))
    process, server = start_serve(site, port=port)
    try:
        wait_until_built(server)
    finally:
        stop(process)
    return log_of(process).rest()


@pytest.mark.parametrize(
    ("base_url", "port", "answered", "warned"),
    [
        ("http://127.0.0.1:8080/", 8080, False, False),
        ("http://localhost/", 80, False, False),
        ("https://feeds.example.org/", 8080, False, False),  # a proxy's address
        ("http://127.0.0.1:8080/", 9000, False, True),
        ("http://127.0.0.1:8080/", 9000, True, False),  # nginx before it, say
        ("http://localhost/", 8080, False, True),
        ("https://[::1]/", 8443, False, True),
    ],
)
def test_base_url_warning_only_for_this_machine_on_another_port_where_none_answers(
    base_url, port, answered, warned
):
    asked = []

    def answers(host, linked):
        asked.append((host, linked))
        return answered

    assert (_base_url_warning(base_url, port, answers) is not None) == warned
    assert all(host in ("127.0.0.1", "localhost", "::1") for host, _ in asked)  # loopback only


def test_serve_reports_a_busy_port(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_feeds("serve", "-c", "feeds.yaml", "--port", str(port), cwd=site.root)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use\n" in result.stderr
    assert not site.public.exists(), "it built (or took the lock) before binding"


def test_under_gunicorn_with_two_workers_exactly_one_builds(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    with gunicorn(site.root, workers=2) as served:
        site.write("via-gunicorn.txt", article_text("多进程下的新文章"))
        deadline = time.monotonic() + 20
        while "多进程下的新文章" not in served.server.request("/feeds/all.atom").body.decode():
            assert time.monotonic() < deadline, "the new article never appeared"
            time.sleep(0.2)
    assert served.log.count("builds and watches") == 1, served.log
    assert served.log.count("this worker only serves") == 1, served.log


def test_serve_reports_an_unusable_image_proxy_key(tmp_path):
    site = make_site(tmp_path, config=CONFIG + "images:\n  proxy: true\n")
    state = site.public / ".feeds"
    state.mkdir(parents=True)
    (state / "image-proxy.key").write_text("short\n", encoding="utf-8")
    result = run_feeds("serve", "-c", "feeds.yaml", "--port", "0", cwd=site.root)
    assert result.returncode == 1
    assert "image-proxy.key: the image proxy key is shorter than" in result.stderr
    assert "Traceback" not in result.stderr


# --- the first seconds ----------------------------------------------------------------------

FRESH_CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
schedule: {interval: 60, settle: 2}
feeds:
  - {slug: finance, title: 金融, categories: [金融], limit: 1000}
"""


def start_serve(site, python=(sys.executable,), own_group=False, port=0):
    """`feeds serve` on a free port, at once; its process and server once it listens.
    `own_group`: in a process group of its own, which a terminal's Ctrl-C signals whole."""
    process = subprocess.Popen(
        [*python, "-m", "feeds", "serve", "-c", "feeds.yaml", "--port", str(port)],
        cwd=site.root,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=own_group,
    )
    match, _ = wait_for_line(process, LISTENING)
    return process, Server("127.0.0.1", int(match.group(1)))


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    process.stderr.close()


def entries(reply):
    return reply.body.count(b"<entry>")


def test_a_fresh_copy_is_served_whole_from_the_first_response(tmp_path):
    """300 articles copied in (every mtime "now") and `serve` started at once: until the
    first publish, feeds answer 503 with Retry-After and /healthz says the build runs;
    no response ever holds fewer entries than the articles give the feed."""
    generate(tmp_path / "incoming", 300, seed=4)
    site = make_site(tmp_path / "site", examples=False, config=FRESH_CONFIG)
    site.articles.rmdir()
    shutil.copytree(tmp_path / "incoming", site.articles, copy_function=shutil.copyfile)
    process, server = start_serve(site)
    try:
        seen: list[tuple[str, int, int]] = []  # (path, status, entries)
        health = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for path in ("/feeds/all.atom", "/feeds/finance.atom"):
                reply = server.request(path)
                seen.append((path, reply.status, entries(reply)))
                if reply.status == 503:
                    assert reply.headers["retry-after"].isdigit()
            health.append(server.request("/healthz"))
            if "last_build" in json.loads(health[-1].body):
                break
            time.sleep(0.005)
        assert health[-1].status == 200, health[-1].body
        assert json.loads(health[-1].body)["last_build"]["articles_published"] == 300
        full = {p: entries(server.request(p)) for p in ("/feeds/all.atom", "/feeds/finance.atom")}
        assert full["/feeds/all.atom"] == 50 and full["/feeds/finance.atom"] > 50
        for path, status, count in seen:
            assert status in (200, 503), (path, status)
            assert status == 503 or count == full[path], (path, count, full[path])
        assert any(status == 503 for _, status, _ in seen), "the first build never ran?"
        building = [json.loads(r.body) for r in health[:-1]]  # 200 once the feeds are out
        assert building and all(b["status"] == "building" for b in building), building
        assert any(r.status == 503 for r in health), "healthy before anything was served?"
        assert all(set(b["progress"]) == {"done", "total"} for b in building)
    finally:
        stop(process)


def test_a_restart_serves_the_published_tree_while_it_builds(tmp_path):
    site = make_site(tmp_path, config=FRESH_CONFIG)
    assert run_feeds("build", "-c", "feeds.yaml", cwd=site.root).returncode == 0
    published = (site.public / "feeds/all.atom").read_bytes()
    now = time.time()
    for path in site.articles.iterdir():
        os.utime(path, (now, now))  # a fresh copy of the same articles: the build waits
    process, server = start_serve(site)
    try:
        first = server.request("/feeds/all.atom")
        health = server.request("/healthz")
        assert first.status == 200 and first.body == published
        assert health.status == 200  # the last build's status, kept in the state dir
    finally:
        stop(process)


def test_serve_says_why_it_cannot_build(tmp_path):
    """A missing source dir, or a file where the output dir goes: /healthz names it."""
    site = make_site(tmp_path, config=CONFIG.replace("dir: articles", "dir: nowhere"))
    process, server = start_serve(site)
    try:
        deadline = time.monotonic() + 30
        while (health := server.request("/healthz")).status == 503:
            if json.loads(health.body)["status"] == "failing":
                break
            assert time.monotonic() < deadline, health.body
            time.sleep(0.05)
        reason = json.loads(health.body)["reason"]
        assert health.status == 503 and "source.dir" in reason and "nowhere" in reason
        assert server.request("/feeds/all.atom").status == 503
    finally:
        stop(process)

    shutil.rmtree(site.public, ignore_errors=True)
    site.config_path.write_text(CONFIG, encoding="utf-8")
    site.public.write_text("not a directory\n", encoding="utf-8")
    process, server = start_serve(site)
    try:
        health = server.request("/healthz")
        assert health.status == 503
        assert json.loads(health.body)["reason"].startswith(f"{site.public}: is a file")
    finally:
        stop(process)


def test_serve_says_an_unwritable_output_dir_stops_its_builds(tmp_path):
    python = as_owner_only() or [sys.executable]
    site = make_site(tmp_path, config=CONFIG)
    site.public.mkdir()
    site.public.chmod(0o555)
    try:
        process, server = start_serve(site, python)
        try:
            health = server.request("/healthz")
            reason = json.loads(health.body)["reason"]
            assert health.status == 503 and "Permission denied" in reason, health.body
            assert str(site.public) in reason
        finally:
            stop(process)
    finally:
        site.public.chmod(0o755)
