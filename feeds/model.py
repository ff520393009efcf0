"""Typed, frozen values passed between the stages. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from feeds.titles import repaired_title

# One Hexo category path, parent first: ("金融", "新浪财经", "新浪财经－国內").
CategoryPath = tuple[str, ...]


@dataclass(frozen=True)
class ParsedArticle:
    """An article file after decoding and front-matter parsing; its body is still raw HTML."""

    id: str  # stable: front matter `id`, else the source path without its extension
    source: str  # path relative to the source dir, POSIX separators
    title: str  # plain text, markup stripped, XML-safe
    published: datetime  # timezone-aware
    updated: datetime  # timezone-aware, never before `published`
    categories: tuple[CategoryPath, ...]
    tags: tuple[str, ...]
    author: str | None
    image: str | None  # `headimg` or `thumbnail`: an absolute URL
    link: str | None  # the original article URL (`link` / `url` / `source`)
    summary: str | None  # front matter `summary`, plain text
    body: str  # the raw HTML body, decoded
    body_line: int  # 1-based line of the file where the body starts
    extra: Mapping[str, object] = field(default_factory=dict)  # unknown keys, kept
    warnings: tuple[str, ...] = ()  # things a user should know, e.g. a clamped date


@dataclass(frozen=True)
class CleanBody:
    """A body after cruft removal and sanitising."""

    html: str  # safe HTML fragment, absolute URLs, XML-safe
    summary: str  # plain text, about `summary_length` characters
    editor: str | None  # the editor credit (`p.article-editor`), e.g. "王蒙"
    # The head image given is promo: it matches `clean.drop_images`, or the body shows it
    # only inside removed cruft. It is not published.
    head_image_dropped: bool = False


@dataclass(frozen=True)
class Article:
    """A publishable article: parsed front matter plus its cleaned body."""

    id: str
    source: str
    title: str
    published: datetime
    updated: datetime
    categories: tuple[CategoryPath, ...]
    tags: tuple[str, ...]
    author: str | None
    image: str | None
    link: str | None
    summary: str
    content: str  # cleaned HTML
    editor: str | None
    extra: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def from_parts(cls, parsed: ParsedArticle, body: CleanBody) -> Article:
        """Join the two halves; a summary written in the front matter wins over the derived one,
        and the body gives back the quotation marks the scraper took from the title."""
        return cls(
            id=parsed.id,
            source=parsed.source,
            title=repaired_title(parsed.title, body.html),
            published=parsed.published,
            updated=parsed.updated,
            categories=parsed.categories,
            tags=parsed.tags,
            author=parsed.author,
            image=None if body.head_image_dropped else parsed.image,
            link=parsed.link,
            summary=parsed.summary or body.summary,
            content=body.html,
            editor=body.editor,
            extra=parsed.extra,
        )
