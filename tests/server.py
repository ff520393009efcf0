"""Run the real app on the real WSGI server, on 127.0.0.1 and a free port, in a thread."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from feeds.web.server import make_server


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass
class Recorder:
    """WSGI middleware that remembers each response's status line."""

    app: object
    statuses: list[str] = field(default_factory=list)

    def __call__(self, environ, start_response):
        def recording_start_response(status, headers, exc_info=None):
            self.statuses.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {status}")
            return start_response(status, headers, exc_info)

        return self.app(environ, recording_start_response)


@dataclass
class Server:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def request(
        self, path: str, method: str = "GET", headers: dict[str, str] | None = None
    ) -> Reply:
        """One request on a fresh connection; the path is sent exactly as given."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            body = response.read()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            connection.close()


@contextmanager
def running(app, threads: int = 4) -> Iterator[Server]:
    """Serve `app` with waitress on 127.0.0.1 and a free port until the block ends."""
    server = make_server(app, "127.0.0.1", 0, threads)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):  # the loop can trip over sockets closed under it
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield Server("127.0.0.1", int(server.effective_port))
    finally:
        # The loop runs until its socket map is empty: close the listener, the wake-up
        # trigger and every open client connection, then let the loop notice.
        stopping.set()
        server.task_dispatcher.shutdown(timeout=5)
        for dispatcher in list(server._map.values()):
            dispatcher.close()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the server thread did not stop"


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Gunicorn:
    """A gunicorn serving `feeds.serve:wsgi_app()`; `log` is its stderr once it stopped."""

    process: subprocess.Popen[str]
    server: Server
    log: str = ""


@contextmanager
def gunicorn(cwd: Path, workers: int, env: dict[str, str] | None = None) -> Iterator[Gunicorn]:
    """Run gunicorn with `workers` processes on a free loopback port, configured by
    `cwd`/feeds.yaml, until the block ends; yields once it serves a built feed."""
    binary = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    if not os.path.exists(binary):
        pytest.skip("gunicorn is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "-w", str(workers), "-b", f"127.0.0.1:{port}", "feeds.serve:wsgi_app()"],
        cwd=cwd,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "FEEDS_CONFIG": "feeds.yaml", "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    running_server = Gunicorn(process, Server("127.0.0.1", port))
    try:
        deadline = time.monotonic() + 30
        while True:  # up, and built
            try:
                if running_server.server.request("/feeds/all.atom").status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn never served the feed"
            time.sleep(0.2)
        yield running_server
    finally:
        process.send_signal(signal.SIGTERM)
        _, running_server.log = process.communicate(timeout=30)


NGINX_CONF = Path(__file__).resolve().parents[1] / "config" / "nginx.conf"


APP_ADDRESS = "http://127.0.0.1:8081"  # where config/nginx.conf passes /search on


@contextmanager
def nginx_serving(root: Path, run: Path, app_port: int | None = None) -> Iterator[Server]:
    """Run the real nginx with config/nginx.conf, serving the tree at `root` on a free
    loopback port, until the block ends; `run` holds its config, pid and logs. It passes
    /search on to the web app on `app_port` (by default to the config's address, where
    nothing listens). Skips when nginx is not installed."""
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    port = free_port()
    server_block = NGINX_CONF.read_text()
    server_block = server_block.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    server_block = server_block.replace("root /srv/feeds/public;", f"root {root};")
    if app_port is not None:
        server_block = server_block.replace(APP_ADDRESS, f"http://127.0.0.1:{app_port}")
    run.mkdir(parents=True)
    # As root, nginx's workers drop to `nobody`, who cannot enter pytest's private temp dirs.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (run / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\n"
        f"pid {run}/nginx.pid;\nerror_log {run}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n access_log off;\n client_body_temp_path {run}/body;\n"
        f" proxy_temp_path {run}/proxy;\n fastcgi_temp_path {run}/fastcgi;\n"
        f" uwsgi_temp_path {run}/uwsgi;\n scgi_temp_path {run}/scgi;\n{server_block}\n}}\n"
    )
    process = subprocess.Popen([binary, "-c", str(run / "nginx.conf"), "-p", str(run)])
    server = Server("127.0.0.1", port)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                server.request("/robots.txt")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((run / "error.log").read_text()) from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)


# The log of a `feeds serve` or `feeds watch` subprocess.
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


def wait_until_built(server, timeout=60.0):
    """Poll /healthz until a build has finished (the server answers from the start)."""
    deadline = time.monotonic() + timeout
    # 200 as soon as the feeds are served; a finished build adds its record.
    while "last_build" not in json.loads((reply := server.request("/healthz")).body):
        assert reply.status in (200, 503), reply
        assert time.monotonic() < deadline, f"no build finished: {reply.body!r}"
        time.sleep(0.05)
