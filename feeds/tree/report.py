"""BuildReport: what a build (or a check) did, for the CLI, the logs and /healthz."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from feeds.tree.status import MAX_LISTED, BuildStatus, utc_now_iso


@dataclass(frozen=True)
class BuildReport:
    """What a build (or a check) did: counts, problems, and where the time went."""

    articles_found: int
    articles_failed: int
    feeds: int
    feeds_changed: int
    files_written: int
    files_unchanged: int
    files_removed: int
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    files_read: int = 0
    # Sources left for a later build: they may still be being written.
    deferred: frozenset[str] = frozenset()
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per phase
    work: dict[str, float] = field(default_factory=dict)  # seconds per stage, all processes
    worker_peak_rss: int = 0  # bytes
    # Feed documents whose bytes this build changed, relative to the output dir: what a
    # WebSub hub is told of (feeds.watch.websub).
    feeds_written: tuple[str, ...] = ()
    # Articles read by this build whose head image was promo, hence not published.
    head_images_dropped: int = 0
    # Warnings (also in `warnings`) about configured categories no article is under.
    unmatched_categories: tuple[str, ...] = ()
    # Seconds from the start of the build until its feeds were out, when a first build
    # published them before it read the rest of the archive (see feeds.build.ahead).
    feeds_out: float | None = None

    @property
    def articles_published(self) -> int:
        return self.articles_found - self.articles_failed

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())

    def after(self, first: BuildReport) -> BuildReport:
        """This report, for a build that published `first` what its feeds show."""
        return replace(
            self,
            feeds_changed=max(first.feeds_changed, self.feeds_changed),
            files_written=first.files_written + self.files_written,
            files_read=first.files_read + self.files_read,
            work=_summed(first.work, self.work),
            feeds_written=tuple(dict.fromkeys((*first.feeds_written, *self.feeds_written))),
            worker_peak_rss=max(first.worker_peak_rss, self.worker_peak_rss),
            head_images_dropped=first.head_images_dropped + self.head_images_dropped,
            feeds_out=first.feeds_out,
        )

    def status(self) -> BuildStatus:
        """The record /healthz serves about this build."""
        return BuildStatus(
            finished=utc_now_iso(),
            seconds=round(self.seconds, 3),
            ok=self.ok,
            articles_found=self.articles_found,
            articles_published=self.articles_published,
            articles_failed=self.articles_failed,
            feeds=self.feeds,
            feeds_changed=self.feeds_changed,
            error_count=len(self.errors),
            errors=self.errors[:MAX_LISTED],
        )


class Clock:
    """Wall time per phase: of a build, or of a batch of files in a worker."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds from the start to the last lap."""
        return sum(self.timings.values())

    def lap(self, stage: str) -> None:
        """Charge the time since the last lap to `stage`."""
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._last
        self._last = now


def _summed(*works: dict[str, float]) -> dict[str, float]:
    summed: dict[str, float] = {}
    for work in works:
        for stage, seconds in work.items():
            summed[stage] = summed.get(stage, 0.0) + seconds
    return summed
