"""What the last build published from, kept for the next build to compare with: the
signatures of the settings and of each feed, the lines the index lists, and what the site
had to say about categories.

These tables are derived from the articles and the configuration, so a change of rules
drops them with the rest of the catalogue: the next build then publishes everything again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field

LAST_BUILD_SCHEMA = """
CREATE TABLE IF NOT EXISTS last_build (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    render_signature TEXT NOT NULL,
    pages_signature TEXT NOT NULL,
    index_signature TEXT NOT NULL,
    empty_since INTEGER
);
CREATE TABLE IF NOT EXISTS feeds (slug TEXT PRIMARY KEY, signature TEXT NOT NULL, held INTEGER);
CREATE TABLE IF NOT EXISTS headlines (
    source TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS unmatched_categories (
    place INTEGER PRIMARY KEY,
    warning TEXT NOT NULL
);
"""
LAST_BUILD_TABLES = ("last_build", "feeds", "headlines", "unmatched_categories")


@dataclass(frozen=True)
class FeedState:
    """What one feed's documents were last rendered from."""

    signature: str  # of its settings, its entries' versions and its archive link
    held: int | None = None  # entries its documents hold when cut to fit max_bytes


@dataclass(frozen=True)
class KeptHeadline:
    """The index's line for one article, and the digest of the version it was taken from."""

    digest: str
    title: str
    url: str


@dataclass(frozen=True)
class LastBuild:
    """What the last build that published left for the next one. The empty signatures of
    a catalogue that never published match no build's."""

    render_signature: str = ""  # of the settings every feed document and the index show
    pages_signature: str = ""  # of the settings every article page shows
    index_signature: str = ""  # of what the index and the OPML list show
    feeds: Mapping[str, FeedState] = field(default_factory=dict)  # by slug
    headlines: Mapping[str, KeptHeadline] = field(default_factory=dict)  # by source
    unmatched: tuple[str, ...] = ()  # warnings about configured categories no article is under
    # When the site was first published without any article (epoch seconds): the time
    # its feeds carry until an article comes. None while it has articles.
    empty_since: int | None = None


def read_last_build(db: sqlite3.Connection) -> LastBuild:
    """The record as the last build left it; an empty one before the first."""
    row = db.execute(
        "SELECT render_signature, pages_signature, index_signature, empty_since FROM last_build"
    ).fetchone()
    if row is None:
        return LastBuild()
    render, pages, index, empty_since = row
    feeds = {
        slug: FeedState(signature, held)
        for slug, signature, held in db.execute("SELECT slug, signature, held FROM feeds")
    }
    headlines = {
        source: KeptHeadline(digest, title, url)
        for source, digest, title, url in db.execute(
            "SELECT source, digest, title, url FROM headlines"
        )
    }
    unmatched = db.execute("SELECT warning FROM unmatched_categories ORDER BY place")
    return LastBuild(
        render, pages, index, feeds, headlines, tuple(w for (w,) in unmatched), empty_since
    )


def write_last_build(db: sqlite3.Connection, last: LastBuild) -> None:
    """Replace the record (in the caller's transaction)."""
    for table in LAST_BUILD_TABLES:
        db.execute(f"DELETE FROM {table}")
    db.execute(
        "INSERT INTO last_build VALUES (1, ?, ?, ?, ?)",
        (last.render_signature, last.pages_signature, last.index_signature, last.empty_since),
    )
    db.executemany(
        "INSERT INTO feeds VALUES (?, ?, ?)",
        ((slug, feed.signature, feed.held) for slug, feed in last.feeds.items()),
    )
    db.executemany(
        "INSERT INTO headlines VALUES (?, ?, ?, ?)",
        ((source, h.digest, h.title, h.url) for source, h in last.headlines.items()),
    )
    db.executemany("INSERT INTO unmatched_categories VALUES (?, ?)", enumerate(last.unmatched))
