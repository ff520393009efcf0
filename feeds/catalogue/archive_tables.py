"""The catalogue's record of each feed's archive documents (RFC 5005; see feeds.build.archives):
which article went into which document, in SQLite beside the catalogue's own tables.

These tables are not derived from the article files, so unlike the rest of the catalogue
a change of rules keeps them: an archive document, once full, never changes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import NamedTuple

from feeds.catalogue.sql import rows_for_keys

ARCHIVE_SCHEMA = """
CREATE TABLE IF NOT EXISTS archive_feeds (
    slug TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    count INTEGER NOT NULL,
    shown TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS archived (
    slug TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (slug, seq),
    UNIQUE (slug, id)
);
"""


class ArchiveState(NamedTuple):
    """A feed's archive as the last build left it."""

    size: int  # entries per archive document: the feed's limit when its archive began
    total: int  # entries archived so far, numbered 0 .. total - 1
    shown: tuple[str, ...]  # ids of the entries its Atom document showed


class ArchiveTables:
    """Reads and writes the archive tables, in the catalogue's transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def states(self) -> dict[str, ArchiveState]:
        """Slug -> what its archive holds, for every feed that has one."""
        rows = self._db.execute("SELECT slug, size, count, shown FROM archive_feeds")
        return {
            slug: ArchiveState(size, count, tuple(json.loads(shown)))
            for slug, size, count, shown in rows
        }

    def holding(self, slug: str, ids: Iterable[str]) -> set[str]:
        """Which of these article ids a feed's archive already holds."""
        select = "SELECT id FROM archived WHERE slug = ? AND id IN ({marks})"
        return {id_ for (id_,) in rows_for_keys(self._db, select, ids, before=(slug,))}

    def append(self, slug: str, state: ArchiveState, appended: Iterable[str]) -> None:
        """Append these ids to a feed's archive; `state` is the archive after appending."""
        first = state.total - len(appended := list(appended))
        self._db.executemany(
            "INSERT INTO archived VALUES (?, ?, ?)",
            ((slug, first + offset, id_) for offset, id_ in enumerate(appended)),
        )
        self._db.execute(
            "INSERT OR REPLACE INTO archive_feeds VALUES (?, ?, ?, ?)",
            (slug, state.size, state.total, json.dumps(list(state.shown), ensure_ascii=False)),
        )

    def between(self, slug: str, start: int, stop: int) -> list[str]:
        """The ids a feed archived with sequence numbers start .. stop - 1, in order."""
        rows = self._db.execute(
            "SELECT id FROM archived WHERE slug = ? AND seq >= ? AND seq < ? ORDER BY seq",
            (slug, start, stop),
        )
        return [row[0] for row in rows]

    def forget(self, slug: str) -> None:
        """A feed that is no longer published takes its archive with it."""
        self._db.execute("DELETE FROM archived WHERE slug = ?", (slug,))
        self._db.execute("DELETE FROM archive_feeds WHERE slug = ?", (slug,))
