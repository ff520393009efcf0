"""What the catalogue's tables share in how they query SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
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
    parameters `before` fills."""
    wanted = list(keys)
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        marks = ",".join("?" * len(chunk))
        yield from connection.execute(select.format(marks=marks), [*before, *chunk])
