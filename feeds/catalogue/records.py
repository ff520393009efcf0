"""An article encoded for the catalogue: its listing (what choosing feed entries needs),
its fields as JSON and its body. Made where the file is read, in a worker process during
a large build, so that the process that writes SQLite only stores it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from feeds.catalogue.search_terms import search_text
from feeds.model import Article, CategoryPath, Fragments
from feeds.text import hex_digest
from feeds.tree.urls import article_path


# NamedTuples rather than dataclasses here: a build makes one per article of the archive,
# and they cost a third as much to create.
class Listing(NamedTuple):
    """An article's identity and place, without its body: enough to choose feed entries."""

    source: str
    id: str
    published: float  # epoch seconds
    updated: float
    categories: tuple[CategoryPath, ...]
    digest: str  # changes whenever anything published from the article changes
    page: str  # its permalink page, relative to the output dir
    author: str | None  # for feeds that filter on it
    title: str


FeedOrder = tuple[float, str, str]


def feed_order(listing: Listing) -> FeedOrder:
    """The order feeds list articles in: newest first, then by id, then by source."""
    return (-listing.published, listing.id, listing.source)


class Record(NamedTuple):
    """An article encoded for the catalogue."""

    listing: Listing
    data: str  # the Article as JSON, but for its body
    content: str  # the body, stored once
    # Its entry in every format, with a hole for the body; None to have it made when a feed
    # first needs it (most articles of an archive never are in any feed).
    template: Fragments | None
    text: bytes  # what the search index holds for it (see search_terms)


class Change(NamedTuple):
    """A change of a file's content that a build saw: the new bytes' digest, and when."""

    digest: str
    seen: float  # epoch seconds, whole: the article's `updated` when its front matter has none


def encode(source: str, article: Article, template: Fragments | None, *, indexed: bool) -> Record:
    """An Article, its digest and its place, ready to store; with its search text when
    `indexed` (False when there is no index to keep in step: no search, or an index that is
    filled once the build has published; see search_index)."""
    data = article_to_json(article)
    listing = Listing(
        source,
        article.id,
        article.published.timestamp(),
        article.updated.timestamp(),
        article.categories,
        hex_digest(data + "\n" + article.content, size=12),
        article_path(article.id),
        article.author,
        article.title,
    )
    text = search_text(article) if indexed else b""
    return Record(listing, data, article.content, template, text)


# Category names are plain text, where control characters never survive: safe separators
# that split much faster than JSON parses, which matters at every incremental build.
_SEP = "\x1e"
PATH_SEP = "\x1f"


def paths_text(paths: tuple[CategoryPath, ...]) -> str:
    """Category paths as one column's text."""
    return _SEP.join(PATH_SEP.join(path) for path in paths)


def paths_from_text(value: str) -> tuple[CategoryPath, ...]:
    """What paths_text wrote."""
    return tuple(tuple(path.split(PATH_SEP)) for path in value.split(_SEP)) if value else ()


# A listing's columns in the articles table, in Listing's order.
LISTING_COLUMNS = Listing._fields


def listing_from_row(
    row: tuple[str, str, float, float, str, str, str, str | None, str],
    parsed: dict[str, tuple[CategoryPath, ...]],
) -> Listing:
    """A listing from its columns of the articles table, in Listing's order; `parsed`
    holds the category paths already parsed, so that articles share one copy of theirs
    (most articles share their paths with many others)."""
    source, id_, published, updated, categories, digest, page, author, title = row
    paths = parsed.get(categories)
    if paths is None:
        paths = parsed[categories] = paths_from_text(categories)
    return Listing(source, id_, published, updated, paths, digest, page, author, title)


def article_to_json(article: Article) -> str:
    """An Article as JSON text, but for its body (stored apart); dates keep their zones."""
    fields: dict[str, Any] = {
        name: getattr(article, name)
        for name in Article.__dataclass_fields__
        if name not in ("extra", "content")
    }
    fields["published"] = article.published.isoformat()
    fields["updated"] = article.updated.isoformat()
    # Unknown front-matter keys are kept as text: they are never published.
    fields["extra"] = {str(k): v for k, v in article.extra.items()}
    return json.dumps(fields, ensure_ascii=False, default=str, sort_keys=True)


def article_from_json(text: str, content: str) -> Article:
    """The Article `article_to_json` wrote, with its body."""
    fields = json.loads(text)
    fields["content"] = content
    fields["published"] = datetime.fromisoformat(fields["published"])
    fields["updated"] = datetime.fromisoformat(fields["updated"])
    fields["categories"] = tuple(tuple(path) for path in fields["categories"])
    fields["tags"] = tuple(fields["tags"])
    return Article(**fields)
