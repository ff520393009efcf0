"""Rebuild when articles change: a periodic rescan (the ground truth) plus file-system
events that trigger it early.

Events come duplicated, out of order, before a write ends, or (on some network mounts)
not at all, so they only ever say "look soon"; the scan decides what changed. A file
is read once it is settled: closed by its writer, or unmodified for `schedule.settle`
seconds. A file left for later ("deferred") is looked at again by every build until it
has been read, and a build is due when the first of them may have settled.

The first build of a process waits for the files that may still be being written (at most
`schedule.settle` seconds), rather than publish feeds without them: a tree published for
the first time holds every article that was there when the process started.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from feeds.build.builder import Builder
from feeds.build.ingest import Settled
from feeds.config import Config
from feeds.errors import FeedsError
from feeds.sources.files import SourceFile, is_ignored_name
from feeds.text import encodable
from feeds.tree.report import BuildReport
from feeds.tree.status import BuilderActivity
from feeds.watch.websub import Notifier, changed_topics
from feeds.web.metrics import BuildMetrics

log = logging.getLogger("feeds")

# The events a build may follow, and no others: the kernel queues only these (a file
# opened or read says nothing changed, and a `grep -r` over the archive would fill the
# queue with them until events are lost), and a directory's "modified" only echoes the
# events of the files inside it.
WATCHED = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,  # a chmod that makes a file readable, a `cp -p`
    FileClosedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    DirCreatedEvent,
    DirMovedEvent,
    DirDeletedEvent,
    EventsLostEvent,
]
DEBOUNCE = 0.2  # seconds of quiet after an event before building
# A steady stream of events (a scraper at work) still gets a build this long after the
# first of them, so that a file is served within a second of landing, build included.
MAX_DELAY = 0.5
OPEN_LIMIT = 60.0  # a file held open this long without writes is read anyway


class Watcher:
    """Runs builds on a schedule and on file events, one at a time, in the background."""

    def __init__(self, config: Config, *, notifier: Notifier | None = None) -> None:
        self.config = config
        self.root = config.source.dir.resolve()
        self.last_report: BuildReport | None = None
        self.metrics = BuildMetrics()  # for /metrics, in the process that serves too
        self._lock = threading.Lock()  # guards the fields below
        self._open: dict[str, float] = {}  # written to, not yet closed: source -> last event
        self._closed: set[str] = set()  # closed by their writer since their last write
        self._in_job = False  # run() is under way: the scheduler counts it as running
        self._again = False  # an event arrived during a build
        self._due = 0.0  # when, by time.monotonic(), the events so far want a build
        self._hints: set[str] = set()  # sources events named since the last build
        # Sources the last build left for later -> (their path to stat, when they may have
        # settled, by the monotonic clock); filled by settled(), kept to what builds defer.
        self._deferred: dict[str, tuple[str, float]] = {}
        self._first = True  # the next build is this process's first
        self.first_build = threading.Event()  # set when the first build ends, however it ends
        self.activity = BuilderActivity(config.state.dir)  # for /healthz
        self._last_full_scan = float("-inf")
        self.builder = Builder(config)
        self._first_poke: float | None = None
        self._scheduler = BackgroundScheduler(daemon=True)
        self._observer: Any = None
        # Tells the WebSub hub of the feeds each build changes, from a thread of its own.
        if notifier is None and config.websub.hub:
            notifier = Notifier(config.websub.hub)
        self.notifier = notifier

    def start(self) -> None:
        """Start building in the background: the first build at once, then on the schedule
        and on file events. Returns at once (see `first_build`)."""
        self.activity.set("building")
        self._scheduler.add_job(
            self.run,
            "interval",
            seconds=self.config.schedule.interval,
            id="rebuild",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now().astimezone(),
        )
        self._scheduler.start()
        if self.notifier is not None:
            log.info("websub: telling %s of the feeds each build changes", self.notifier.hub)
            self.notifier.start()
        if self.config.schedule.watch:
            self._start_observer()

    def stop(self) -> None:
        """Stop watching; waits for a running build to finish its writes."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        if self.notifier is not None:
            self.notifier.stop()  # after the last build, which may have queued pings
        self.builder.close()

    def run(self) -> BuildReport | None:
        """The scheduled job: a build, and another as long as events come during one; logs
        each, and never raises. The job stays the scheduler's one running instance
        throughout, so events never ask the scheduler for a run meanwhile: it would skip
        that run and put the next a whole schedule.interval away."""
        with self._lock:
            self._in_job = True
        try:
            while True:
                report = self._build_once()
                with self._lock:
                    if not self._again:
                        self._in_job = False
                        break
                    due = self._due
                time.sleep(max(0.0, due - time.monotonic()))
        finally:
            with self._lock:
                self._in_job = False
        self._schedule_deferred()
        return report

    def _build_once(self) -> BuildReport | None:
        """One build, logged; None when it failed."""
        now = time.monotonic()
        with self._lock:
            self._again = False
            self._first_poke = None
            first, self._first = self._first, False
            hints, self._hints = self._hints, set()
            deferred, self._deferred = self._deferred, {}
            # Events only narrow a build down to the files they name; a full scan still
            # runs every schedule.interval, since events can be missed.
            interval = self.config.schedule.interval
            full = not (hints or deferred) or now - self._last_full_scan >= interval
            if full:
                self._last_full_scan = now
        # Whatever a build looks at, it looks again at the files an earlier one deferred.
        only = None if full else hints | {path for path, _ in deferred.values()}
        settled = self._settled_within(now + self.config.schedule.settle) if first else self.settled
        report = None
        started = time.perf_counter()
        try:
            report = self.builder.build(settled=settled, only=only, progress=self.activity.progress)
        except FeedsError as exc:
            log.error("build failed: %s", exc)
            self.activity.set("failed", str(exc))
        except Exception as exc:  # a bug must not kill the scheduler thread
            log.exception("build crashed; the published tree is unchanged")
            self.activity.set("failed", f"the build crashed: {exc!r}")
        finally:
            with self._lock:
                self._deferred = self._still_deferred(report, deferred)
                if report is None:
                    self._last_full_scan = float("-inf")  # the next build scans it all
        self.metrics.record(report, time.perf_counter() - started)
        if report is not None:
            self.last_report = report
            self.activity.set("idle")
            log_report(report)
            if self.notifier is not None and report.feeds_written:
                self.notifier.notify(changed_topics(self.config, report))
        self.first_build.set()
        return report

    def _still_deferred(
        self, report: BuildReport | None, before: dict[str, tuple[str, float]]
    ) -> dict[str, tuple[str, float]]:
        """The deferred files after a build (under the lock): the ones it left, with what
        settled() noted of them; all of the earlier ones when it failed."""
        if report is None:
            return before | self._deferred
        noted = before | self._deferred
        return {source: noted[source] for source in report.deferred if source in noted}

    def _schedule_deferred(self) -> None:
        """After the builds of a job: another once the first deferred file may have settled
        (but no later than a schedule.interval from now)."""
        with self._lock:
            ready = min((when for _, when in self._deferred.values()), default=None)
        if ready is not None:
            now = time.monotonic()
            self._run_at(min(max(ready, now + DEBOUNCE), now + self.config.schedule.interval))

    def settled(self, file: SourceFile) -> bool:
        """Whether a changed file may be read now (see the module docstring); a file that
        may not is noted, with when it may have settled."""
        now = time.monotonic()
        wait = self._unsettled_for(file, now)
        if wait <= 0:
            return True
        relative = os.path.relpath(file.path, self.root)
        with self._lock:
            self._deferred[file.source] = (relative, now + wait)
        return False

    def _unsettled_for(self, file: SourceFile, now: float) -> float:
        """Seconds before the file may be read; 0 when it may be read now."""
        with self._lock:
            if file.source in self._closed:
                return 0.0
            last_write = self._open.get(file.source)
        if last_write is not None and now - last_write < OPEN_LIMIT:
            return last_write + OPEN_LIMIT - now  # unless its writer closes it sooner
        return max(0.0, self.config.schedule.settle - (time.time() - file.mtime))

    def _settled_within(self, deadline: float) -> Settled:
        """settled(), except that a file that may settle before `deadline` (monotonic) is
        waited for: the first build of a process publishes the files just copied in."""

        def settled_or_wait(file: SourceFile) -> bool:
            while True:
                now = time.monotonic()
                wait = self._unsettled_for(file, now)
                if wait <= 0:
                    return True
                if now + wait > deadline:
                    return self.settled(file)  # noted for a later build
                self.activity.set("settling", f"waiting for {file.source} to settle")
                time.sleep(wait)
                try:
                    info = os.stat(file.path)
                except OSError:
                    return self.settled(file)  # gone: the next build finds out
                file = file._replace(size=info.st_size, mtime_ns=info.st_mtime_ns)

        return settled_or_wait

    def events_lost(self) -> None:
        """The kernel dropped file events (its queue overflowed): scan the whole source dir
        soon, rather than at the next schedule.interval."""
        log.warning("file events were lost; the next build scans all of %s", self.root)
        with self._lock:
            self._last_full_scan = float("-inf")
        self._poke()

    def on_event(self, event: FileSystemEvent) -> None:
        """Note what an event says about a file and ask for a build soon."""
        paths = [event.src_path, getattr(event, "dest_path", "")]
        relatives = [self._relative(p) for p in paths if p]
        if not any(r is not None for r in relatives):
            return
        # Hints are paths to stat; the open/closed state is kept by source name, which
        # escapes bytes that are not UTF-8 (see feeds.sources.files).
        src, dest = (encodable(r) if r else None for r in (*relatives, None)[:2])
        with self._lock:
            self._hints.update(r for r in relatives if r)
            if isinstance(event, FileModifiedEvent) and src:
                # Written to: open until its writer closes it. (A bare "created" is no such
                # sign: watchdog reports one for each file of a directory moved in.)
                self._open[src] = time.monotonic()
                self._closed.discard(src)
            elif isinstance(event, FileClosedEvent) and src:
                self._open.pop(src, None)
                self._closed.add(src)
            elif isinstance(event, FileMovedEvent | DirMovedEvent):
                # A rename lands a complete file: editors and careful writers save this way.
                for gone in (src, dest):
                    if gone:
                        self._open.pop(gone, None)
                if dest:
                    self._closed.add(dest)
            elif isinstance(event, FileDeletedEvent) and src:
                self._open.pop(src, None)
                self._closed.discard(src)
        self._poke()

    def _relative(self, path: str | bytes) -> str | None:
        text = os.fsdecode(path)
        if is_ignored_name(os.path.basename(text)):
            return None
        try:
            relative = Path(text).relative_to(self.root).as_posix()
        except ValueError:
            return None
        if any(part.startswith(".") for part in relative.split("/")):
            return None
        return relative

    def _poke(self) -> None:
        """Debounced: build DEBOUNCE after the last event, at most MAX_DELAY after the first."""
        now = time.monotonic()
        with self._lock:
            if self._first_poke is None:  # also during a build: the wait counts from here
                self._first_poke = now
            self._due = min(now + DEBOUNCE, self._first_poke + MAX_DELAY)
            if self._in_job:
                self._again = True  # run() builds again once its build is done
                return
            when = self._due
        self._run_at(when)

    def _run_at(self, monotonic_when: float) -> None:
        if not self._scheduler.running:
            return
        delay = max(0.0, monotonic_when - time.monotonic())
        job = self._scheduler.get_job("rebuild")
        if job is not None:
            job.modify(next_run_time=datetime.now().astimezone() + timedelta(seconds=delay))

    def _start_observer(self) -> None:
        handler = _Handler(self)
        observer = Observer()
        observer.schedule(handler, str(self.root), recursive=True, event_filter=WATCHED)
        observer.daemon = True
        try:
            observer.start()
        except OSError as exc:  # e.g. the inotify watch limit
            log.warning(
                "file events unavailable (%s); rescanning every %ss",
                exc,
                self.config.schedule.interval,
            )
            return
        self._observer = observer


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        # The observer passes on only the WATCHED kinds.
        if isinstance(event, EventsLostEvent):
            self.watcher.events_lost()
        else:
            self.watcher.on_event(event)


def log_report(report: BuildReport) -> None:
    """One line per build, then one per problem. The counts also go with the line as
    fields, for the JSON log format (see feeds.logs)."""
    fields = {
        "articles": report.articles_found,
        "failed": report.articles_failed,
        "read": report.files_read,
        "feeds": report.feeds,
        "changed": report.feeds_changed,
        "written": report.files_written,
        "removed": report.files_removed,
        "errors": len(report.errors),
        "seconds": round(report.seconds, 3),
    }
    log.info(
        "build: %d articles (%d failed), %d read, %d feeds (%d changed), "
        "%d files written, %d removed, %.2fs",
        report.articles_found,
        report.articles_failed,
        report.files_read,
        report.feeds,
        report.feeds_changed,
        report.files_written,
        report.files_removed,
        report.seconds,
        extra={"fields": fields},
    )
    for error in report.errors:
        log.warning("%s", error)
