"""The incremental catalogue: every source file's stat, content digest and parsed article
(or error), kept in SQLite under the state dir, so that a build re-reads only what changed.

The catalogue is a cache of what the articles say, never the only copy of it: a missing,
damaged or outdated one is set aside and rebuilt from the files. What the files cannot say,
when a build first saw each change of content (an entry's `updated`) and the archive
documents' record, outlives a change of rules; a lost catalogue forgets it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

from feeds.catalogue import placements
from feeds.catalogue.archive_tables import ARCHIVE_SCHEMA, ArchiveTables
from feeds.catalogue.last_build import (
    LAST_BUILD_SCHEMA,
    LAST_BUILD_TABLES,
    LastBuild,
    read_last_build,
    write_last_build,
)
from feeds.catalogue.records import (
    LISTING_COLUMNS,
    Change,
    Listing,
    Record,
    article_from_json,
    listing_from_row,
    paths_text,
)
from feeds.catalogue.search_index import DROP as DROP_SEARCH
from feeds.catalogue.search_index import SCHEMA as SEARCH_SCHEMA
from feeds.catalogue.search_index import SearchIndex
from feeds.catalogue.sql import StoredSet, rows_for_keys
from feeds.model import Article, CategoryPath, Fragments
from feeds.text import html_text

log = logging.getLogger("feeds")

SCHEMA_VERSION = "11"
FILE_NAME = "catalogue.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL,
    error TEXT,
    warnings TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS articles (
    source TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    published REAL NOT NULL,
    updated REAL NOT NULL,
    categories TEXT NOT NULL,
    page TEXT NOT NULL,
    author TEXT,
    title TEXT NOT NULL,
    digest TEXT NOT NULL,
    data TEXT NOT NULL,
    content TEXT NOT NULL,
    atom TEXT,
    rss TEXT,
    json TEXT
);
-- Covering indexes: for the articles that share an id (shared_ids), and for the newest
-- change of the site (newest_update).
CREATE INDEX IF NOT EXISTS articles_by_id ON articles (id, source);
CREATE INDEX IF NOT EXISTS articles_by_update ON articles (updated, source);
-- The sources with an error or warnings, which every build reports: most have none, so
-- that a build reads these rows without passing over every source.
CREATE INDEX IF NOT EXISTS sources_with_problems ON sources (source)
    WHERE error IS NOT NULL OR warnings != '[]';
-- The ids more than one article claims: found as each article is recorded, so that a
-- build never reads every id to look for them.
CREATE TABLE IF NOT EXISTS shared_ids (id TEXT PRIMARY KEY) WITHOUT ROWID;
"""
# Read through the index sources_with_problems, whose condition it repeats.
_PROBLEMS = (
    "SELECT error, warnings FROM sources"
    " WHERE error IS NOT NULL OR warnings != '[]' ORDER BY source"
)
# When a build first saw each file's content change (see feeds.build.workers): not derived from the
# files, so unlike the tables above a change of rules keeps it. Only a lost catalogue loses
# it, and then those articles' `updated` goes back to their `date`.
_CHANGES_SCHEMA = """
CREATE TABLE IF NOT EXISTS changes (
    source TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    seen REAL NOT NULL
);
"""


class Known(NamedTuple):
    """What the catalogue knows about one source file."""

    size: int
    mtime_ns: int
    digest: str  # of the file's bytes
    error: str | None  # the current version's error; a last good article may still be kept


class Catalogue:
    """One SQLite database; every change is written by `commit()` in one transaction."""

    def __init__(self, connection: sqlite3.Connection, fresh: bool, *, search: bool) -> None:
        self._db = connection
        self.fresh = fresh  # True when it started empty: everything must be published
        # The ids articles gave up since the last commit (their file went, or says another
        # id now): their pages may be published no more.
        self.released: set[str] = set()
        self._texts: dict[tuple[str, str], str] = {}  # (source, digest) -> body text
        self.archives = ArchiveTables(connection)
        self.search = SearchIndex(connection, refill=fresh, enabled=search)
        self._logged = not fresh  # the write-ahead log is on (see commit)

    @classmethod
    def open(cls, path: Path | None, rules: str, *, search: bool) -> Catalogue:
        """Open (or create) the catalogue; an unusable or outdated one is replaced.
        `search`: keep the search index (`rules` must change with it)."""
        if path is None:
            return cls._create(":memory:", rules, search)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            catalogue = cls._create(str(path), rules, search)
        except sqlite3.DatabaseError as exc:
            set_aside(path, exc)
            return cls._create(str(path), rules, search)
        return catalogue

    @classmethod
    def _create(cls, where: str, rules: str, search: bool) -> Catalogue:
        connection = sqlite3.connect(where, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(
                _SCHEMA
                + placements.SCHEMA
                + LAST_BUILD_SCHEMA
                + ARCHIVE_SCHEMA
                + _CHANGES_SCHEMA
                + SEARCH_SCHEMA
            )
            stored = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            wanted = {"schema": SCHEMA_VERSION, "rules": rules}
            if {key: stored.get(key) for key in wanted} != wanted:
                if stored:
                    log.info("catalogue: cleaning rules or format changed; re-reading every file")
                # What is stored was derived differently, perhaps in other tables: start over.
                # One transaction: a crash half-way must not leave new meta on old tables.
                derived = ("meta", "sources", "articles", "shared_ids", *LAST_BUILD_TABLES)
                connection.executescript(
                    "BEGIN; "
                    + "".join(f"DROP TABLE {table}; " for table in derived)
                    + f"{DROP_SEARCH} {placements.DROP} {_SCHEMA} {placements.SCHEMA} "
                    + f"{LAST_BUILD_SCHEMA} {SEARCH_SCHEMA} "
                    f"INSERT INTO meta VALUES ('schema', '{SCHEMA_VERSION}'), ('rules', '{rules}');"
                    " COMMIT;"
                )
                fresh = True
            else:
                fresh = connection.execute("SELECT 1 FROM sources LIMIT 1").fetchone() is None
            if fresh and where != ":memory:":
                # A cold build writes the whole archive in one transaction: with a rollback
                # journal its pages go straight into the file, where the write-ahead log
                # would take them twice (the log, then the checkpoint at commit). The log
                # is back for every later, small commit (see commit()).
                connection.execute("PRAGMA journal_mode=DELETE")
            connection.execute("BEGIN")
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return cls(connection, fresh, search=search)

    def recorded(self) -> Iterator[tuple[str, int, int]]:
        """Every recorded source file's (source, size, mtime_ns), in the order of the
        relative paths (as a scan lists them): read as it is compared, never held whole,
        and as SQLite's rows, which a restart reads a million of. (SQLite compares the UTF-8
        bytes, which order as Python orders the strings: by code point.)"""
        rows: Iterator[tuple[str, int, int]] = self._db.execute(
            "SELECT source, size, mtime_ns FROM sources ORDER BY source"
        )
        return rows

    def known_of(self, sources: Iterable[str]) -> dict[str, Known]:
        """What is known of these source files, by source (those recorded)."""
        select = (
            "SELECT source, size, mtime_ns, digest, error FROM sources WHERE source IN ({marks})"
        )
        rows = rows_for_keys(self._db, select, sources)
        return {
            source: Known(size, mtime_ns, digest, error)
            for source, size, mtime_ns, digest, error in rows
        }

    def holds(self, stats: Mapping[str, tuple[int, int]]) -> bool:
        """Whether every one of these sources has an article, read from the file with this
        (size, mtime_ns)."""
        known = self.known_of(stats)
        return len(known) == len(stats) and all(
            found.error is None and (found.size, found.mtime_ns) == stats[source]
            for source, found in known.items()
        )

    def recorded_under(self, directory: str) -> list[str]:
        """The recorded sources inside a directory (relative, without a trailing slash)."""
        # Every path that starts with "dir/" sorts between "dir/" and "dir0" ("0" follows "/").
        rows = self._db.execute(
            "SELECT source FROM sources WHERE source >= ? AND source < ?",
            (directory + "/", directory + "0"),
        )
        return [source for (source,) in rows]

    def count_recorded(self) -> int:
        """How many source files are recorded."""
        count: int = self._db.execute("SELECT COUNT(*) FROM sources").fetchone()[0]
        return count

    def record_article(
        self,
        source: str,
        stat: tuple[int, int],
        digest: str,
        record: Record,
        warnings: Iterable[str],
    ) -> None:
        """A file that parsed: its stat, digest, article and serialised entry replace the old."""
        self._record_source(source, stat, digest, None, warnings)
        if not self.fresh:  # nothing is indexed yet in a first build, which reads each file once
            self.search.remove(source)  # while the old article is there to say what it indexed
        listing, fragments = record.listing, record.template
        old = self._unplace(source)
        templates = (
            (None, None, None)
            if fragments is None
            else (fragments.atom, fragments.rss, fragments.json)
        )
        self._db.execute(
            "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *listing[:4],
                paths_text(listing.categories),
                listing.page,
                listing.author,
                listing.title,
                listing.digest,
                record.data,
                record.content,
                *templates,
            ),
        )
        placements.place(
            self._db, source, listing.id, listing.published, paths_text(listing.categories)
        )
        self._count_claims(listing.id)
        if old is not None and old != listing.id:
            self._release(old)
        self.search.add(listing, record.text)

    def record_error(self, source: str, stat: tuple[int, int], digest: str, error: str) -> None:
        """A file that failed: its last good article, if any, stays published."""
        self._record_source(source, stat, digest, error, ())

    def touch(self, source: str, stat: tuple[int, int]) -> None:
        """Same bytes, new stat (the file was touched or copied): nothing else changes."""
        self._db.execute(
            "UPDATE sources SET size = ?, mtime_ns = ? WHERE source = ?", (*stat, source)
        )

    def changes_of(self, sources: Iterable[str]) -> dict[str, Change]:
        """The last change of content seen in each of these files, by source, for those that
        had one."""
        select = "SELECT source, digest, seen FROM changes WHERE source IN ({marks})"
        rows = rows_for_keys(self._db, select, sources)
        return {source: Change(digest, seen) for source, digest, seen in rows}

    def record_change(self, source: str, change: Change) -> None:
        """Remember when a file's current content was first seen (kept across rule changes)."""
        self._db.execute("INSERT OR REPLACE INTO changes VALUES (?, ?, ?)", (source, *change))

    def forget(self, source: str) -> None:
        """The file is gone: so is its article."""
        self.search.remove(source)
        old = self._unplace(source)
        self._db.execute("DELETE FROM sources WHERE source = ?", (source,))
        self._db.execute("DELETE FROM articles WHERE source = ?", (source,))
        if old is not None:
            self._release(old)
        self._db.execute("DELETE FROM changes WHERE source = ?", (source,))

    def _unplace(self, source: str) -> str | None:
        """Take a source's article out of the category tree; its id, None if it had none."""
        row = self._db.execute(
            "SELECT id, published, categories FROM articles WHERE source = ?", (source,)
        ).fetchone()
        if row is None:
            return None
        placements.unplace(self._db, source, *row)
        return str(row[0])

    def _release(self, id_: str) -> None:
        """An article gave up `id_`."""
        self._count_claims(id_)
        self.released.add(id_)

    def _count_claims(self, id_: str) -> None:
        """Keep shared_ids in step with the articles that claim `id_`."""
        claims = self._db.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM articles WHERE id = ? LIMIT 2)", (id_,)
        ).fetchone()[0]
        if claims > 1:
            self._db.execute("INSERT OR IGNORE INTO shared_ids VALUES (?)", (id_,))
        else:
            self._db.execute("DELETE FROM shared_ids WHERE id = ?", (id_,))

    def _record_source(
        self,
        source: str,
        stat: tuple[int, int],
        digest: str,
        error: str | None,
        warnings: Iterable[str],
    ) -> None:
        listed = list(warnings)
        self._db.execute(
            "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?)",
            (
                source,
                *stat,
                digest,
                error,
                json.dumps(listed, ensure_ascii=False) if listed else "[]",
            ),
        )

    def listings(self) -> list[Listing]:
        """Every kept article, without its body, newest first (the order feeds list them in):
        read whole, for what needs every article at once (archives)."""
        return list(self.newest_under(None))

    def listings_of(self, sources: Iterable[str]) -> Iterator[Listing]:
        """The listings of these sources (those kept), in no particular order; read as they
        are asked for."""
        rows = rows_for_keys(
            self._db, f"SELECT {_LISTING} FROM articles WHERE source IN ({{marks}})", sources
        )
        parsed: dict[str, tuple[CategoryPath, ...]] = {}
        return (listing_from_row(row, parsed) for row in rows)

    def claims(self) -> Iterator[tuple[str, str]]:
        """Every article's id and source, in the order of ids, then of sources (so the first
        of an id is the one that keeps it); read from an index as they are asked for."""
        rows = self._db.execute("SELECT id, source FROM articles ORDER BY id, source")
        try:
            yield from rows
        finally:
            rows.close()

    def owners(self, ids: Iterable[str]) -> dict[str, str]:
        """The source that keeps each of these ids (the first, of those that claim it), for
        those some article claims."""
        select = "SELECT id, MIN(source) FROM articles WHERE id IN ({marks}) GROUP BY id"
        return dict(rows_for_keys(self._db, select, ids))

    def newest_under(self, node: CategoryPath | None) -> Iterator[Listing]:
        """The articles under a category node (None: every article), newest first, as feeds
        list them, duplicate ids included; read as they are asked for."""
        return placements.newest_under(self._db, node)

    def category_nodes(self) -> list[CategoryPath]:
        """Every node of the category tree that some article is under (each prefix of each
        path), sorted; duplicate ids included."""
        return placements.nodes_in_use(self._db)

    def sharing_ids(self) -> list[Listing]:
        """The articles whose id another article claims too, in the order of their sources."""
        rows = self._db.execute(
            f"SELECT {_LISTING} FROM articles WHERE id IN (SELECT id FROM shared_ids)"
            " ORDER BY source"
        )
        parsed: dict[str, tuple[CategoryPath, ...]] = {}
        return [listing_from_row(row, parsed) for row in rows]

    def newest_update(self, leaving_out: Collection[str]) -> float | None:
        """The newest `updated` of the articles but those of the sources `leaving_out`;
        None when there is none."""
        rows = self._db.execute("SELECT updated, source FROM articles ORDER BY updated DESC")
        try:
            return next((float(u) for u, source in rows if source not in leaving_out), None)
        finally:
            rows.close()

    def articles(self, sources: Iterable[str]) -> Iterator[Article]:
        """The full articles of these sources (in no particular order)."""
        select = "SELECT data, content FROM articles WHERE source IN ({marks})"
        for data, content in rows_for_keys(self._db, select, sources):
            yield article_from_json(data, content)

    def entry_templates(
        self, sources: Iterable[str], make: Callable[[Article], Fragments]
    ) -> dict[str, tuple[Fragments, str]]:
        """The serialised entries of these sources with a hole for the body, and the body, by
        source. An entry not serialised yet is made by `make` from its article, and kept."""
        found: dict[str, tuple[Fragments, str]] = {}
        select = (
            "SELECT source, content, atom, rss, json, updated, data FROM articles"
            " WHERE source IN ({marks})"
        )
        made: list[tuple[str, str, str, str]] = []
        for source, content, atom, rss, json_item, updated, data in rows_for_keys(
            self._db, select, sources
        ):
            if atom is None:
                template = make(article_from_json(data, content))
                made.append((template.atom, template.rss, template.json, source))
            else:
                template = Fragments(atom, rss, json_item, updated)
            found[source] = (template, content)
        self._db.executemany(
            "UPDATE articles SET atom = ?, rss = ?, json = ? WHERE source = ?", made
        )
        return found

    def body_text(self, listing: Listing) -> str:
        """An article's body as text, for keyword filters (kept until the article changes)."""
        key = (listing.source, listing.digest)
        text = self._texts.get(key)
        if text is None:
            row = self._db.execute(
                "SELECT content FROM articles WHERE source = ?", (listing.source,)
            ).fetchone()
            if len(self._texts) >= 4096:  # bounded: a build of the whole archive would not fit
                self._texts.clear()
            text = self._texts[key] = html_text(row[0]) if row is not None else ""
        return text

    def problems(self) -> tuple[list[str], list[str]]:
        """The current errors and warnings of every source, in source order."""
        errors: list[str] = []
        warnings: list[str] = []
        rows = self._db.execute(_PROBLEMS)
        for error, listed in rows:
            if error:
                errors.append(error)
            warnings.extend(json.loads(listed))
        return errors, warnings

    def last_build(self) -> LastBuild:
        """What the last build that published left for this one to compare with."""
        return read_last_build(self._db)

    def record_last_build(self, last: LastBuild) -> None:
        """Keep what this build published from (committed with the rest, by commit())."""
        write_last_build(self._db, last)

    def commit(self) -> None:
        """Make this build's changes durable, all at once."""
        self.search.flush()
        self._db.execute("COMMIT")
        self.released.clear()
        if not (self._logged or self.search.pending):
            self._db.execute("PRAGMA journal_mode=WAL")
            self._logged = True
        self._db.execute("BEGIN")
        self.fresh = False

    def build_set(self, name: str) -> StoredSet:
        """An empty set of strings kept in this catalogue's connection (see StoredSet), for
        what a build notes of every article it reads."""
        return StoredSet(self._db, name)

    def fill_search(self) -> None:
        """Fill the search index from the articles stored, and commit (see SearchIndex.fill):
        after a first build has published."""
        self.search.fill()
        self.commit()

    def close(self) -> None:
        """Drop uncommitted changes and close."""
        with closing(self._db):
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")


_LISTING = ", ".join(LISTING_COLUMNS)


def set_aside(path: Path, exc: Exception) -> None:
    """Move a damaged catalogue out of the way (kept beside it, for a post-mortem)."""
    log.warning("catalogue %s is unusable (%s); rebuilding it from the articles", path, exc)
    for suffix in ("", "-wal", "-shm"):
        damaged = path.with_name(path.name + suffix)
        if damaged.exists():
            damaged.replace(damaged.with_name(damaged.name + ".damaged"))
