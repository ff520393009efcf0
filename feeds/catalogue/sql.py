"""What the catalogue's tables share in how they query SQLite."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

KEYS_PER_QUERY = 500  # keys bound in one `IN (...)`: well under SQLite's variable limit


def rows_for_keys(
    connection: sqlite3.Connection,
    select: str,
    keys: Iterable[str],
    before: Sequence[object] = (),
) -> Iterator[tuple[Any, ...]]:
    """The rows `select` gives for every key, a chunk of keys at a time: its WHERE clause
    holds `IN ({marks})`, filled with a placeholder for each key of the chunk, after the
    parameters `before` fills. The keys are taken a chunk at a time too: a build may ask
    for a million (every file it read)."""
    wanted = iter(keys)
    while chunk := list(itertools.islice(wanted, KEYS_PER_QUERY)):
        marks = ",".join("?" * len(chunk))
        yield from connection.execute(select.format(marks=marks), [*before, *chunk])


class StoredSet(AbstractSet[str]):
    """A set of strings kept in a temporary table of the connection, not in memory: what a
    build read or wrote of every article would take hundreds of megabytes as a Python set
    at a million articles. Temporary tables live in a file of their own, with a bounded
    cache, and end with the connection; making a set of a name empties that name's table.
    Its changes belong to the connection's transaction."""

    def __init__(self, connection: sqlite3.Connection, name: str) -> None:
        if not name.isidentifier():
            raise ValueError(f"not a table name: {name!r}")
        self._db = connection
        self._table = f"temp.{name}"
        connection.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {name} (item TEXT PRIMARY KEY) WITHOUT ROWID"
        )
        connection.execute(f"DELETE FROM {self._table}")  # noqa: S608 - a checked name
        self._count = 0

    def add(self, items: Iterable[str]) -> None:
        """Add these items (those already in the set are left as they are)."""
        cursor = self._db.executemany(
            f"INSERT OR IGNORE INTO {self._table} VALUES (?)",  # noqa: S608 - a checked name
            ((item,) for item in items),
        )
        self._count += cursor.rowcount

    def __contains__(self, item: object) -> bool:
        found = self._db.execute(
            f"SELECT 1 FROM {self._table} WHERE item = ?",  # noqa: S608 - a checked name
            (item,),
        ).fetchone()
        return found is not None

    def __iter__(self) -> Iterator[str]:
        items = self._db.execute(f"SELECT item FROM {self._table}")  # noqa: S608
        for chunk in iter(lambda: items.fetchmany(KEYS_PER_QUERY), []):
            for (item,) in chunk:
                yield item

    def __len__(self) -> int:
        return self._count

    @classmethod
    def _from_iterable(cls, items: Iterable[str]) -> frozenset[str]:  # type: ignore[override]
        """What a set operation (`&`, `-`, `|`) gives: a set in memory."""
        return frozenset(items)
