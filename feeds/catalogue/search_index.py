"""The search index: an FTS5 table of every kept article's text, in the catalogue's SQLite,
changed in the same transaction as the article it indexes; and the newest articles that
match a query, read through a read-only connection of their own.

The table is contentless (`content=''`): it holds the index alone, not a second copy of
the text. Removing a row then takes the very text it was indexed with, which is made
again from the article the catalogue still holds (see search_terms).

A row's id orders it by time: the second the article was published, shifted left by 24
bits, plus a slot that tells apart the articles of one second. FTS5 hands out a query's
matches in rowid order, so the newest 50 of a query that matches half the archive are
read without reading the other half. But FTS5 writes out what it holds in memory each
time a row comes with a smaller id than the last one, and the articles of a cold build
arrive in no order of time: rows are kept back and added a batch at a time, sorted.
FTS5 is also told to hold more in memory before it writes (`hashsize`, 1 MB by default)
and to merge what it wrote 16 segments at a time rather than 4 (`automerge`).

A first build writes the whole archive at once, and merging what it writes as it goes
would rewrite each term's list several times: it takes about half as long again as the
writing itself. So the first build does not merge (`automerge` 0, in the same
transaction), and merging starts with the next build, a little with each write. A query
then looks each term up in each segment the first build left, one for every few
thousand articles: milliseconds at 100,000. FTS5 merges a level at once when it reaches
`crisismerge` segments, 16 by default: that would make the first small write after a
first build merge the whole index, so it is 64.
"""

from __future__ import annotations

import math
import sqlite3
import zlib
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from feeds.catalogue.records import Listing, article_from_json
from feeds.catalogue.search_terms import TOKENIZER, search_text
from feeds.model import Article, Fragments

_AUTOMERGE = 16  # segments merged at a time, once merging starts
SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(
    text, content='', columnsize=0, tokenize='{TOKENIZER.replace("'", "''")}'
);
CREATE TABLE IF NOT EXISTS search_rows (
    row INTEGER PRIMARY KEY,  -- found by its second and then its source: no other index
    source TEXT NOT NULL,
    id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS search_rows_by_id ON search_rows (id);
INSERT INTO search (search, rank) SELECT 'hashsize', 16777216
    WHERE NOT EXISTS (SELECT 1 FROM search_config WHERE k = 'hashsize');
INSERT INTO search (search, rank) SELECT 'automerge', {_AUTOMERGE}
    WHERE NOT EXISTS (SELECT 1 FROM search_config WHERE k = 'automerge');
INSERT INTO search (search, rank) SELECT 'crisismerge', 64
    WHERE NOT EXISTS (SELECT 1 FROM search_config WHERE k = 'crisismerge');
"""
_MERGING = "INSERT INTO search (search, rank) VALUES ('automerge', ?)"
DROP = "DROP TABLE IF EXISTS search; DROP TABLE IF EXISTS search_rows;"

_BATCH = 2048  # rows kept back, with their split text, before they are added, sorted
_SLOT_BITS = 24
_SLOTS = 1 << _SLOT_BITS


class SearchIndex:
    """The index's side of the catalogue's changes; the caller commits."""

    def __init__(self, connection: sqlite3.Connection, *, first: bool, enabled: bool) -> None:
        """`first`: the catalogue is empty, and this build writes the whole archive.
        `enabled`: False when the site offers no search (site.search), and the index stays
        empty (a change of that setting makes every article be read again)."""
        self._db = connection
        self._held: dict[str, tuple[int, bytes]] = {}  # by source: rows not added yet
        self._enabled = enabled
        self._first = first and enabled
        if self._first:
            connection.execute(_MERGING, (0,))

    def add(self, listing: Listing, text: bytes) -> None:
        """Index an article (call `remove` first for one already indexed); `flush` before
        the transaction commits."""
        if not self._enabled:
            return
        self._held[listing.source] = (self._free_row(listing), text)
        if len(self._held) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Add the rows kept back, in the order of their ids."""
        rows = sorted(self._held.values())
        self._held.clear()
        self._db.executemany("INSERT INTO search (rowid, text) VALUES (?, ?)", rows)

    def finish(self) -> None:
        """Add what is kept back; after a first build, let later builds merge."""
        self.flush()
        if self._first:
            self._db.execute(_MERGING, (_AUTOMERGE,))
            self._first = False

    def _free_row(self, listing: Listing) -> int:
        """Claim a row id in the article's second: the slot its source names, or the next
        free one."""
        second = math.floor(listing.published) << _SLOT_BITS
        slot = zlib.crc32(listing.source.encode("utf-8", "surrogatepass"))
        for probe in range(_SLOTS):
            row = second | ((slot + probe) % _SLOTS)
            try:
                self._db.execute(
                    "INSERT INTO search_rows VALUES (?, ?, ?)", (row, listing.source, listing.id)
                )
            except sqlite3.IntegrityError as exc:
                if exc.sqlite_errorcode == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
                    continue  # another article of that second took the slot
                raise
            return row
        raise sqlite3.IntegrityError(f"no free search row in second {listing.published}")

    def remove(self, source: str) -> None:
        """Take an article out of the index, while the catalogue still holds it."""
        if not self._enabled:
            return
        held = self._held.pop(source, None)
        if held is not None:
            self._db.execute("DELETE FROM search_rows WHERE row = ?", (held[0],))
            return
        kept = self._db.execute(
            "SELECT published, data, content FROM articles WHERE source = ?", (source,)
        ).fetchone()
        if kept is None:
            return
        published, data, content = kept
        second = math.floor(published) << _SLOT_BITS
        found = self._db.execute(
            "SELECT row FROM search_rows WHERE row BETWEEN ? AND ? AND source = ?",
            (second, second | (_SLOTS - 1), source),
        ).fetchone()
        if found is None:
            return
        self._db.execute(
            "INSERT INTO search (search, rowid, text) VALUES ('delete', ?, ?)",
            (found[0], search_text(article_from_json(data, content))),
        )
        self._db.execute("DELETE FROM search_rows WHERE row = ?", found)


class Hit(NamedTuple):
    """An article that matched, with its stored entry when one was made."""

    article: Article
    template: Fragments | None  # None: not serialised yet (see Catalogue.entry_templates)


def open_reader(path: Path, *, wait: float = 0.2) -> sqlite3.Connection:
    """A read-only connection to the catalogue at `path`: it can neither change the file
    nor create it, and it waits at most `wait` seconds for a lock (a first build, written
    without the write-ahead log, holds one while it commits). sqlite3.OperationalError
    when there is no catalogue to read."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=wait, isolation_level=None)


def newest_matches(connection: sqlite3.Connection, expression: str, limit: int) -> list[Hit]:
    """The newest `limit` articles matching an FTS5 expression, newest first, in the order
    feeds list them: by publishing time, then id, then source. Of articles that share an id,
    only the one a feed would show (the first source) is a match."""
    if not expression:
        return []
    hits: list[tuple[float, str, str, Hit]] = []
    # One snapshot for the matches and their articles, held for this query only: a
    # reader that stays in a transaction would keep the builder's checkpoints from
    # finishing.
    connection.execute("BEGIN")
    try:
        sources = _newest_sources(connection, expression, limit)
        for start in range(0, len(sources), 500):  # stay under SQLite's variable limit
            chunk = sources[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = connection.execute(
                "SELECT source, id, published, data, content, atom, rss, json, updated"
                f" FROM articles WHERE source IN ({marks})",
                chunk,
            )
            for source, id_, published, data, content, atom, rss, json, updated in rows:
                template = None if atom is None else Fragments(atom, rss, json, updated)
                article = article_from_json(data, content)
                hits.append((-published, id_, source, Hit(article, template)))
    finally:
        connection.execute("COMMIT")
    hits.sort(key=lambda hit: hit[:3])
    return [hit for *_, hit in hits[:limit]]


def _newest_sources(connection: sqlite3.Connection, expression: str, limit: int) -> list[str]:
    """The sources of at least the newest `limit` matches: in row order, then the rest of
    the last one's second, which may hold articles a feed lists before it."""
    cursor = connection.execute(
        "SELECT search_rows.row, search_rows.source FROM search"
        " JOIN search_rows ON search_rows.row = search.rowid"
        " WHERE search MATCH ? AND NOT EXISTS ("
        "   SELECT 1 FROM search_rows AS first WHERE first.id = search_rows.id"
        "   AND first.source < search_rows.source)"
        " ORDER BY search.rowid DESC",
        (expression,),
    )
    sources: list[str] = []
    last_second = None
    try:
        for row, source in cursor:
            second = row >> _SLOT_BITS
            if len(sources) >= limit and second != last_second:
                break
            sources.append(source)
            last_second = second
    finally:
        cursor.close()  # FTS5 stops reading position lists here
    return sources
