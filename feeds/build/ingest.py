"""Bring the catalogue up to date with the source dir: stat every file, read only the
new and changed ones, forget the deleted ones.

A large batch of files (a cold build) is read, parsed, cleaned, serialised and its pages
written by a pool of worker processes, one per core; the process that owns the catalogue
only stores what they send back, as it arrives, so memory does not grow with the archive.
The same pool can first read only the front matter of every file (`survey`), for a first
build to tell which articles its feeds show before it reads any in full.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TypeVar

from feeds.build.ahead import FeedsAhead, tells_ahead
from feeds.build.workers import (
    STAGES,
    Batch,
    Before,
    Outcome,
    ReadSettings,
    Surveyed,
    read_files,
    survey_files,
)
from feeds.catalogue.records import Change
from feeds.catalogue.sql import StoredSet
from feeds.catalogue.store import Catalogue, Known
from feeds.config import Config
from feeds.images.signing import ImageSigner, image_signer
from feeds.sources.files import Scan, SourceFile, scan_sources, stat_sources
from feeds.tree.status import FRONT_MATTER, Progress

Settled = Callable[[SourceFile], bool]  # False: the file may still be being written

log = logging.getLogger("feeds")

POOL_FROM = 200  # files to read before worker processes pay for their start-up
# Files in a first build before it tells its feeds ahead (see survey): on fewer, the feeds
# are out soon enough with the rest.
FIRST_FROM = 2000
# Files per task sent to a worker. Each task's hand-over costs the builder, which shares the
# cores with the workers, CPU of its own: at 32 files a task it used a third more while the
# workers read than at 128. A worker's last task still takes only some 40 ms at 128, while
# the other worker may have none left.
BATCH = 128
IN_FLIGHT = 3  # tasks per worker, handed out and not yet stored


@dataclass(frozen=True)
class Ingested:
    """What a scan found and did. The two sets of sources and pages are kept in the
    catalogue's connection until the next build begins (see StoredSet)."""

    found: int  # article files in the source dir
    read: int  # files read this time
    changed: AbstractSet[str]  # sources whose article appeared, changed or went away
    deferred: frozenset[str]  # sources left for later: they may still be being written
    skipped: tuple[str, ...]  # why some directory entries are not articles
    pages: AbstractSet[str]  # permalink pages already written, relative to the output dir
    pages_written: int  # how many of them had new bytes
    work: dict[str, float]  # seconds per stage of reading, summed over every process
    worker_peak_rss: int  # bytes, the largest worker process's peak (0: no workers)
    head_images_dropped: int = 0  # articles read whose head image was promo (see CleanBody)


def ingest(
    config: Config,
    catalogue: Catalogue,
    settled: Settled | None = None,
    progress: Progress | None = None,
    only: Collection[str] | None = None,
    pages_dir: Path | None = None,
) -> Ingested:
    """Scan the source dir (or just the paths in `only`) and record every change in the
    catalogue (not yet committed); write the pages of changed articles into `pages_dir`."""
    scan, candidates, gone, whole = _look(config, catalogue, only)
    # Found: every file of a whole scan; else every recorded file once this build has
    # recorded, and the new ones left for later.
    found = len(scan.files) if whole else None
    skipped = scan.skipped
    del scan  # at a million files, what reading them does not need is let go
    to_read, waiting = _to_read(catalogue, candidates, settled)
    new_waiting = 0 if whole else sum(source not in candidates.known for source in waiting)
    del candidates
    images = image_signer(config, make_key=pages_dir is not None)  # `feeds check` makes none
    recorded = _read_and_record(
        catalogue,
        to_read,
        ReadSettings.of(config, indexed=catalogue.search.filled),
        pages_dir,
        images,
        progress,
    )
    for source in gone:
        catalogue.forget(source)
    recorded.changed.add(gone)
    return Ingested(
        found if found is not None else catalogue.count_recorded() + new_waiting,
        to_read.total,
        recorded.changed,
        frozenset(waiting),
        skipped,
        recorded.pages,
        recorded.pages_written,
        recorded.work,
        recorded.worker_peak_rss,
        recorded.head_images_dropped,
    )


@dataclass
class Candidates:
    """The new and changed files, in the order of their paths, and what the catalogue knows
    of the files it has a record of: what a build reads, unless a file is left to settle."""

    files: list[SourceFile]
    known: dict[str, Known]


def _look(
    config: Config, catalogue: Catalogue, only: Collection[str] | None
) -> tuple[Scan, Candidates, list[str], bool]:
    """The article files to consider, the new and changed ones among them, the recorded
    sources that are gone, and whether that is the whole source dir (when `only` is None,
    or names a directory)."""
    source = config.source
    looked = None if only is None else stat_sources(source.dir, only, source.extensions)
    if looked is None:
        scan = scan_sources(source.dir, source.extensions)
        changed, recorded, gone = _compare(scan.files, catalogue.recorded())
        return scan, Candidates(changed, catalogue.known_of(recorded)), gone, True
    scan, missing = looked
    known = catalogue.known_of([file.source for file in scan.files])
    changed = [file for file in scan.files if not _unchanged(file, known.get(file.source))]
    candidates = Candidates(changed, known)
    # A deleted directory takes its files along.
    went = set(catalogue.known_of(missing))
    for directory in missing:
        went.update(catalogue.recorded_under(directory))
    return scan, candidates, sorted(went), False


def _unchanged(file: SourceFile, before: Known | None) -> bool:
    """Whether a file has the size and time of its record (then its bytes are taken as read)."""
    return before is not None and (before.size, before.mtime_ns) == (file.size, file.mtime_ns)


def _compare(
    files: Sequence[SourceFile], recorded: Iterator[tuple[str, int, int]]
) -> tuple[list[SourceFile], list[str], list[str]]:
    """The files that are new or whose size or time differs from their record, the sources
    of those that have one, and the recorded sources no file has. All are sorted by
    source, as scans list them and the catalogue reads them back: one pass over each, and
    nothing of the archive held but the scan."""
    changed: list[SourceFile] = []
    recorded_changed: list[str] = []
    gone: list[str] = []
    record = next(recorded, None)
    for file in files:
        source = file.source
        while record is not None and record[0] < source:
            gone.append(record[0])
            record = next(recorded, None)
        if record is not None and record[0] == source:
            if record[1] != file.size or record[2] != file.mtime_ns:
                changed.append(file)
                recorded_changed.append(source)
            record = next(recorded, None)
        else:
            changed.append(file)
    while record is not None:
        gone.append(record[0])
        record = next(recorded, None)
    return changed, recorded_changed, gone


class ToRead:
    """The files a build reads, handed out a batch at a time, each with what the catalogue
    holds for it. A batch handed out is let go: at a million files, the list of them is
    most of what a cold build holds, and what reading them records grows as it shrinks."""

    def __init__(
        self, catalogue: Catalogue, files: list[SourceFile], known: dict[str, Known]
    ) -> None:
        self._catalogue = catalogue
        self._files = files[::-1]  # popped from the end, the first file first
        self._known = known
        self.total = len(files)

    def batches(self, size: int) -> Iterator[list[tuple[SourceFile, Before]]]:
        files = self._files
        while files:
            batch = [files.pop() for _ in range(min(size, len(files)))]
            changes = self._catalogue.changes_of(file.source for file in batch)
            yield [(file, self._before(file.source, changes)) for file in batch]

    def _before(self, source: str, changes: dict[str, Change]) -> Before:
        known = self._known.get(source)
        return Before(None if known is None else known.digest, changes.get(source))


def _to_read(
    catalogue: Catalogue, candidates: Candidates, settled: Settled | None
) -> tuple[ToRead, set[str]]:
    """The new and changed files to read; and those left for a later build (changed, but
    perhaps still being written)."""
    waiting: set[str] = set()
    ready = candidates.files
    if settled is not None:
        ready = []
        for file in candidates.files:
            if settled(file):
                ready.append(file)
            else:
                waiting.add(file.source)
    candidates.files = []
    return ToRead(catalogue, ready, candidates.known), waiting


@dataclass(frozen=True)
class _Recorded:
    """What reading the new and changed files did, recorded in the catalogue."""

    changed: StoredSet  # sources whose article appeared or changed
    pages: StoredSet  # see Ingested
    pages_written: int
    work: dict[str, float]
    worker_peak_rss: int
    head_images_dropped: int


def _read_and_record(
    catalogue: Catalogue,
    to_read: ToRead,
    settings: ReadSettings,
    pages_dir: Path | None,
    images: ImageSigner | None,
    progress: Progress | None,
) -> _Recorded:
    """Read the files and record each outcome in the catalogue as it comes."""
    # Kept in the catalogue's connection: at a million articles, as Python sets, they
    # would take more memory than anything else a cold build holds.
    changed = catalogue.build_set("changed_sources")
    pages = catalogue.build_set("written_pages")
    pages_written = dropped = done = 0
    work = dict.fromkeys(STAGES, 0.0)
    peaks = [0]
    for batch in _batches(to_read, settings, pages_dir, images, peaks):
        for stage, seconds in batch.work.items():
            work[stage] += seconds
        changed_now: list[str] = []
        for outcome in batch.outcomes:
            if _record(catalogue, outcome):
                changed_now.append(outcome.source)
            pages_written += outcome.page_written
            dropped += outcome.head_image_dropped
            done += 1
            if progress is not None:
                progress(done, to_read.total)
        changed.add(changed_now)
        pages.add([outcome.page for outcome in batch.outcomes if outcome.page is not None])
    return _Recorded(changed, pages, pages_written, work, max(peaks), dropped)


def _record(catalogue: Catalogue, outcome: Outcome) -> bool:
    """Store one outcome; True when what is published from the file may have changed."""
    if outcome.unchanged:
        catalogue.touch(outcome.source, outcome.stat)  # same bytes: nothing to redo
        return False
    if outcome.change is not None:
        catalogue.record_change(outcome.source, outcome.change)
    if outcome.record is not None:
        catalogue.record_article(
            outcome.source, outcome.stat, outcome.digest, outcome.record, outcome.warnings
        )
        return True
    assert outcome.error is not None
    catalogue.record_error(outcome.source, outcome.stat, outcome.digest, outcome.error)
    return False  # the last good article, if any, stays as it was


def _batches(
    to_read: ToRead,
    settings: ReadSettings,
    pages_dir: Path | None,
    images: ImageSigner | None,
    peaks: list[int],
) -> Iterator[Batch]:
    """Read the files in batches, here or in worker processes when there are enough."""
    return _in_workers(
        to_read.batches(BATCH),
        to_read.total,
        _read_batch,
        lambda batch: read_files(batch, settings, pages_dir, images),
        (settings, pages_dir, images),
        peaks,
    )


@dataclass(frozen=True)
class Survey:
    """What reading every file's front matter told (see feeds.build.ahead)."""

    # The sources of the articles a first build's feeds will show, with the (size, mtime_ns)
    # of the files read; None when that cannot be told ahead.
    wanted: Mapping[str, tuple[int, int]] | None
    seconds: float  # of work, summed over every process
    worker_peak_rss: int  # bytes (0: no workers)


def survey(
    config: Config, settled: Settled | None, progress: Progress | None = None
) -> Survey | None:
    """Read the front matter of every file in the source dir, settled ones only when asked.
    None when there are too few files for it to pay, or when the configuration's feeds
    cannot be chosen from front matter alone."""
    if not tells_ahead(config):
        return None
    files = scan_sources(config.source.dir, config.source.extensions).files
    if settled is not None:
        files = tuple(file for file in files if settled(file))
    if len(files) < FIRST_FROM:
        return None
    settings = ReadSettings.of(config, indexed=False)
    ahead = FeedsAhead(config)
    batches = (files[start : start + BATCH] for start in range(0, len(files), BATCH))
    seconds, peaks, done = 0.0, [0], 0
    here = functools.partial(_timed_survey, settings=settings)
    for surveyed, took in _in_workers(
        batches, len(files), _survey_batch, here, (settings, None, None), peaks
    ):
        seconds += took
        for article in surveyed:
            ahead.add(article)
        done = min(done + BATCH, len(files))
        if progress is not None:
            progress(done, len(files), FRONT_MATTER)
    return Survey(ahead.wanted(), seconds, max(peaks))


_Task = TypeVar("_Task")
_Done = TypeVar("_Done")


def _in_workers(
    batches: Iterator[_Task],
    total: int,
    task: Callable[[_Task], tuple[_Done, int]],
    here: Callable[[_Task], _Done],
    initargs: tuple[ReadSettings, Path | None, ImageSigner | None],
    peaks: list[int] | None = None,
) -> Iterator[_Done]:
    """Each batch's result: `task`'s in worker processes when there are enough files,
    else `here`'s (also should the workers fail). `task` gives the worker's peak RSS too."""
    workers = os.cpu_count() or 1
    if total < POOL_FROM or workers < 2:
        for batch in batches:
            yield here(batch)
        return
    context = _pool_context()
    # Tasks handed out ahead of the one this process is storing: enough that no worker
    # waits, few enough that, should storing fall behind, what the workers have read
    # does not pile up here.
    ahead = IN_FLIGHT * workers
    # Each batch taken from `batches` with its task, from before the task is handed out (a
    # pool that broke refuses it): should the pool fail, these are done here.
    sent: deque[tuple[_Task, Future[tuple[_Done, int]] | None]] = deque()
    try:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=initargs,
        ) as pool:

            def hand_out(count: int) -> None:
                for batch in islice(batches, count):
                    sent.append((batch, None))
                    sent[-1] = (batch, pool.submit(task, batch))

            with _frozen():  # the first tasks fork the workers, if it forks
                hand_out(ahead)
            while sent:
                handed = sent[0][1]
                assert handed is not None, "handed out, or the pool failed"
                result, peak = handed.result()
                sent.popleft()
                if peaks is not None:
                    peaks.append(peak)
                yield result  # first: a pool that fails as the next task is handed out
                hand_out(1)  # must not take this batch's results with it
    except (BrokenProcessPool, OSError) as exc:
        # Workers could not start or died (memory, a signal, a __main__ they cannot
        # import): the build is slower without them, never wrong.
        log.warning("worker processes failed (%s); reading the rest in this process", exc)
        for batch in itertools.chain((batch for batch, _ in sent), batches):
            yield here(batch)


def _pool_context() -> multiprocessing.context.BaseContext:
    """How to start the workers: forked from this process when it runs no other thread (a
    `feeds build`), else from a fork server (the watcher and the web server run threads).

    A forked worker starts at once, with every module loaded; one from the fork server
    first imports the package, a fifth of a second of a 10,000-article build. But a thread
    may hold a lock at the moment of a fork, and the child's copy would never be released.
    With no other thread there is no such lock, and no thread can start before the pool
    has forked its workers: the pool forks them before starting its own threads.
    """
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["feeds.build.ingest"])
    return context


@contextlib.contextmanager
def _frozen() -> Iterator[None]:
    """Keep what exists out of the collector's reach while workers are forked: a worker only
    reads what it inherits, and collecting would touch, hence copy, every page of it."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # this process's garbage is collected as before


_worker: tuple[ReadSettings, Path | None, ImageSigner | None] | None = None


def _start_worker(
    settings: ReadSettings, pages_dir: Path | None, images: ImageSigner | None
) -> None:
    global _worker
    _worker = (settings, pages_dir, images)
    # A terminal's Ctrl-C reaches every process of the group: the builder decides what it
    # means (finish the build, or stop it) and its workers go when it goes (below).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker waits for work on a pipe that its own process also holds open, so it would
    # never see its builder die (a SIGKILL, say): it would wait forever, or, busy, write
    # pages long after the next build began. It leaves with its builder instead: at once
    # when idle, else as soon as the page in hand is written whole (never a temp file).
    builder = multiprocessing.parent_process()
    if builder is not None:
        threading.Thread(target=_exit_with, args=(builder.sentinel,), daemon=True).start()


_builder_gone = threading.Event()
_in_batch = threading.Lock()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    _builder_gone.set()
    with _in_batch:
        os._exit(1)


def _read_batch(batch: Sequence[tuple[SourceFile, Before]]) -> tuple[Batch, int]:
    assert _worker is not None, "the pool initializer sets the settings"
    settings, pages_dir, images = _worker
    with _in_batch:
        read = read_files(batch, settings, pages_dir, images, stop=_builder_gone.is_set)
    return read, _peak_rss()


def _survey_batch(batch: Sequence[SourceFile]) -> tuple[tuple[list[Surveyed], float], int]:
    assert _worker is not None, "the pool initializer sets the settings"
    return _timed_survey(batch, _worker[0]), _peak_rss()


def _timed_survey(
    batch: Sequence[SourceFile], settings: ReadSettings
) -> tuple[list[Surveyed], float]:
    began = time.perf_counter()
    surveyed = survey_files(batch, settings)
    return surveyed, time.perf_counter() - began


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
