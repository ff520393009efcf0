"""Search benchmark: what the index adds to a cold build, and how fast a search answers.

    python -m feeds.bench.search [--articles 10000,100000] [--lengths real] [--runs 3]
                                 [--queries 200] [--corpus DIR]

`python -m feeds.bench` runs it after the cold-build benchmark, with the same `--sizes`
(another name for `--articles`), `--lengths`, `--runs` and `--corpus` when they are given.

For each size: cold builds of a generated corpus, with the search index and without it
(`site.search: false`), in turn, `--runs` times each, each in a fresh process into a tree
of its own, compared as medians of wall time and of the CPU time of all the build's
processes (the machine may be busy with other work: CPU time moves less with it). A build
with the index publishes the feeds first and then fills the index: both times are given.

Then searches on the indexed tree, one at a time: queries of 2 to 10 characters cut from
the articles' own text (so that each finds something; the generated text is repetitive,
so many find thousands), then one-character queries, which search by prefix. For each it
prints the 50th and 95th percentiles and the slowest, of the index alone (open the
catalogue, match, read the 50 newest articles) and of whole HTTP requests for the results
page and the Atom feed to the real server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, get_args
from urllib.parse import quote

from feeds.bench.corpus import Lengths, corpus_name, generate
from feeds.build.builder import FILLING
from feeds.catalogue.store import FILE_NAME
from feeds.config import Config, load_config

CONFIG = "source: {dir: %s}\noutput: {dir: public}\nschedule: {interval: 3600}\n"
_CJK_RUN = re.compile("[\u4e00-\u9fff]{2,}")
_TAG = re.compile("<[^>]*>")


def main(argv: list[str] | None = None) -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", "--sizes", default="10000", help="sizes, comma-separated")
    parser.add_argument(
        "--lengths",
        choices=get_args(Lengths),
        default="real",
        help="lengths of the articles (default real; see python -m feeds.bench.corpus --help)",
    )
    parser.add_argument("--runs", type=int, default=3, help="cold builds with and without")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--corpus", type=Path, help="keep the corpus here between runs")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    for size in (int(size) for size in args.articles.split(",")):
        with tempfile.TemporaryDirectory() as scratch:
            corpus = (args.corpus or Path(scratch)) / corpus_name(size, args.lengths)
            if len(list(corpus.glob("*.txt"))) != size:
                generate(corpus, size, lengths=args.lengths)
            print(f"search, {size:,} articles in {args.lengths} lengths")
            site = _cold_builds(corpus, Path(scratch), args.runs)
            _searches(load_config(site / "feeds.yaml", base_dir=site), args.queries)
            print()
    return 0


def _cold_builds(corpus: Path, scratch: Path, runs: int) -> Path:
    """Cold builds with and without the index, in turn; the last indexed site."""
    walls: dict[bool, list[float]] = {True: [], False: []}
    cpus: dict[bool, list[float]] = {True: [], False: []}
    published: list[float] = []  # with the index: until the feeds were out
    sizes: dict[bool, int] = {}
    for run in range(runs):
        for indexed in (True, False):
            site = scratch / f"{'with' if indexed else 'without'}-{run}"
            site.mkdir()
            config = CONFIG % corpus.resolve() + ("" if indexed else "site: {search: false}\n")
            (site / "feeds.yaml").write_text(config, encoding="utf-8")
            wall, cpu, filling = _build_in_child(site)
            walls[indexed].append(wall)
            cpus[indexed].append(cpu)
            if indexed:
                published.append(wall - filling)
            sizes[indexed] = (site / "public" / ".feeds" / FILE_NAME).stat().st_size
    without = statistics.median(walls[False])
    print("  cold build, wall:")
    print(f"    without the index (site.search: false)  {without:6.2f} s  {_runs(walls[False])}")
    for label, figures in (("feeds published", published), ("index filled too", walls[True])):
        median = statistics.median(figures)
        print(
            f"    with it, {label:<30} {median:6.2f} s  {_runs(figures)}"
            f"  {median - without:+.2f} s, {median / without - 1:+.1%}"
        )
    with_index, without = (statistics.median(cpus[flag]) for flag in (True, False))
    print("  cold build, CPU of all its processes:")
    print(f"    without the index  {without:6.2f} s  {_runs(cpus[False])}")
    print(
        f"    with it            {with_index:6.2f} s  {_runs(cpus[True])}"
        f"  {with_index - without:+.2f} s, {with_index / without - 1:+.1%}"
    )
    print(
        f"  catalogue on disk             {sizes[True] / 2**20:6.1f} MB with the index, "
        f"{sizes[False] / 2**20:.1f} MB without"
    )
    return scratch / f"with-{runs - 1}"


def _build_in_child(site: Path) -> tuple[float, float, float]:
    """The build's wall time, the CPU time of its process and its workers, and the time
    it took to fill the index once the feeds were out."""
    command = [sys.executable, "-m", "feeds.bench.search", "--child", str(site / "feeds.yaml")]
    os.sync()  # the last build's writes are not to be flushed during this one
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(command, cwd=site, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    result = json.loads(out.strip().splitlines()[-1])
    return result["seconds"], cpu, result["filling"]


def _child(config_path: Path) -> None:
    from feeds.build.builder import build

    config = load_config(config_path, base_dir=config_path.parent)
    began = time.perf_counter()
    report = build(config)
    seconds = time.perf_counter() - began
    print(json.dumps({"seconds": seconds, "filling": report.timings.get(FILLING, 0.0)}))


def _searches(config: Config, count: int) -> None:
    from feeds.web.app import create_app
    from feeds.web.server import listen, make_server

    queries = _queries(config, count)
    # Two pieces of different articles, joined: mostly found nowhere, though every pair of
    # characters in them is common. FTS5 must then read their whole position lists.
    joined = [
        a[: len(a) // 2 + 1] + b[len(b) // 2 :] for a, b in zip(queries, queries[1:], strict=False)
    ]
    app = create_app(config)
    search = app.extensions["feeds.search"]
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = make_server(app, "127.0.0.1", port, threads=4, sock=sock)
    threading.Thread(target=server.run, daemon=True).start()  # until the process ends
    for label, chosen in (
        ("2 to 10 characters, from the text", queries),
        ("2 to 10 characters, two pieces joined", joined),
        ("1 character (a prefix)", sorted({query[0] for query in queries})),
    ):
        found = [len(search.find(query)) for query in chosen]
        print(f"  {len(chosen)} queries of {label}: {statistics.mean(found):.1f} hits on average")
        _report("index", [_timed(search.find, query) for query in chosen])
        for path in ("/search?q=", "/search.atom?q="):
            times = [_timed(_get, port, path + quote(query)) for query in chosen]
            _report(f"HTTP {path.split('?')[0]}", times)


def _queries(config: Config, count: int) -> list[str]:
    """`count` pieces of the articles' text, 2 to 10 characters long, chosen by a fixed seed."""
    import sqlite3

    rng = random.Random(0)
    with sqlite3.connect(config.state.dir / FILE_NAME) as connection:
        bodies = [row[0] for row in connection.execute("SELECT content FROM articles")]
    queries: list[str] = []
    while len(queries) < count:
        length = 2 + len(queries) % 9
        runs = [run for run in _CJK_RUN.findall(_TAG.sub(" ", rng.choice(bodies)))]
        runs = [run for run in runs if len(run) >= length]
        if runs:
            run = rng.choice(runs)
            start = rng.randrange(len(run) - length + 1)
            queries.append(run[start : start + length])
    return queries


def _timed(function: Any, *args: Any) -> float:
    began = time.perf_counter()
    function(*args)
    return time.perf_counter() - began


def _get(port: int, path: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, (path, response.status)
    finally:
        connection.close()


def _report(label: str, seconds: list[float]) -> None:
    cuts = statistics.quantiles(
        seconds, n=20, method="inclusive"
    )  # 5% steps: [9] is the median, [18] p95
    print(
        f"    {label:<16} p50 {cuts[9] * 1000:6.1f} ms   p95 {cuts[18] * 1000:6.1f} ms"
        f"   slowest {max(seconds) * 1000:6.1f} ms"
    )


def _runs(seconds: list[float]) -> str:
    return "(runs: " + ", ".join(f"{s:.2f}" for s in seconds) + ")"


if __name__ == "__main__":
    sys.exit(main())
