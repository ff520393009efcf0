"""Bring the catalogue up to date with the source dir: stat every file, read only the
new and changed ones, forget the deleted ones."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass

from feeds.articles import parse_article
from feeds.catalogue import Catalogue, Known
from feeds.clean import clean_body
from feeds.config import Config
from feeds.errors import ArticleError
from feeds.model import Article
from feeds.render import Fragments, render_entry
from feeds.sources import SourceFile, read_source, scan_sources, stat_sources

Progress = Callable[[int, int], None]  # called with (files read, files to read)
Settled = Callable[[SourceFile], bool]  # False: the file may still be being written


@dataclass(frozen=True)
class Outcome:
    """What reading one file gave: an article or an error, plus its digest."""

    source: str
    stat: tuple[int, int]  # (size, mtime_ns) of the version read
    digest: str  # of the bytes; "" when they could not be read
    article: Article | None
    fragments: Fragments | None  # the article's entry, serialised for each feed format
    warnings: tuple[str, ...]
    error: str | None


@dataclass(frozen=True)
class Ingested:
    """What a scan found and did."""

    found: int  # article files in the source dir
    read: int  # files read this time
    changed: frozenset[str]  # sources whose article appeared, changed or went away
    deferred: int  # files left for later because they may still be being written
    skipped: tuple[str, ...]  # why some directory entries are not articles


def read_file(file: SourceFile, config: Config) -> Outcome:
    """Read, parse and clean one file. Never raises for a bad file: the error is the outcome."""
    stat = (file.size, file.mtime_ns)
    try:
        data = read_source(file, config.source.max_bytes)
    except ArticleError as exc:
        # No digest: an unreadable file is tried again at every scan, since fixing its
        # permissions does not change its size or modification time.
        return Outcome(file.source, (-1, -1), "", None, None, (), str(exc))
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    try:
        parsed = parse_article(data, file.source, timezone=config.source.timezone, mtime=file.mtime)
        body = clean_body(
            parsed.body,
            base_url=parsed.link or config.site.base_url,
            remove=config.clean.remove,
            summary_length=config.clean.summary_length,
        )
    except ArticleError as exc:
        return Outcome(file.source, stat, digest, None, None, (), str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug on one file must not stop the others
        error = f"{file.source}: unexpected error: {exc!r}; please report it"
        return Outcome(file.source, stat, digest, None, None, (), error)
    article = Article.from_parts(parsed, body)
    fragments = render_entry(config.site, article)
    return Outcome(file.source, stat, digest, article, fragments, parsed.warnings, None)


def ingest(
    config: Config,
    catalogue: Catalogue,
    settled: Settled | None = None,
    progress: Progress | None = None,
    only: Collection[str] | None = None,
) -> Ingested:
    """Scan the source dir (or just the paths in `only`) and record every change in the
    catalogue (not yet committed)."""
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
    to_read: list[SourceFile] = []
    waiting: set[str] = set()  # changed, but perhaps still being written
    for file in scan.files:
        before = known.get(file.source)
        if before is not None and (before.size, before.mtime_ns) == (file.size, file.mtime_ns):
            continue
        if settled is not None and not settled(file):
            waiting.add(file.source)
            continue
        to_read.append(file)
    changed: set[str] = set()
    for done, file in enumerate(to_read, start=1):
        if _record(catalogue, read_file(file, config), known.get(file.source)):
            changed.add(file.source)
        if progress is not None:
            progress(done, len(to_read))
    for source in gone:
        catalogue.forget(source)
        changed.add(source)
    found = len(scan.files) if looked is None else len(catalogue.known().keys() | waiting)
    return Ingested(found, len(to_read), frozenset(changed), len(waiting), scan.skipped)


def _record(catalogue: Catalogue, outcome: Outcome, before: Known | None) -> bool:
    """Store one outcome; True when what is published from the file may have changed."""
    if before is not None and outcome.digest and outcome.digest == before.digest:
        catalogue.touch(outcome.source, outcome.stat)  # same bytes: nothing to redo
        return False
    if outcome.article is not None and outcome.fragments is not None:
        catalogue.record_article(
            outcome.source,
            outcome.stat,
            outcome.digest,
            outcome.article,
            outcome.fragments,
            outcome.warnings,
        )
        return True
    assert outcome.error is not None
    catalogue.record_error(outcome.source, outcome.stat, outcome.digest, outcome.error)
    return False  # the last good article, if any, stays as it was
