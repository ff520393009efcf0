"""Cold-build benchmark: a generated corpus of each size, built from nothing.

    python -m feeds.bench [--sizes 1000,10000,100000] [--lengths real] [--corpus DIR]

For each size it prints the cold build's wall time, CPU time and articles/s, when its
feeds were published (a first build of a large archive puts them out before it cleans the
rest) and when every page was (it fills the search index after), its cost per article
and per KiB of article body (to judge a corpus of other lengths by), the peak memory of
the build's processes, the catalogue's size on disk, the time per stage (read, front
matter, clean, render, publish) summed over every process, and the floor measured in the
same run: reading
every file and parsing its front matter with libyaml, in one process, which no build can
beat. Every figure is also given as a ratio to that floor. When `hugo` is installed and
the shared folder is found, Hugo builds the same articles too (see feeds.bench.hugo) and
the ratio of the best cold build to Hugo's best is printed; else why it was skipped.

A million articles is run by hand, on a disk (not tmpfs) with some 40 GB free: `--sizes
1000000 --runs 1 --no-extras --corpus DIR` (the corpus alone is about 7 GB).

Each build runs in a fresh process, into a tree of its own; the corpus is made by
feeds.bench.corpus, deterministically, in the lengths of a real scrape unless told. The
floor, the cold build and Hugo's build are measured in turn, `--runs` times each, and
compared as medians (to the floor) or best runs (to Hugo), so that a busy moment on the
machine weighs on all alike. No tree is deleted before the last measurement: right after
many files are deleted, ext4 takes several times longer to create one (it passes over
recently freed inodes), and the builds would pay for the benchmark's own cleaning up.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, get_args

import yaml

from feeds.bench.corpus import Lengths, corpus_name, generate
from feeds.bench.hugo import HugoRuns
from feeds.build.builder import FILLING
from feeds.catalogue.store import FILE_NAME

CONFIG = "source: {dir: articles}\noutput: {dir: public}\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for every size and print a table per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument(
        "--lengths",
        choices=get_args(Lengths),
        default="real",
        help="lengths of the articles (default real; see python -m feeds.bench.corpus --help)",
    )
    parser.add_argument("--corpus", type=Path, help="keep corpora here between runs")
    parser.add_argument("--runs", type=int, default=3, help="cold builds (and floors) per size")
    parser.add_argument(
        "--extras",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also Hugo's builds and a build with archives (--no-extras for a million "
        "articles: the archive documents alone would take some 30 GB)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"cold builds on {os.cpu_count()} cores; corpus in {args.lengths} lengths "
        f"(python -m feeds.bench.corpus --lengths {args.lengths})\n"
    )
    with tempfile.TemporaryDirectory() as scratch:
        corpora = args.corpus or Path(scratch)
        for size in sizes:
            corpus = corpora / corpus_name(size, args.lengths)
            if len(list(corpus.glob("*.txt"))) != size:
                generate(corpus, size, lengths=args.lengths)
            _measure(corpus, Path(scratch) / f"sites-{size}", size, args.runs, args.extras)
    return 0


def _measure(corpus: Path, sites: Path, size: int, runs: int, extras: bool) -> None:
    _floor(corpus)  # untimed: every measurement then starts with the corpus in the page cache
    hugo = HugoRuns(corpus, sites / "hugo") if extras else None
    floors: list[float] = []
    builds: list[tuple[float, dict[str, Any]]] = []
    for run in range(runs):
        floors.append(_floor(corpus))
        builds.append(_build_in_child(_site(sites / f"cold-{run}", corpus)))
        if hugo is not None:
            hugo.build()
    floors.append(_floor(corpus))  # before and after every build: the same stretch of time
    site = sites / "cold-0"
    restart_wall, restart = _build_in_child(site)
    floor = statistics.median(floors)
    wall, result = sorted(builds, key=lambda build: build[0])[(len(builds) - 1) // 2]
    busy = result["main_cpu"] + sum(result["work"].values())
    rss = max(result["main_peak_rss"], result["worker_peak_rss"]) / 2**20
    print(f"{size:,} articles")
    print(f"  floor (read + front matter, one process)  {floor:7.2f} s  {_runs(floors)}")
    print(
        f"  cold build                                {wall:7.2f} s wall  ({wall / floor:.1f}x the "
        f"floor), {busy:.2f} s CPU, {size / wall:,.0f} articles/s  "
        f"{_runs([build[0] for build in builds])}"
    )
    feeds_out = [_feeds_out(*build) for build in builds]
    published = [build[0] - build[1]["timings"].get(FILLING, 0.0) for build in builds]
    print(
        f"  feeds published after                     {statistics.median(feeds_out):7.2f} s wall"
        f"  (with their entries' pages)  {_runs(feeds_out)}"
    )
    print(
        f"  every page published after                {statistics.median(published):7.2f} s wall"
        f"  (then the search index was filled)  {_runs(published)}"
    )
    _print_costs(corpus, size, wall, busy)
    if hugo is None:
        print("  Hugo: not measured (--no-extras)")
    else:
        _print_hugo(hugo, min(feeds_out), min(published), min(build[0] for build in builds))
    print(
        f"  peak RSS                                  {rss:7.0f} MB (main "
        f"{result['main_peak_rss'] / 2**20:.0f} MB, largest worker "
        f"{result['worker_peak_rss'] / 2**20:.0f} MB)"
    )
    print(
        f"  restart, nothing changed                  {restart['seconds']:7.2f} s of work "
        f"({restart['read']} files read; {restart_wall:.2f} s for the whole process)"
    )
    catalogue = site / "public" / ".feeds" / FILE_NAME
    print(
        f"  catalogue on disk                         {catalogue.stat().st_size / 2**20:7,.0f} MB"
    )
    if extras:
        _print_archives(sites, corpus, wall)
    print("  time per stage of the median build, summed over processes:")
    for stage, seconds in result["work"].items():
        print(f"    {stage:<14} {seconds:7.2f} s  ({seconds / floor:.2f}x the floor)")
    for phase, seconds in result["timings"].items():
        print(f"    main: {phase:<28} {seconds:7.2f} s wall")
    print()


def _print_archives(sites: Path, corpus: Path, wall: float) -> None:
    """A cold build with archives on, against the median cold build without."""
    archived_wall, _ = _build_in_child(_site(sites / "archives", corpus, "archives: true\n"))
    archives = list((sites / "archives" / "public" / "feeds").glob("*/archive/*.atom"))
    archive_bytes = sum(path.stat().st_size for path in archives)
    print(
        f"  cold build with archives: true            {archived_wall:7.2f} s wall  "
        f"(+{archived_wall - wall:.2f} s for {len(archives):,} archive documents, "
        f"{archive_bytes / 2**20:,.0f} MB)"
    )


def _print_costs(corpus: Path, size: int, wall: float, busy: float) -> None:
    """The median cold build's cost per article and per KiB of article body."""
    files, bodies = _corpus_bytes(corpus)
    kib = bodies / 1024
    print(
        f"  cost per article                          {wall / size * 1000:7.3f} ms wall, "
        f"{busy / size * 1000:.3f} ms CPU  (mean file {files / size / 1024:.1f} KiB, "
        f"body {kib / size:.1f} KiB)"
    )
    print(
        f"  cost per KiB of body                      {wall / kib * 1000:7.3f} ms wall, "
        f"{busy / kib * 1000:.3f} ms CPU  ({kib / 1024:,.1f} MiB of bodies)"
    )


def _print_hugo(hugo: HugoRuns, feeds_out: float, published: float, best: float) -> None:
    """The ratio of the best cold build to Hugo's best, both taken in turn in this run: to
    the feeds published (what Hugo builds: it writes no article page and no search index),
    to every page published, and with the search index filled too."""
    if hugo.skipped:
        print(f"  Hugo: skipped, {hugo.skipped}")
        return
    hugo_best = min(hugo.seconds)
    label = f"  feeds / Hugo (cold, best of {len(hugo.seconds)} each)"
    print(
        f"{label:<44}{feeds_out / hugo_best:7.2f}x Hugo's time to the feeds published "
        f"({published / hugo_best:.2f}x to every page, {best / hugo_best:.2f}x with the "
        f"search index; feeds {feeds_out:.2f} s, {published:.2f} s, {best:.2f} s; "
        f"{hugo.version} {hugo_best:.2f} s  {_runs(hugo.seconds)})"
    )


def _feeds_out(wall: float, result: dict[str, Any]) -> float:
    """When a build's feeds were out, from the start of its process: before the rest of the
    archive when a first build put them out first (see feeds.build.ahead), else with it."""
    if result["feeds_out"] is None:
        return wall - float(result["timings"].get(FILLING, 0.0))
    return wall - float(result["seconds"]) + float(result["feeds_out"])


def _corpus_bytes(corpus: Path) -> tuple[int, int]:
    """Bytes of the article files, and of their bodies (what follows the front matter)."""
    files = bodies = 0
    for path in corpus.glob("*.txt"):
        data = path.read_bytes()
        files += len(data)
        bodies += len(data.split(b"---\n", 2)[-1])
    return files, bodies


def _site(site: Path, corpus: Path, extra: str = "") -> Path:
    """A site of its own for one build: its config, pointing at the shared corpus."""
    site.mkdir(parents=True)
    (site / "feeds.yaml").write_text(
        CONFIG.replace("dir: articles", f"dir: {corpus.resolve()}") + extra, encoding="utf-8"
    )
    return site


def _runs(seconds: list[float]) -> str:
    """Every run's figure, when there were several: how much the machine moved them."""
    return "" if len(seconds) < 2 else "(runs: " + ", ".join(f"{s:.2f}" for s in seconds) + ")"


def _build_in_child(site: Path) -> tuple[float, dict[str, Any]]:
    # Writes still pending from what ran before (the corpus, the last build's files) would
    # be flushed in the middle of this build and counted in its time.
    os.sync()
    began = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "feeds.bench.cold", "--child", str(site / "feeds.yaml")],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return time.perf_counter() - began, result


def _floor(corpus: Path) -> float:
    """Read every file and parse its front matter: the least a build must do."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    paths = sorted(corpus.iterdir())
    began = time.perf_counter()
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        _, front, _ = text.split("---\n", 2)
        yaml.load(front, Loader=loader)  # noqa: S506 - a safe loader
    return time.perf_counter() - began


def _child(config_path: Path) -> None:
    from feeds.build.builder import build
    from feeds.config import load_config

    config = load_config(config_path, base_dir=config_path.parent)
    began = time.perf_counter()
    report = build(config)
    seconds = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "main_cpu": usage.ru_utime + usage.ru_stime,
                "main_peak_rss": usage.ru_maxrss * 1024,
                "worker_peak_rss": report.worker_peak_rss,
                "timings": report.timings,
                "work": report.work,
                "read": report.files_read,
                "seconds": seconds,
                "feeds_out": report.feeds_out,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
