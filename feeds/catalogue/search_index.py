"""The search index: an FTS5 table of every kept article's text, in the catalogue's SQLite,
changed in the same transaction as the article it indexes; and the newest articles that
match a query, read through a read-only connection of their own.

The table is contentless (`content=''`): it holds the index alone, not a second copy of
the text. Removing a row then takes the very text it was indexed with, which is made
again from the article the catalogue still holds (see search_terms).

A first build publishes the feeds before it indexes anything: the index is filled after
the feeds are out, from the articles the catalogue has just stored (`fill`), and until it
is whole a search answers 503 (see `index_ready`). A feed reader's first fetch never waits
for search, and a first build pays for the index once, at the end, in one pass that makes
the texts in a thread while FTS5, outside the GIL, writes the last ones. After that,
each build keeps the index in step as it records articles. A fill that stops half-way
(a kill, a full disk) is rolled back with its transaction and started again by the next
build.

A row's id orders it by time: the second the article was published, shifted left by 24
bits, plus a slot that tells apart the articles of one second. FTS5 hands out a query's
matches in rowid order, so the newest 50 of a query that matches half the archive are
read without reading the other half. FTS5 writes out what it holds in memory each time a
row comes with a smaller id than the last one: a fill adds the articles in the order of
their ids, and later builds hold rows back and add them a batch at a time, sorted. FTS5
is also told to hold more in memory before it writes (`hashsize`, 1 MB by default) and to
merge what it wrote 16 segments at a time rather than 4 (`automerge`).

Merging as a fill writes would rewrite each term's list several times: it takes about
half as long again as the writing itself. So a fill does not merge as it writes
(`automerge` 0, in the same transaction), and merges what it wrote once, at its end
(`optimize`: a third of the writing's time). Left as they were written, the fill's
segments (one for every few thousand articles) would wait at the lowest level for the
small segments of later builds, until `crisismerge` of them (16 by default; here 64) make
FTS5 merge them all at once, inside the write of one new article: a stall of a second at
10,000 articles, some dozens of builds after the first. Once merged, the index is one
segment at a level of its own, which small writes reach only when their merges have
grown as large; they merge 16 at a time (`automerge`), a little with each write.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, islice
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from feeds.catalogue.records import Listing, article_from_json
from feeds.catalogue.search_terms import (
    TOKENIZER,
    match_expression,
    search_text,
    single_character,
)
from feeds.catalogue.sql import rows_for_keys
from feeds.model import Article, Fragments

log = logging.getLogger("feeds")

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
_ADD = "INSERT INTO search (rowid, text) VALUES (?, ?)"
_ADD_MANY = "INSERT INTO search (rowid, text) VALUES"  # then a row of values each
_CLAIM = "INSERT INTO search_rows VALUES (?, ?, ?)"
DROP = "DROP TABLE IF EXISTS search; DROP TABLE IF EXISTS search_rows;"
# In the catalogue's meta table, which a change of rules empties along with the index:
# present once the index holds every article.
_FILLED = "search index filled"

_BATCH = 2048  # rows kept back, with their split text, before they are added, sorted
_FILL_CHUNK = 512  # articles read, split and added at a time by a fill
_SLOT_BITS = 24
_SLOTS = 1 << _SLOT_BITS


class SearchIndex:
    """The index's side of the catalogue's changes; the caller commits."""

    def __init__(self, connection: sqlite3.Connection, *, refill: bool, enabled: bool) -> None:
        """`refill`: the catalogue is empty, and this build writes the whole archive: the
        index is filled after it publishes, not row by row as it records.
        `enabled`: False when the site offers no search (site.search), and the index stays
        empty (a change of that setting makes every article be read again)."""
        self._db = connection
        self._held: dict[str, tuple[int, bytes]] = {}  # by source: rows not added yet
        self.enabled = enabled
        # Whether the index holds every article, so that each change must be kept in step.
        self.filled = enabled and not refill and index_ready(connection)

    @property
    def pending(self) -> bool:
        """The index is to be filled (`fill`) once this build has published."""
        return self.enabled and not self.filled

    def add(self, listing: Listing, text: bytes) -> None:
        """Index an article (call `remove` first for one already indexed); `flush` before
        the transaction commits. Nothing, until the index is filled."""
        if not self.filled:
            return
        self._held[listing.source] = (self._free_row(listing), text)
        if len(self._held) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Add the rows kept back, in the order of their ids."""
        rows = sorted(self._held.values())
        self._held.clear()
        self._db.executemany(_ADD, rows)

    def fill(self) -> None:
        """Index every article the catalogue holds, from nothing (whatever an earlier fill
        left is dropped). The caller commits; a search finds nothing before that."""
        db = self._db
        db.execute("INSERT INTO search (search) VALUES ('delete-all')")
        db.execute("DELETE FROM search_rows")
        db.execute(_MERGING, (0,))
        listed = db.execute("SELECT published, source, id FROM articles ORDER BY published, source")
        # Making the texts holds the GIL, and FTS5 does not: a chunk's texts are made in a
        # thread while FTS5 adds the chunk before.
        with ThreadPoolExecutor(max_workers=1) as splitter:
            made: list[tuple[int, bytes | None]] = []
            for chunk in _chunks(_rows_in_order(listed), _FILL_CHUNK):
                db.executemany(_CLAIM, chunk)
                making = splitter.submit(_texts, chunk, self._stored([s for _, s, _ in chunk]))
                self._add_made(made)
                made = making.result()
            self._add_made(made)
        db.execute("INSERT INTO search (search) VALUES ('optimize')")
        db.execute(_MERGING, (_AUTOMERGE,))
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (_FILLED,))
        self.filled = True

    def _add_made(self, made: Sequence[tuple[int, bytes | None]]) -> None:
        """Add the rows whose text was made, in one statement, which runs in C from its first
        row to its last (with a statement a row, each would wait for the GIL, which the
        thread that makes the texts holds, before the next); give up the others' claims, so
        that nothing is ever removed from the index that was not added to it."""
        left_out = [(row,) for row, text in made if text is None]
        if left_out:
            self._db.executemany("DELETE FROM search_rows WHERE row = ?", left_out)
        rows = [(row, text) for row, text in made if text is not None]
        if rows:
            values = ",".join(["(?, ?)"] * len(rows))
            self._db.execute(f"{_ADD_MANY} {values}", list(chain.from_iterable(rows)))

    def _stored(self, sources: Sequence[str]) -> dict[str, tuple[str, str]]:
        """The stored fields and body of these articles, by source."""
        select = "SELECT source, data, content FROM articles WHERE source IN ({marks})"
        rows = rows_for_keys(self._db, select, sources)
        return {source: (data, content) for source, data, content in rows}

    def _free_row(self, listing: Listing) -> int:
        """Claim a row id in the article's second: the slot its source names, or the next
        free one."""
        second = math.floor(listing.published) << _SLOT_BITS
        slot = zlib.crc32(listing.source.encode("utf-8", "surrogatepass"))
        for probe in range(_SLOTS):
            row = second | ((slot + probe) % _SLOTS)
            try:
                self._db.execute(_CLAIM, (row, listing.source, listing.id))
            except sqlite3.IntegrityError as exc:
                if exc.sqlite_errorcode == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
                    continue  # another article of that second took the slot
                raise
            return row
        raise sqlite3.IntegrityError(f"no free search row in second {listing.published}")

    def remove(self, source: str) -> None:
        """Take an article out of the index, while the catalogue still holds it."""
        if not self.filled:
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


def index_ready(connection: sqlite3.Connection) -> bool:
    """Whether the catalogue's search index holds every article (see SearchIndex.fill)."""
    found = connection.execute("SELECT 1 FROM meta WHERE key = ?", (_FILLED,)).fetchone()
    return found is not None


def _rows_in_order(listed: Iterable[tuple[float, str, str]]) -> Iterator[tuple[int, str, str]]:
    """(row id, source, id) for articles given in order of time: the articles of one second
    take its slots in turn, so the ids come in ascending order."""
    last_second: int | None = None
    slot = 0
    for published, source, id_ in listed:
        second = math.floor(published)
        slot = slot + 1 if second == last_second else 0
        last_second = second
        yield (second << _SLOT_BITS) | slot, source, id_


def _chunks(
    rows: Iterator[tuple[int, str, str]], size: int
) -> Iterator[list[tuple[int, str, str]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _texts(
    chunk: Sequence[tuple[int, str, str]], stored: dict[str, tuple[str, str]]
) -> list[tuple[int, bytes | None]]:
    """Each row's id with the text the index holds for its article (None: see _text)."""
    return [(row, _text(source, *stored[source])) for row, source, _ in chunk]


def _text(source: str, data: str, content: str) -> bytes | None:
    """The text the index holds for a stored article; None, with a warning, when it cannot
    be made: one article must not keep every other one out of the index."""
    try:
        return search_text(article_from_json(data, content))
    except Exception as exc:  # noqa: BLE001 - any failure: that article alone is left out
        log.warning(
            "%s: left out of the search index (%s); it is published all the same", source, exc
        )
        return None


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
        select = (
            f"SELECT source, id, published, {_STORED} FROM articles WHERE source IN ({{marks}})"
        )
        for source, id_, published, *stored in rows_for_keys(connection, select, sources):
            hits.append((-published, id_, source, _hit(stored)))
    finally:
        connection.execute("COMMIT")
    hits.sort(key=lambda hit: hit[:3])
    return [hit for *_, hit in hits[:limit]]


def newest_for(connection: sqlite3.Connection, query: str, limit: int) -> list[Hit]:
    """The newest `limit` articles holding every word of `query`, as newest_matches
    finds them."""
    character = single_character(query)
    if character is not None:
        hits = newest_holding(connection, character, limit)
        if hits is not None:
            return hits
    return newest_matches(connection, match_expression(query), limit)


def newest_holding(connection: sqlite3.Connection, character: str, limit: int) -> list[Hit] | None:
    """The newest `limit` articles whose indexed text holds `character`, as newest_matches
    finds them, read from the newest article on; None when fewer than `limit` are among
    the newest _SCANNED.

    FTS5 answers a one-character query by merging the lists of every pair that begins
    with it, however old: thousands of lists for a character most articles hold, whose
    newest matches are then among the newest articles. A rarer character begins fewer
    pairs, which FTS5 merges quickly."""
    needle = character.encode("utf-8", "surrogatepass")
    hits: list[Hit] = []
    connection.execute("BEGIN")  # one snapshot, as in newest_matches
    try:
        for stored in connection.execute(_NEWEST_INDEXED, (_SCANNED,)):
            hit = _hit(stored)
            if needle in search_text(hit.article).lower():  # lower(): A-Z, as the tokenizer
                hits.append(hit)
                if len(hits) == limit:
                    return hits
    finally:
        connection.execute("COMMIT")
    return None


def _hit(stored: Sequence[Any]) -> Hit:
    """A match, from its stored article and entry (a row of the columns _STORED names)."""
    data, content, atom, rss, json, updated = stored
    template = None if atom is None else Fragments(atom, rss, json, updated)
    return Hit(article_from_json(data, content), template)


_STORED = "data, content, atom, rss, json, updated"
# Of the articles that share an id, the one a feed shows: its first source. `{row}` names
# the article's row in search_rows, or in articles.
_FEEDS_CHOICE = (
    "NOT EXISTS (SELECT 1 FROM search_rows AS first"
    " WHERE first.id = {row}.id AND first.source < {row}.source)"
)
_SCANNED = 200  # newest articles newest_holding reads before it leaves a query to FTS5
# The articles in the index, newest first as feeds list them.
_NEWEST_INDEXED = (
    f"SELECT {', '.join('a.' + column for column in _STORED.split(', '))}"
    " FROM placements AS p JOIN articles AS a ON a.source = p.source"
    " WHERE p.node = '' AND EXISTS ("
    "   SELECT 1 FROM search_rows AS own WHERE own.id = a.id AND own.source = a.source)"
    f" AND {_FEEDS_CHOICE.format(row='a')}"
    " ORDER BY p.age, p.id, p.source LIMIT ?"
)


def _newest_sources(connection: sqlite3.Connection, expression: str, limit: int) -> list[str]:
    """The sources of at least the newest `limit` matches: in row order, then the rest of
    the last one's second, which may hold articles a feed lists before it."""
    cursor = connection.execute(
        "SELECT search_rows.row, search_rows.source FROM search"
        " JOIN search_rows ON search_rows.row = search.rowid"
        f" WHERE search MATCH ? AND {_FEEDS_CHOICE.format(row='search_rows')}"
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
