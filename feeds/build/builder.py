"""The one place that runs the stages in order: ingest, select, render, publish.

A build is incremental: the catalogue says which articles changed since the last one,
and only the pages and feeds that show them are rendered and written again. A feed whose
entries did not change keeps its bytes, so its ETag stays the same for the pollers.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Collection
from dataclasses import replace

from feeds.build.ingest import Ingested, Settled, ingest, survey
from feeds.build.lock import BuildNote, Interrupted
from feeds.build.plan import publish_build
from feeds.build.signatures import rules_signature
from feeds.catalogue.store import FILE_NAME, Catalogue, set_aside
from feeds.config import Config
from feeds.errors import PublishError
from feeds.tree.manifest import lists_nothing
from feeds.tree.report import BuildReport, Clock
from feeds.tree.status import FEEDS_ARTICLES, Progress, write_status
from feeds.tree.writer import (
    HALF_WAY,
    check_writable,
    tidy_interrupted,
)

# SQLite result codes that say the disk or the permissions failed, not the database file:
# the catalogue is fine; the build cannot go on.
_SQLITE_ENVIRONMENT = {
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PERM,
}

log = logging.getLogger("feeds")

FILLING = "fill the search index"  # the lap of a build that fills it (see SearchIndex.fill)
READING = "scan, read, parse, clean"  # the lap of a build that brings the catalogue up to date
SURVEYING = "survey the front matter"  # the lap of a first build that tells its feeds ahead


def build(
    config: Config,
    *,
    write: bool = True,
    progress: Progress | None = None,
    settled: Settled | None = None,
) -> BuildReport:
    """Bring the output tree up to date; with `write=False`, check everything, write nothing."""
    builder = Builder(config, write=write)
    try:
        return builder.build(progress=progress, settled=settled)
    finally:
        builder.close()


class Builder:
    """Builds one configuration again and again (the watcher's), keeping the catalogue open
    and its in-memory mirror warm between builds."""

    def __init__(self, config: Config, *, write: bool = True) -> None:
        # Archive documents only record what was published: a check, which publishes
        # nothing, has none to plan (and no catalogue that remembers them).
        self.config = config if write else replace(config, archives=False)
        self.write = write
        self.path = config.state.dir / FILE_NAME if write else None
        self._catalogue: Catalogue | None = None
        self._writable = False  # the tree took a probe file since the last failure

    def build(
        self,
        *,
        progress: Progress | None = None,
        settled: Settled | None = None,
        only: Collection[str] | None = None,
    ) -> BuildReport:
        """One build. `only`: the source paths events named (a full scan when None)."""
        if not self.write:
            return self._attempt(progress, settled, only)
        config = self.config
        if not self._writable:
            # Fail before anything is replaced when the tree cannot be written at all. (Once
            # is enough for a builder that keeps running, until a build fails.)
            for directory in (config.output.dir, config.state.dir):
                check_writable(directory)
            for directory in (config.output.dir / "articles", config.output.dir / "feeds"):
                if directory.is_dir():
                    check_writable(directory)
            self._writable = True
        note = BuildNote(config.state.dir)
        interrupted = note.begin()
        try:
            if interrupted is not None:
                self._tidy(interrupted)
                note.tidied()
            report = self._attempt(progress, settled, only)
        except BaseException:
            note.fail()  # the note stays: the next build tidies up after this one
            self._writable = False
            raise
        note.finish()
        return report

    def _attempt(
        self, progress: Progress | None, settled: Settled | None, only: Collection[str] | None
    ) -> BuildReport:
        try:
            return self._build(progress, settled, only)
        except sqlite3.DatabaseError as exc:
            self.close()
            if self.path is None:
                raise
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF in _SQLITE_ENVIRONMENT:
                raise PublishError(
                    f"{self.path}: cannot write the catalogue ({exc}): check that "
                    f"{self.path.parent} is writable and the disk has space; {HALF_WAY}"
                ) from exc
            # The catalogue is only a cache of what the files say: rebuild it from them.
            set_aside(self.path, exc)
            return self._build(progress, settled, None)
        except BaseException:
            self.close()  # uncommitted changes are gone: the mirror must go with them
            raise

    def _tidy(self, interrupted: Interrupted) -> None:
        """Clean up after a build that was killed: its temp files and unlisted pages.
        (Its worker processes left with it: see feeds.build.ingest.)"""
        output, state = self.config.output.dir, self.config.state.dir
        dirs = [output] if state.is_relative_to(output) else [output, state]
        removed, adopted = tidy_interrupted(output, dirs, interrupted.since_ns)
        if interrupted.failed and not (removed or adopted):
            return  # it stopped on an error, already reported, before writing anything
        log.warning(
            "an earlier build did not finish (pid %s): %d temp files and unlisted pages "
            "removed, %d files it wrote listed, to update or remove",
            ", ".join(str(pid) for pid in interrupted.builders) or "unknown",
            removed,
            adopted,
        )

    def close(self) -> None:
        """Close the catalogue (it is reopened by the next build)."""
        if self._catalogue is not None:
            self._catalogue.close()
            self._catalogue = None

    def _build(
        self, progress: Progress | None, settled: Settled | None, only: Collection[str] | None
    ) -> BuildReport:
        config, write = self.config, self.write
        clock = Clock()
        if self._catalogue is None:
            rules = rules_signature(config, make_key=write)
            self._catalogue = Catalogue.open(self.path, rules, search=config.site.search)
        catalogue = self._catalogue
        pages_dir = config.output.dir if write else None
        first = None
        if write and only is None and catalogue.fresh:
            first = self._feeds_first(catalogue, settled, progress, clock)
        ingested = ingest(config, catalogue, settled, progress, only, pages_dir)
        clock.lap(READING)
        report = _with_reading(publish_build(config, catalogue, ingested, write, clock), ingested)
        if write:
            catalogue.commit()  # only after publishing: a failed publish is retried
        if first is not None:
            report = report.after(first)
        report = replace(
            report,
            articles_found=ingested.found,
            deferred=ingested.deferred,
            warnings=ingested.skipped + report.warnings,
            timings=clock.timings,
        )
        if write:
            write_status(config.state.dir, report.status())
            if catalogue.search.pending:  # the feeds are out: now what search needs
                catalogue.fill_search()
                clock.lap(FILLING)
                report = replace(report, timings=clock.timings)
        return report

    def _feeds_first(
        self,
        catalogue: Catalogue,
        settled: Settled | None,
        progress: Progress | None,
        clock: Clock,
    ) -> BuildReport | None:
        """On the first build of a large archive, publish the feeds, and the pages of their
        entries, before the rest of the archive is cleaned: readers can subscribe as soon
        as the front matter is read. Nothing is published that the whole build would not
        publish too, and nothing links to a page not yet written. None when nothing is
        published so (too few files, feeds that filter on text, a tree that already
        publishes something, or a file that changed or failed since it was surveyed)."""
        config = self.config
        if not lists_nothing(config.output.dir):
            return None  # the whole build replaces what is published in one go
        surveyed = survey(config, settled, progress)
        clock.lap(SURVEYING)
        if surveyed is None:
            return None
        if surveyed.wanted is None:
            log.info("feeds published with the rest: two files claim an id a feed shows")
            return None
        wanted = surveyed.wanted
        feeds_progress = (
            None if progress is None else functools.partial(progress, stage=FEEDS_ARTICLES)
        )
        ingested = ingest(config, catalogue, settled, feeds_progress, wanted, config.output.dir)
        clock.lap(READING)
        if not catalogue.holds(wanted):
            log.info("feeds published with the rest: an article they show changed or failed")
            return None
        report = _with_reading(publish_build(config, catalogue, ingested, True, clock), ingested)
        catalogue.commit()
        log.info("feeds published; reading the rest of the archive")
        return replace(
            report,
            work={**report.work, SURVEYING: surveyed.seconds},
            worker_peak_rss=max(report.worker_peak_rss, surveyed.worker_peak_rss),
            feeds_out=clock.elapsed,
        )


def _with_reading(report: BuildReport, ingested: Ingested) -> BuildReport:
    """A publishing report with what reading the files did."""
    return replace(
        report,
        files_read=ingested.read,
        files_written=report.files_written + ingested.pages_written,
        work=ingested.work,
        worker_peak_rss=ingested.worker_peak_rss,
        head_images_dropped=ingested.head_images_dropped,
    )
