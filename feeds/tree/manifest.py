"""The manifest: every path the publisher wrote, kept in a small SQLite file beside the
tree. Only listed files are ever served (see reader) or removed (see writer).

A build changes the rows of what it writes and removes, not a file the size of the
archive; the web app looks each request path up, instead of reading every path again
after each build. A tree published by an older version, with `.feeds-manifest.json`, has
its list moved into the new file by the first build that publishes.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import quote

MANIFEST = ".feeds-manifest.sqlite"
_LEGACY = ".feeds-manifest.json"  # what versions up to 0.2 wrote: a JSON array of paths
_SCHEMA = "CREATE TABLE IF NOT EXISTS published (path TEXT PRIMARY KEY) WITHOUT ROWID;"
_CHUNK = 500  # paths bound in one statement


class Manifest:
    """The publisher's list of paths; each change is durable when it returns."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(cls, output_dir: Path) -> Manifest | None:
        """The manifest of a tree (an older version's list moved in); None when there is
        none: nothing is published yet, or it was damaged (and is deleted), when nothing
        that is published can be removed."""
        if not (output_dir / MANIFEST).exists():
            return cls.create(output_dir) if (output_dir / _LEGACY).exists() else None
        return cls._existing(output_dir)

    @classmethod
    def _existing(cls, output_dir: Path) -> Manifest | None:
        try:
            return cls(_connect(output_dir / MANIFEST))
        except sqlite3.DatabaseError:
            for suffix in ("", "-wal", "-shm"):
                (output_dir / (MANIFEST + suffix)).unlink(missing_ok=True)
            return None

    @classmethod
    def create(cls, output_dir: Path) -> Manifest:
        """The manifest of a tree, made empty where there is none (or the list of an older
        version moved in)."""
        output_dir.mkdir(parents=True, exist_ok=True)
        path = output_dir / MANIFEST
        manifest = (cls._existing(output_dir) if path.exists() else None) or cls(_connect(path))
        manifest._adopt_legacy(output_dir / _LEGACY)
        return manifest

    def _adopt_legacy(self, legacy: Path) -> None:
        try:
            listed = json.loads(legacy.read_text("utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(listed, list):
            self.add(p for p in listed if isinstance(p, str))
        legacy.unlink(missing_ok=True)

    def __contains__(self, path: object) -> bool:
        found = self._db.execute("SELECT 1 FROM published WHERE path = ?", (path,)).fetchone()
        return found is not None

    def lists_anything(self) -> bool:
        """Whether any path is listed: one row asked for, not all counted."""
        return self._db.execute("SELECT 1 FROM published LIMIT 1").fetchone() is not None

    def __len__(self) -> int:
        count: int = self._db.execute("SELECT COUNT(*) FROM published").fetchone()[0]
        return count

    def paths(self, low: str = "", high: str | None = None) -> Iterator[str]:
        """The listed paths from `low` up to (not including) `high`, in code-point order."""
        if high is None:
            rows = self._db.execute("SELECT path FROM published WHERE path >= ?", (low,))
        else:
            rows = self._db.execute(
                "SELECT path FROM published WHERE path >= ? AND path < ?", (low, high)
            )
        try:
            for (path,) in rows:
                yield path
        finally:
            rows.close()

    def add(self, paths: Iterable[str]) -> None:
        """List these paths."""
        self._change("INSERT OR IGNORE INTO published VALUES (?)", paths)

    def discard(self, paths: Iterable[str]) -> None:
        """List these paths no more."""
        self._change("DELETE FROM published WHERE path = ?", paths)

    def _change(self, statement: str, paths: Iterable[str]) -> None:
        self._db.execute("BEGIN")
        try:
            self._db.executemany(statement, ((path,) for path in paths))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA journal_mode=WAL")  # the web app reads while a build writes
        connection.executescript(_SCHEMA)
    except sqlite3.DatabaseError:
        connection.close()
        raise
    return connection


def read_listed(output_dir: Path) -> set[str] | None:
    """Every listed path, or None when there is no manifest."""
    manifest = Manifest.open(output_dir)
    if manifest is None:
        return None
    with contextlib.closing(manifest):
        return set(manifest.paths())


def lists_nothing(output_dir: Path) -> bool:
    """Whether a tree publishes nothing yet: it has no manifest, or one that lists no path."""
    manifest = Manifest.open(output_dir)
    if manifest is None:
        return True
    with contextlib.closing(manifest):
        return not manifest.lists_anything()


def open_lookup(output_dir: Path) -> Manifest | None:
    """A tree's manifest, read-only, for the web app; None when there is no manifest yet."""
    path = output_dir / MANIFEST
    if not path.exists():
        return None
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        return Manifest(sqlite3.connect(uri, uri=True, timeout=1.0, check_same_thread=False))
    except sqlite3.DatabaseError:
        return None
