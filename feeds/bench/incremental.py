"""Incremental-build benchmark on a generated corpus (default 10,000 articles).

    python -m feeds.bench.incremental [--articles 10000] [--drops 20]

Prints: a cold build; a restart with nothing changed (a new process: the build's own
time, and the whole command); one new article (scan, read, render, publish); and the time
from writing a new article file to its being served over HTTP by `feeds serve`, as the
median and 95th percentile of several drops. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.bench.corpus import generate
from feeds.build.builder import Builder, build
from feeds.config import Config, load_config

NEWER_THAN_CORPUS = datetime(2022, 6, 30, 8, 0, tzinfo=UTC)  # its articles are all older
STREAM_EVERY = 0.2  # seconds between two files of a stream: a busy scraper's pace
CONFIG = "source: {dir: articles}\noutput: {dir: public}\nschedule: {interval: 3600}\n"
# One fresh process: import, build, print the build's own seconds as JSON.
RESTART = (
    "import json, time, sys; from pathlib import Path; from feeds.build.builder import build; "
    "from feeds.config import Config, load_config; c = load_config(Path('feeds.yaml')); "
    "t = time.perf_counter(); r = build(c); "
    "print(json.dumps({'seconds': time.perf_counter() - t, 'read': r.files_read}))"
)


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--drops", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        generate(root / "articles", args.articles, lengths="real")
        print(
            f"corpus: {args.articles} articles in real lengths generated in "
            f"{time.perf_counter() - started:.1f}s"
        )
        (root / "feeds.yaml").write_text(CONFIG, encoding="utf-8")
        os.chdir(root)
        config = load_config(Path("feeds.yaml"))

        cpu, wall = time.process_time(), time.perf_counter()
        report = build(config)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items())
        print(
            f"cold build:             {wall:6.2f} s wall, {cpu:.2f} s CPU in this process, "
            f"the rest in worker processes ({stages})"
        )

        began = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", RESTART], capture_output=True, text=True, check=True
        ).stdout
        whole = time.perf_counter() - began
        restart = json.loads(out)
        print(
            f"restart, nothing new:   {restart['seconds']:6.3f} s of work "
            f"({restart['read']} files read; {whole:.2f} s for the whole process)"
        )

        evented, scanned = _one_new_article(config, root / "articles")
        print(
            f"one new article:        {statistics.median(evented) * 1000:6.0f} ms of work after "
            f"a file event, {statistics.median(scanned) * 1000:.0f} ms after a full rescan "
            f"(medians of 5; read, parse, clean, render, publish)"
        )
        latencies, streamed = _write_to_served(root, args.drops)
        print(
            f"write to served:        {statistics.median(latencies) * 1000:6.0f} ms median, "
            f"{_p95(latencies) * 1000:.0f} ms p95 over {len(latencies)} drops"
        )
        print(
            f"the same, in a stream:  {statistics.median(streamed) * 1000:6.0f} ms median, "
            f"{_p95(streamed) * 1000:.0f} ms p95, {max(streamed) * 1000:.0f} ms at most over "
            f"{len(streamed)} files, one every {STREAM_EVERY:g} s"
        )
    return 0


def _one_new_article(config: Config, articles: Path) -> tuple[list[float], list[float]]:
    """Seconds to publish one new article with a builder that keeps running: after a file
    event, and after a full rescan (five of each)."""
    builder = Builder(config)  # what `feeds watch` and `feeds serve` keep running
    builder.build()
    evented, scanned = [], []
    for i in range(10):
        name = f"bench-single-{i}"
        _drop(articles, name)
        began = time.perf_counter()
        if i % 2:  # as after a file event, which names the file
            report = builder.build(only={f"{name}.txt"})
            evented.append(time.perf_counter() - began)
        else:  # as after the periodic rescan, which stats every file
            report = builder.build()
            scanned.append(time.perf_counter() - began)
        assert report.files_read == 1, report
    builder.close()
    return evented, scanned


def _drop(directory: Path, name: str, minute: int = 0) -> str:
    """Write one new article the way a careful scraper does: temp file, then rename. Each
    `minute` later than the corpus's newest, so that it enters the feeds."""
    title = f"基准测试新文章{name}"
    date = NEWER_THAN_CORPUS + timedelta(minutes=minute)
    text = (
        f"---\ntitle: '{title}'\ncategories: [金融, 新浪财经, 新浪财经－国內]\n"
        f"date: {date.isoformat(sep=' ')}\n---\n<div><p>正文。</p></div>\n"
    )
    temp = directory / f".{name}.tmp"
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, directory / f"{name}.txt")
    return title


def _write_to_served(root: Path, drops: int) -> tuple[list[float], list[float]]:
    """Seconds from writing a file to its being served: one at a time, then in a stream."""
    process = subprocess.Popen(
        [sys.executable, "-m", "feeds", "serve", "-c", "feeds.yaml", "--port", "0"],
        cwd=root,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        port = _port(process)
        latencies = []
        for i in range(drops):
            began = time.perf_counter()
            title = _drop(root / "articles", f"bench-drop-{i}", i)
            _wait_served(port, title.encode("utf-8"))
            latencies.append(time.perf_counter() - began)
            time.sleep(0.3)  # readers do not drop articles back to back
        streamed = _stream_to_served(root / "articles", port, 3 * drops, first=drops)
        return latencies, streamed
    finally:
        process.terminate()
        process.wait(timeout=60)


def _stream_to_served(articles: Path, port: int, drops: int, first: int) -> list[float]:
    """A scraper at work: a file every STREAM_EVERY seconds, while a reader polls; the
    seconds from each file's rename to the first poll that shows it."""
    written: dict[bytes, float] = {}
    seen: dict[bytes, float] = {}
    writer = threading.Thread(
        target=_write_stream, args=(articles, drops, first, written), daemon=True
    )
    writer.start()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    deadline = time.perf_counter() + drops * STREAM_EVERY + 30
    try:
        while (writer.is_alive() or len(seen) < drops) and time.perf_counter() < deadline:
            connection.request("GET", "/feeds/all.atom")
            body = connection.getresponse().read()
            now = time.perf_counter()
            for title in list(written):
                if title not in seen and title in body:
                    seen[title] = now
            time.sleep(0.01)
    finally:
        connection.close()
    if len(seen) < drops:
        raise RuntimeError(f"{drops - len(seen)} articles of the stream were never served")
    return [seen[title] - written[title] for title in seen]


def _write_stream(articles: Path, drops: int, first: int, written: dict[bytes, float]) -> None:
    for i in range(first, first + drops):
        title = _drop(articles, f"bench-stream-{i}", i)
        written[title.encode("utf-8")] = time.perf_counter()
        time.sleep(STREAM_EVERY)


def _port(process: subprocess.Popen[str]) -> int:
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"serving .* on http://127\.0\.0\.1:(\d+)/", line)
        if match:
            return int(match.group(1))
    raise RuntimeError("feeds serve did not start")


def _wait_served(port: int, needle: bytes, timeout: float = 30.0) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    etag = ""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        connection.request("GET", "/feeds/all.atom", headers={"If-None-Match": etag})
        response = connection.getresponse()
        body = response.read()
        if response.status == 200:
            if needle in body:
                connection.close()
                return
            etag = response.getheader("ETag") or ""
        time.sleep(0.005)
    raise RuntimeError("the new article was never served")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


if __name__ == "__main__":
    sys.exit(main())
