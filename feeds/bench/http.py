"""HTTP benchmark: requests/s of `feeds serve`'s app against a naive Flask static app.

    python -m feeds.bench.http [--articles 2000] [--seconds 10] [--connections 32]

Both apps serve the same published tree from their own process, on the WSGI server
`feeds serve` uses (waitress with keep-alive on 304s, 8 threads); the load comes from
wrk (Debian package `wrk`) in a third process, to 127.0.0.1 only. Scenarios: a full
GET without compression, a full GET from a client that accepts gzip (as feed readers
do), and a conditional GET answered with 304.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from feeds.bench.corpus import generate
from feeds.build.builder import build
from feeds.config import parse_config

THREADS = int(__import__("os").environ.get("BENCH_THREADS", "8"))
FEED = "/feeds/all.atom"


def main(argv: list[str] | None = None) -> int:
    """Run every scenario against both apps and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    sub = parser.add_subparsers(dest="serve")
    serve = sub.add_parser("serve", help="(internal) run one app")
    serve.add_argument("kind", choices=["feeds", "naive"])
    serve.add_argument("config")
    serve.add_argument("port", type=int)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.kind, Path(args.config), args.port)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is needed for the load: apt-get install wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        return _compare(Path(tmp), args.articles, args.seconds, args.connections)


def _compare(root: Path, articles: int, seconds: int, connections: int) -> int:
    generate(root / "articles", articles, lengths="real")
    config_path = root / "feeds.yaml"
    config_path.write_text("source: {dir: articles}\noutput: {dir: public}\n", encoding="utf-8")
    config = parse_config(config_path.read_text("utf-8"), config_path, base_dir=root)
    build(config)
    size = (config.output.dir / FEED.lstrip("/")).stat().st_size
    print(
        f"corpus: {articles} articles in real lengths; {FEED}: {size / 1024:.0f} KB; "
        f"waitress, {THREADS} threads;"
    )
    print(f"wrk: {connections} connections, {seconds} s per scenario, 127.0.0.1\n")
    rows = []
    ports = {"naive": _free_port(), "feeds": _free_port()}
    servers = {
        kind: subprocess.Popen(
            [sys.executable, "-m", "feeds.bench.http", "serve", kind, str(config_path), str(port)],
            cwd=root,
        )
        for kind, port in ports.items()
    }
    try:
        for port in ports.values():
            _wait_until_up(port)
        for scenario in ("full GET", "full GET, gzip accepted", "304 (If-None-Match)"):
            figures = {
                kind: _load(port, scenario, seconds, connections) for kind, port in ports.items()
            }
            rows.append((scenario, figures["naive"], figures["feeds"]))
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(timeout=30)
    print(f"{'scenario':<26} {'naive req/s':>12} {'feeds req/s':>12} {'ratio':>7}")
    for scenario, naive, ours in rows:
        print(f"{scenario:<26} {naive:>12,.0f} {ours:>12,.0f} {ours / naive:>6.1f}x")
    return 0


def _serve(kind: str, config_path: Path, port: int) -> None:
    import logging

    from feeds.config import load_config
    from feeds.web.app import create_app
    from feeds.web.server import make_server

    logging.getLogger("waitress").setLevel(logging.ERROR)  # "Task queue depth" under load
    config = load_config(config_path, base_dir=config_path.parent)
    if kind == "feeds":
        app = create_app(config)
    else:
        app = _naive_app(config.output.dir)
    make_server(app, "127.0.0.1", port, THREADS).run()


def _naive_app(root: Path):  # type: ignore[no-untyped-def]
    """The straightforward Flask way to serve a directory, for comparison."""
    from flask import Flask, send_from_directory

    app = Flask("naive")

    @app.route("/<path:path>")
    def files(path: str):  # type: ignore[no-untyped-def]
        return send_from_directory(root, path, conditional=True)

    return app


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", FEED)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def _etag(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", FEED)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.getheader("ETag") or ""


def _load(port: int, scenario: str, seconds: int, connections: int) -> float:
    headers: list[str] = []
    if "gzip" in scenario:
        headers = ["-H", "Accept-Encoding: gzip"]
    elif "304" in scenario:
        headers = ["-H", f"If-None-Match: {_etag(port)}"]
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", *headers]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{FEED}"], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx or 3xx" in output or "Socket errors" in output and "304" not in scenario:
        print(f"  (port {port}, {scenario}: {output.strip().splitlines()[-3]})")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return float(match.group(1)) if match else 0.0


if __name__ == "__main__":
    sys.exit(main())
