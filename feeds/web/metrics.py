"""What /metrics reports, in the Prometheus text format.

Each app has a registry of its own (never prometheus_client's global one), so several
apps in one process never clash. Nothing on the request path touches prometheus_client:
responses are counted with a plain dict increment (published documents are answered in
about 10 µs) and turned into metrics when /metrics is scraped.

Build counts and durations come from the process that builds. A process that only
serves (another one holds the builder lock) still reports the last build, from the
status file that every build leaves in the state dir.

Under a WSGI server with several worker processes, each counts its own requests; with
PROMETHEUS_MULTIPROC_DIR set (prometheus_client's multiprocess mode), every process adds
its counts to that directory's files once a second, and /metrics sums them over all
processes, so a scrape sees the whole server whichever worker answers it.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import CollectorRegistry

from feeds import __version__
from feeds.tree.report import BuildReport
from feeds.tree.status import read_status

log = logging.getLogger("feeds")

# A build takes from milliseconds (nothing changed) to minutes (a cold build of a large tree).
BUILD_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

# The last build's fields (as /healthz and the status file have them) and their gauges.
_LAST_BUILD = (
    ("articles_found", "feeds_last_build_articles_found", "Articles found by the last build."),
    (
        "articles_published",
        "feeds_last_build_articles_published",
        "Articles the last build published.",
    ),
    ("articles_failed", "feeds_last_build_articles_failed", "Articles that failed to parse."),
    ("error_count", "feeds_last_build_errors", "Errors the last build reported."),
    ("feeds", "feeds_last_build_feeds", "Feeds the last build published."),
    ("feeds_changed", "feeds_last_build_feeds_changed", "Feeds the last build rewrote."),
    ("seconds", "feeds_last_build_seconds", "How long the last build took."),
)


class BuildMetrics:
    """The builds of this process: kept by the Watcher, read when /metrics is scraped."""

    def __init__(self) -> None:
        self._builds = Counter(
            "feeds_builds",
            "Builds run by this process, by outcome: ok, or failed (an article or a feed "
            "failed, or the build could not run).",
            ["outcome"],
            registry=None,
        )
        for outcome in ("ok", "failed"):
            self._builds.labels(outcome)  # both series exist from the start, at 0
        self._seconds = Histogram(
            "feeds_build_duration_seconds",
            "How long the builds of this process took.",
            buckets=BUILD_BUCKETS,
            registry=None,
        )
        self._lock = threading.Lock()
        self._last: dict[str, Any] | None = None

    def record(self, report: BuildReport | None, seconds: float) -> None:
        """Count one build; `report` is None when the build raised (nothing was published)."""
        ok = report is not None and report.ok
        self._builds.labels("ok" if ok else "failed").inc()
        self._seconds.observe(seconds)
        if report is not None:
            with self._lock:
                self._last = report.status().to_json()

    @property
    def last(self) -> dict[str, Any] | None:
        """The last finished build's status record, as the status file has it."""
        with self._lock:
            return self._last

    def collect(self) -> Iterator[Metric]:
        yield from self._builds.collect()
        yield from self._seconds.collect()


class RequestCounts:
    """Responses by status code: for published documents, and for everything else.

    The web layer increments these dicts in place. Under CPython's GIL an increment of an
    int-keyed dict entry is not interleaved with another thread's, and even a lost one
    would only make a counter lag by one: cheap enough for the 10 µs path.
    """

    def __init__(self) -> None:
        # Every code the published-files layer sends.
        self.published: dict[int, int] = {200: 0, 304: 0, 405: 0, 412: 0, 503: 0}
        self.app: dict[int, int] = {}

    def snapshot(self) -> tuple[dict[int, int], dict[int, int]]:
        """Copies of both tables (dict() copies in one step, so no size change mid-way)."""
        return dict(self.published), dict(self.app)


MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_REQUESTS_HELP = (
    "HTTP responses sent, by status code and by what answered: published (a published "
    "document) or app (/healthz, /metrics, the image proxy, 404 and other errors)."
)


def create_registry(
    requests: RequestCounts, builds: BuildMetrics | None, state_dir: Path
) -> CollectorRegistry:
    """A registry of the app's own: requests, builds (when this process builds), last build.

    In prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR set), requests and
    builds are those of every process that shares the directory."""
    registry = CollectorRegistry()
    shared = SharedRequests(requests) if os.environ.get(MULTIPROCESS_ENV) else None
    registry.register(_Collector(requests, builds, state_dir, shared))
    return registry


class SharedRequests:
    """This process's request counts, added to prometheus_client's multiprocess files once
    a second (and at each scrape it answers), so that /metrics can sum every process's.

    The request path still only increments a dict; a daemon thread does the rest."""

    def __init__(self, requests: RequestCounts, interval: float = 1.0) -> None:
        self.requests = requests
        self._counter = Counter(
            "feeds_http_requests", _REQUESTS_HELP, ["handler", "code"], registry=None
        )
        self._sent: tuple[dict[int, int], dict[int, int]] = ({}, {})  # counts added so far
        self._lock = threading.Lock()
        threading.Thread(
            target=self._every, args=(interval,), daemon=True, name="feeds-metrics"
        ).start()

    def _every(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            try:
                self.sync()
            except OSError as exc:  # the directory went away: the next scrape says so too
                log.warning(
                    "cannot add request counts to %s: %s", os.environ.get(MULTIPROCESS_ENV), exc
                )

    def sync(self) -> None:
        """Add what was counted since the last sync to the shared files."""
        with self._lock:
            for handler, counts, sent in zip(
                ("published", "app"), self.requests.snapshot(), self._sent, strict=True
            ):
                for code, count in counts.items():
                    if count != sent.get(code, 0):
                        self._counter.labels(handler, str(code)).inc(count - sent.get(code, 0))
                        sent[code] = count

    def collect(self) -> list[Metric]:
        """Every process's counters and histograms, summed (requests, builds, durations)."""
        self.sync()
        # prometheus_client leaves this collector unannotated.
        return list(MultiProcessCollector(None).collect())  # type: ignore[no-untyped-call]


class _Collector:
    def __init__(
        self,
        requests: RequestCounts,
        builds: BuildMetrics | None,
        state_dir: Path,
        shared: SharedRequests | None = None,
    ) -> None:
        self.requests = requests
        self.builds = builds
        self.state_dir = state_dir
        self.shared = shared

    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily("feeds_info", "The running version of feeds.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        if self.shared is not None:
            families = self.shared.collect()
            yield from families
            yield _not_modified_ratio(_published_counts(families))
        else:
            yield from _request_metrics(*self.requests.snapshot())
        yield GaugeMetricFamily(
            "feeds_builder",
            "1 when this process builds the output dir, 0 when another process does and "
            "this one only serves.",
            value=0 if self.builds is None else 1,
        )
        if self.builds is not None and self.shared is None:  # else in the shared files
            yield from self.builds.collect()
        last = self.builds.last if self.builds is not None else None
        yield from _last_build_metrics(last or read_status(self.state_dir))


def _request_metrics(published: dict[int, int], app: dict[int, int]) -> Iterator[Metric]:
    requests = CounterMetricFamily(
        "feeds_http_requests", _REQUESTS_HELP, labels=["handler", "code"]
    )
    for handler, counts in (("published", published), ("app", app)):
        for code, count in sorted(counts.items()):
            requests.add_metric([handler, str(code)], count)
    yield requests
    yield _not_modified_ratio(published)


def _published_counts(families: Iterable[Metric]) -> dict[int, int]:
    """Responses to requests for published documents by code, from summed families."""
    counts: dict[int, int] = {}
    for family in families:
        for sample in family.samples if family.name == "feeds_http_requests" else ():
            if sample.name.endswith("_total") and sample.labels.get("handler") == "published":
                code = int(sample.labels["code"])
                counts[code] = counts.get(code, 0) + int(sample.value)
    return counts


def _not_modified_ratio(published: dict[int, int]) -> Metric:
    total = sum(published.values())
    return GaugeMetricFamily(
        "feeds_http_not_modified_ratio",
        "Share of the requests for published documents answered 304 Not Modified, since "
        "the process started (NaN before the first).",
        value=published.get(304, 0) / total if total else math.nan,
    )


def _last_build_metrics(status: dict[str, Any] | None) -> Iterator[Metric]:
    if status is None:  # no build has finished yet
        return
    for key, name, documentation in _LAST_BUILD:
        value = _number(status.get(key))
        if value is not None:
            yield GaugeMetricFamily(name, documentation, value=value)
    if isinstance(status.get("ok"), bool):
        yield GaugeMetricFamily(
            "feeds_last_build_ok",
            "1 when the last build published everything, 0 when something failed.",
            value=1 if status["ok"] else 0,
        )
    finished = _timestamp(status.get("finished"))
    if finished is not None:
        yield GaugeMetricFamily(
            "feeds_last_build_timestamp_seconds",
            "When the last build finished, in seconds since the Unix epoch.",
            value=finished,
        )


def _number(value: object) -> float | None:
    # The status file may come from another version of feeds: take numbers only.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _timestamp(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None
