"""Bring the catalogue up to date with the source dir: stat every file, read only the
new and changed ones, forget the deleted ones.

A large batch of files (a cold build) is read, parsed, cleaned, serialised and its pages
written by a pool of worker processes, one per core; the process that owns the catalogue
only stores what they send back, as it arrives, so memory does not grow with the archive.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import resource
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from feeds.articles import parse_article
from feeds.catalogue import Catalogue, Entry, encode
from feeds.clean import clean_body
from feeds.config import Config
from feeds.errors import ArticleError
from feeds.images import ImageSigner, image_signer
from feeds.model import Article
from feeds.pages import render_article_page
from feeds.publish import Document, write_if_changed
from feeds.render import entry_template
from feeds.sources import SourceFile, read_source, scan_sources, stat_sources

Progress = Callable[[int, int], None]  # called with (files read, files to read)
Settled = Callable[[SourceFile], bool]  # False: the file may still be being written

log = logging.getLogger("feeds")

STAGES = ("read", "front matter", "clean", "render", "publish")
POOL_FROM = 200  # files to read before worker processes pay for their start-up
BATCH = 32  # files per task sent to a worker


@dataclass(frozen=True)
class Outcome:
    """What reading one file gave: an article or an error, plus its digest."""

    source: str
    stat: tuple[int, int]  # (size, mtime_ns) of the version read
    digest: str  # of the bytes; "" when they could not be read
    entry: Entry | None  # the article, encoded for the catalogue
    warnings: tuple[str, ...] = ()
    error: str | None = None
    unchanged: bool = False  # same bytes as the catalogue's version: nothing was parsed
    page: str | None = None  # the permalink page, relative to the output dir, when handled
    page_written: bool = False  # False when the page was already there, byte for byte
    work: tuple[float, ...] = ()  # seconds spent in each of STAGES, for the benchmark


@dataclass(frozen=True)
class Ingested:
    """What a scan found and did."""

    found: int  # article files in the source dir
    read: int  # files read this time
    changed: frozenset[str]  # sources whose article appeared, changed or went away
    deferred: int  # files left for later because they may still be being written
    skipped: tuple[str, ...]  # why some directory entries are not articles
    pages: frozenset[str]  # permalink pages already written, relative to the output dir
    pages_written: int  # how many of them had new bytes
    work: dict[str, float]  # seconds per stage of reading, summed over every process
    worker_peak_rss: int  # bytes, the largest worker process's peak (0: no workers)


def read_file(
    file: SourceFile,
    config: Config,
    known_digest: str | None = None,
    pages_dir: Path | None = None,
    images: ImageSigner | None = None,
) -> Outcome:
    """Read, parse, clean and serialise one file, and write its page when `pages_dir` is
    given; link its images through the proxy when `images` is given. Never raises for a
    bad file: the error is the outcome."""
    stat = (file.size, file.mtime_ns)
    laps = _Laps()
    try:
        data = read_source(file, config.source.max_bytes)
    except ArticleError as exc:
        # No digest: an unreadable file is tried again at every scan, since fixing its
        # permissions does not change its size or modification time.
        return Outcome(file.source, (-1, -1), "", None, error=str(exc))
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    if digest == known_digest:
        return Outcome(file.source, stat, digest, None, unchanged=True)
    laps.lap()
    try:
        parsed = parse_article(data, file.source, timezone=config.source.timezone, mtime=file.mtime)
        if images is not None and parsed.image is not None:
            parsed = replace(parsed, image=images.rewrite(parsed.image))
        laps.lap()
        body = clean_body(
            parsed.body,
            base_url=parsed.link or config.site.base_url,
            remove=config.clean.remove,
            summary_length=config.clean.summary_length,
            image_url=None if images is None else images.rewrite,
        )
        laps.lap()
        article = Article.from_parts(parsed, body)
        # Serialised here only when archives will want every entry; else the few entries
        # that make it into a feed are serialised when first needed (see Catalogue.fragments).
        template = entry_template(config.site, article) if config.archives else None
        entry = encode(file.source, article, template)
    except ArticleError as exc:
        return Outcome(file.source, stat, digest, None, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug on one file must not stop the others
        error = f"{file.source}: unexpected error: {exc!r}; please report it"
        return Outcome(file.source, stat, digest, None, error=error)
    if pages_dir is None:
        laps.lap()
        return Outcome(file.source, stat, digest, entry, parsed.warnings, work=laps.seconds)
    page = entry.summary.page
    html = render_article_page(config.site, article, config.source.timezone)
    laps.lap()
    # Not listed in the manifest until the build publishes: a new page is written in place.
    document = Document(html, article.updated.timestamp())
    written = write_if_changed(pages_dir, page, document, unlisted=True)
    laps.lap()
    return Outcome(
        file.source,
        stat,
        digest,
        entry,
        parsed.warnings,
        page=page,
        page_written=written,
        work=laps.seconds,
    )


class _Laps:
    """Seconds between successive laps, in STAGES order: cheap enough to always run."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self._seconds: list[float] = []

    def lap(self) -> None:
        now = time.perf_counter()
        self._seconds.append(now - self._last)
        self._last = now

    @property
    def seconds(self) -> tuple[float, ...]:
        return tuple(self._seconds)


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
    known = catalogue.known()
    looked = (
        None if only is None else stat_sources(config.source.dir, only, config.source.extensions)
    )
    if looked is None:
        scan = scan_sources(config.source.dir, config.source.extensions)
        gone = known.keys() - {file.source for file in scan.files}
    else:
        scan, missing = looked
        prefixes = tuple(m + "/" for m in missing)  # a deleted directory takes its files along
        gone = {s for s in known if s in missing or s.startswith(prefixes)}
    to_read: list[tuple[SourceFile, str | None]] = []
    waiting: set[str] = set()  # changed, but perhaps still being written
    for file in scan.files:
        before = known.get(file.source)
        if before is not None and (before.size, before.mtime_ns) == (file.size, file.mtime_ns):
            continue
        if settled is not None and not settled(file):
            waiting.add(file.source)
            continue
        to_read.append((file, before.digest if before is not None else None))
    changed: set[str] = set()
    pages: set[str] = set()
    pages_written = 0
    work = dict.fromkeys(STAGES, 0.0)
    peaks = [0]
    images = image_signer(config, make_key=pages_dir is not None)  # `feeds check` makes none
    reading = _outcomes(to_read, config, pages_dir, images, peaks)
    for done, outcome in enumerate(reading, start=1):
        for stage, seconds in zip(STAGES, outcome.work, strict=False):
            work[stage] += seconds
        if _record(catalogue, outcome):
            changed.add(outcome.source)
        if outcome.page is not None:
            pages.add(outcome.page)
            pages_written += outcome.page_written
        if progress is not None:
            progress(done, len(to_read))
    for source in gone:
        catalogue.forget(source)
        changed.add(source)
    found = len(scan.files) if looked is None else len(catalogue.known().keys() | waiting)
    return Ingested(
        found,
        len(to_read),
        frozenset(changed),
        len(waiting),
        scan.skipped,
        frozenset(pages),
        pages_written,
        work,
        max(peaks),
    )


def _record(catalogue: Catalogue, outcome: Outcome) -> bool:
    """Store one outcome; True when what is published from the file may have changed."""
    if outcome.unchanged:
        catalogue.touch(outcome.source, outcome.stat)  # same bytes: nothing to redo
        return False
    if outcome.entry is not None:
        catalogue.record_article(
            outcome.source, outcome.stat, outcome.digest, outcome.entry, outcome.warnings
        )
        return True
    assert outcome.error is not None
    catalogue.record_error(outcome.source, outcome.stat, outcome.digest, outcome.error)
    return False  # the last good article, if any, stays as it was


def _outcomes(
    to_read: Sequence[tuple[SourceFile, str | None]],
    config: Config,
    pages_dir: Path | None,
    images: ImageSigner | None,
    peaks: list[int],
) -> Iterator[Outcome]:
    """Read the files here, or in worker processes when there are enough of them."""
    workers = os.cpu_count() or 1
    if len(to_read) < POOL_FROM or workers < 2:
        for file, digest in to_read:
            yield read_file(file, config, digest, pages_dir, images)
        return
    batches = [to_read[i : i + BATCH] for i in range(0, len(to_read), BATCH)]
    context = _pool_context()
    finished = 0
    try:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(config, pages_dir, images),
        ) as pool:
            with _frozen():
                results = pool.map(_read_batch, batches)  # forks the workers, if it forks
            for outcomes, peak in results:
                finished += 1
                peaks.append(peak)
                yield from outcomes
    except (BrokenProcessPool, OSError) as exc:
        # Workers could not start or died (memory, a signal, a __main__ they cannot
        # import): the build is slower without them, never wrong.
        log.warning("worker processes failed (%s); reading the rest in this process", exc)
        for batch in batches[finished:]:
            for file, digest in batch:
                yield read_file(file, config, digest, pages_dir, images)


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
    context.set_forkserver_preload(["feeds.ingest"])
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


_worker: tuple[Config, Path | None, ImageSigner | None] | None = None


def _start_worker(config: Config, pages_dir: Path | None, images: ImageSigner | None) -> None:
    global _worker
    _worker = (config, pages_dir, images)
    # A worker waits for work on a pipe that its own process also holds open, so it would
    # never see its builder die (a SIGKILL, say): it would wait forever, or, busy, write
    # pages long after the next build began. It leaves with its builder instead: at once
    # when idle, else as soon as the file in hand is written whole (never a temp file).
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


def _read_batch(batch: Sequence[tuple[SourceFile, str | None]]) -> tuple[list[Outcome], int]:
    assert _worker is not None, "the pool initializer sets the configuration"
    config, pages_dir, images = _worker
    outcomes = []
    with _in_batch:
        for file, digest in batch:
            if _builder_gone.is_set():
                break
            outcomes.append(read_file(file, config, digest, pages_dir, images))
    return outcomes, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
