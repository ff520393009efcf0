"""`feeds serve` as a user runs it: a real process, a real port, signals."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from server import Server, gunicorn
from sites import article_text, make_site, run_feeds

CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
schedule: {interval: 1}
"""
LISTENING = re.compile(r"serving .* on http://127\.0\.0\.1:(\d+)/")


def log_of(process):
    """The process's stderr, read line by line in a thread of its own."""
    if not hasattr(process, "log"):
        process.log = LogReader(process.stderr)
    return process.log


class LogReader:
    """Lines from a stream, read as they come by a thread. (select() on a buffered stream
    misses lines already in its buffer: two lines arriving together would stall it.)"""

    def __init__(self, stream) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.ended = False
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        try:
            for line in stream:
                self.lines.put(line)
        except ValueError:  # closed under us
            pass
        self.lines.put(None)

    def _until(self, deadline):
        """The lines that come before `deadline`, until the stream ends."""
        while not self.ended:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return
            if line is None:
                self.ended = True
                return
            yield line

    def wait_for(self, pattern, timeout=30.0):
        """Read until a line matches; return the match and the lines read."""
        seen = []
        for line in self._until(time.monotonic() + timeout):
            seen.append(line)
            match = pattern.search(line)
            if match:
                return match, seen
        raise AssertionError(f"no line matching {pattern.pattern!r} in:\n{''.join(seen)}")

    def rest(self, timeout=30.0) -> str:
        """Every line still to come, until the stream ends."""
        return "".join(self._until(time.monotonic() + timeout))


def wait_for_line(process, pattern, timeout=30.0):
    """Read the process's stderr until a line matches; return the match and the lines read."""
    return log_of(process).wait_for(pattern, timeout)


@pytest.fixture
def served(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    process = subprocess.Popen(
        [sys.executable, "-m", "feeds", "serve", "-c", "feeds.yaml", "--port", "0"],
        cwd=site.root,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        match, _ = wait_for_line(process, LISTENING)
        yield site, process, Server("127.0.0.1", int(match.group(1)))
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


def test_serve_reports_a_busy_port(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_feeds("serve", "-c", "feeds.yaml", "--port", str(port), cwd=site.root)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


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
