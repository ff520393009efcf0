"""Cold-build benchmark: a generated corpus of each size, built from nothing.

    python -m feeds.bench [--sizes 1000,10000,100000] [--corpus DIR]

For each size it prints the cold build's wall time, CPU time and articles/s, the peak
memory of the build's processes, the time per stage (read, front matter, clean, render,
publish) summed over every process, and the floor measured in the same run: reading
every file and parsing its front matter with libyaml, in one process, which no build can
beat. Every figure is also given as a ratio to that floor.

Each build runs in a fresh process; the corpus is made by feeds.corpus, deterministically.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from feeds.corpus import generate

CONFIG = "source: {dir: articles}\noutput: {dir: public}\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for every size and print a table per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--corpus", type=Path, help="keep corpora here between runs")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"cold builds on {os.cpu_count()} cores; corpus in the shape of the Sina sample\n")
    with tempfile.TemporaryDirectory() as scratch:
        corpora = args.corpus or Path(scratch)
        for size in sizes:
            _measure(corpora / f"corpus-{size}", Path(scratch) / f"site-{size}", size)
    return 0


def _measure(corpus: Path, site: Path, size: int) -> None:
    if len(list(corpus.glob("*.txt"))) != size:
        generate(corpus, size)
    floor = _floor(corpus)
    site.mkdir(parents=True)
    (site / "articles").symlink_to(corpus.resolve(), target_is_directory=True)
    (site / "feeds.yaml").write_text(
        CONFIG.replace("dir: articles", f"dir: {corpus.resolve()}"), encoding="utf-8"
    )
    wall, result = _build_in_child(site)
    restart_wall, restart = _build_in_child(site)
    archived_site = site.with_name(site.name + "-archives")
    archived_site.mkdir()
    (archived_site / "feeds.yaml").write_text(
        (site / "feeds.yaml").read_text(encoding="utf-8") + "archives: true\n", encoding="utf-8"
    )
    archived_wall, _ = _build_in_child(archived_site)
    archives = list((archived_site / "public" / "feeds").glob("*/archive/*.atom"))
    archive_bytes = sum(path.stat().st_size for path in archives)
    busy = result["main_cpu"] + sum(result["work"].values())
    rss = max(result["main_peak_rss"], result["worker_peak_rss"]) / 2**20
    print(f"{size:,} articles")
    print(f"  floor (read + front matter, one process)  {floor:7.2f} s")
    print(
        f"  cold build                                {wall:7.2f} s wall  ({wall / floor:.1f}x the "
        f"floor), {busy:.2f} s CPU, {size / wall:,.0f} articles/s"
    )
    print(
        f"  peak RSS                                  {rss:7.0f} MB (main "
        f"{result['main_peak_rss'] / 2**20:.0f} MB, largest worker "
        f"{result['worker_peak_rss'] / 2**20:.0f} MB)"
    )
    print(
        f"  restart, nothing changed                  {restart['seconds']:7.2f} s of work "
        f"({restart['read']} files read; {restart_wall:.2f} s for the whole process)"
    )
    print(
        f"  cold build with archives: true            {archived_wall:7.2f} s wall  "
        f"(+{archived_wall - wall:.2f} s for {len(archives):,} archive documents, "
        f"{archive_bytes / 2**20:,.0f} MB)"
    )
    print("  time per stage, summed over processes:")
    for stage, seconds in result["work"].items():
        print(f"    {stage:<14} {seconds:7.2f} s  ({seconds / floor:.2f}x the floor)")
    for phase, seconds in result["timings"].items():
        print(f"    main: {phase:<28} {seconds:7.2f} s wall")
    print()


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


def _floor(corpus: Path, runs: int = 3) -> float:
    """Read every file and parse its front matter: the least a build must do. The best of
    a few runs, so that the page cache and the other jobs on the machine count least."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    paths = sorted(corpus.iterdir())
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        for path in paths:
            text = path.read_bytes().decode("utf-8")
            _, front, _ = text.split("---\n", 2)
            yaml.load(front, Loader=loader)  # noqa: S506 - a safe loader
        best = min(best, time.perf_counter() - began)
    return best


def _child(config_path: Path) -> None:
    from feeds.build import build
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
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
