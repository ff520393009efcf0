"""Where each article sits in the category tree, in the order feeds list articles: a feed's
newest entries are read from the front of its nodes' lists, not chosen from every article
of the archive, so that choosing them costs what a feed shows, whatever the archive holds.

An article is placed under every node of its category paths (each prefix of each path,
as feeds match them) and under the root, which every feed without categories lists.
Rows are ordered by node, then as feeds list articles: newest first (`age` is the
publishing time negated), then by id, then by source. The catalogue keeps them in step
with its articles, in the same transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from feeds.catalogue.records import (
    LISTING_COLUMNS,
    PATH_SEP,
    Listing,
    listing_from_row,
    paths_from_text,
)
from feeds.model import CategoryPath

ROOT = ""  # the node every article is under: a name is never empty

SCHEMA = """
CREATE TABLE IF NOT EXISTS placements (
    node TEXT NOT NULL,  -- a path's names joined by U+001F, as in articles.categories
    age REAL NOT NULL,  -- minus the publishing time: ascending is newest first
    id TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (node, age, id, source)
) WITHOUT ROWID;
"""
DROP = "DROP TABLE IF EXISTS placements;"

_PLACE = "INSERT INTO placements VALUES (?, ?, ?, ?)"
_UNPLACE = "DELETE FROM placements WHERE node = ? AND age = ? AND id = ? AND source = ?"
_NEWEST_UNDER = (
    f"SELECT {', '.join('a.' + column for column in LISTING_COLUMNS)}"
    " FROM placements AS p JOIN articles AS a ON a.source = p.source"
    " WHERE p.node = ? ORDER BY p.age, p.id, p.source"
)
# Every node in use, each found by one search of the index (a loose index scan), not by
# reading the rows of every article under it.
_NODES = """
WITH RECURSIVE found(node) AS (
    SELECT MIN(node) FROM placements WHERE node > ''
    UNION ALL
    SELECT (SELECT MIN(node) FROM placements WHERE node > found.node) FROM found
    WHERE found.node IS NOT NULL
)
SELECT node FROM found WHERE node IS NOT NULL
"""


def place(db: sqlite3.Connection, source: str, id_: str, published: float, paths: str) -> None:
    """Place an article (its category paths as articles.categories holds them)."""
    db.executemany(_PLACE, _rows(source, id_, published, paths))


def unplace(db: sqlite3.Connection, source: str, id_: str, published: float, paths: str) -> None:
    """Take out what `place` put in, with the same values."""
    db.executemany(_UNPLACE, _rows(source, id_, published, paths))


def _rows(source: str, id_: str, published: float, paths: str) -> list[tuple[str, float, str, str]]:
    nodes = {ROOT}
    for path in paths_from_text(paths):
        nodes.update(PATH_SEP.join(path[:depth]) for depth in range(1, len(path) + 1))
    return [(node, -published, id_, source) for node in nodes]


def newest_under(db: sqlite3.Connection, node: CategoryPath | None) -> Iterator[Listing]:
    """The articles under a category node (None: every article), newest first, as feeds
    list them; read as they are asked for."""
    key = ROOT if node is None else PATH_SEP.join(node)
    cursor = db.execute(_NEWEST_UNDER, (key,))
    parsed: dict[str, tuple[CategoryPath, ...]] = {}
    try:
        for row in cursor:
            yield listing_from_row(row, parsed)
    finally:
        cursor.close()


def nodes_in_use(db: sqlite3.Connection) -> list[CategoryPath]:
    """Every node some article is under, sorted."""
    return sorted(tuple(node.split(PATH_SEP)) for (node,) in db.execute(_NODES))
