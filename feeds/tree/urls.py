"""Where things live in the published tree, and the ids readers remember them by.

Entry and feed ids are URNs derived from the article id and feed slug alone, so they
survive rebuilds, restarts, edits, a base_url change and reordering (DESIGN.md, "ids").
"""

from __future__ import annotations

import hashlib
import re
import uuid
from functools import lru_cache
from urllib.parse import quote

from slugify import slugify

from feeds.model import CategoryPath

FEED_FORMATS = ("atom", "rss", "json")
VIEW_FORMAT = "html"  # a feed's page: what a browser gets at the feed's address
_ID_NAMESPACE = uuid.UUID("6f1c3e52-2b7a-5d0e-9a4c-0f3b8d1e7a21")
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SLUG_MAX = 60
_LOOKS_DIGESTED = re.compile(r"-[0-9a-f]{6}$")  # a plain name must not pass for a digest slug


@lru_cache(maxsize=1024)  # asked for once per format of an entry
def entry_id(article_id: str) -> str:
    """The Atom id / RSS guid / JSON Feed id of an article."""
    return uuid.uuid5(_ID_NAMESPACE, "article:" + article_id).urn


def feed_id(slug: str) -> str:
    """The Atom id of a feed."""
    return uuid.uuid5(_ID_NAMESPACE, "feed:" + slug).urn


def search_feed_id(query: str) -> str:
    """The Atom id of the feed of a search (its words, separated by single spaces)."""
    return uuid.uuid5(_ID_NAMESPACE, "search:" + query).urn


def feed_path(slug: str, fmt: str) -> str:
    """Path of a feed document relative to the output dir, e.g. `feeds/finance.atom`."""
    return f"feeds/{slug}.{fmt}"


def feed_view_path(slug: str) -> str:
    """Path of a feed's view, the page a browser gets at its address: `feeds/finance.html`."""
    return feed_path(slug, VIEW_FORMAT)


def feed_of(path: str) -> tuple[str, str] | None:
    """The slug and format of the feed document or view at `path` (`feeds/finance.atom` ->
    `("finance", "atom")`), or None for any other path (an archive document's too)."""
    directory, _, name = path.rpartition("/")
    slug, _, fmt = name.rpartition(".")
    if directory != "feeds" or not slug or fmt not in (*FEED_FORMATS, VIEW_FORMAT):
        return None
    return slug, fmt


def archive_path(slug: str, number: int) -> str:
    """Path of a feed's archive document `number` (1 is the oldest), e.g.
    `feeds/finance/archive/3.atom`."""
    return f"feeds/{slug}/archive/{number}.atom"


# Every article's page, and nothing else, has a path from PAGES up to AFTER_PAGES ("0"
# follows "/").
PAGES, AFTER_PAGES = "articles/", "articles0"


def article_path(article_id: str) -> str:
    """Path of an article's permalink page relative to the output dir."""
    return f"{PAGES}{_page_name(article_id)}.html"


def absolute(base_url: str, path: str) -> str:
    """The public URL of a published path."""
    return base_url + quote(path)


def _page_name(article_id: str) -> str:
    # An id from front matter is arbitrary text; only a plain relative name may become a path.
    segments = article_id.split("/")
    if all(_SAFE_SEGMENT.fullmatch(s) and not s.endswith(".") for s in segments):
        return article_id
    # "~" never appears in a plain name, so a digest name can never equal one.
    return f"{slugify(article_id)[:_SLUG_MAX] or 'article'}~{_digest(article_id, 10)}"


@lru_cache(maxsize=4096)  # transliteration is slow, and a build asks for every node
def category_slug(path: CategoryPath, *, with_digest: bool = False) -> str:
    """A readable, stable ASCII slug for a category node: `jin-rong--xin-lang-cai-jing-1a2b3c`.

    A path already written in lower-case ASCII words keeps its words as they are. Any other
    path is transliterated, which loses information (homophones, punctuation), so a digest of
    the original path is appended: two names never share a slug, and no slug depends on which
    other categories exist, so a subscription URL never moves.
    """
    words = [slugify(name) for name in path]
    base = "--".join(w for w in words if w)[:_SLUG_MAX].strip("-")
    plain = words == list(path) and base and len(base) < _SLUG_MAX and not with_digest
    if plain and not _LOOKS_DIGESTED.search(base):
        return base
    # "/" joins the names unless one contains it: ("x/", "y") and ("x", "/y") must differ.
    key = "\x00".join(path) if any("/" in name for name in path) else "/".join(path)
    return f"{base or 'category'}-{_digest(key, 6)}"


def _digest(text: str, length: int) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]
