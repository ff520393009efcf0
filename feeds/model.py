"""Typed, frozen values passed between the stages. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from feeds.config.sections import FeedSpec
from feeds.config.values import CategoryPath as CategoryPath


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


class Placed(Protocol):
    """What choosing entries needs to know of an article."""

    @property
    def id(self) -> str: ...
    @property
    def categories(self) -> tuple[CategoryPath, ...]: ...
    @property
    def author(self) -> str | None: ...
    @property
    def title(self) -> str: ...


E = TypeVar("E", bound=Placed)


@dataclass(frozen=True)
class Selection(Generic[E]):
    """One feed to publish: what it is and the entries it holds, newest first."""

    spec: FeedSpec
    entries: tuple[E, ...]


Feed = Selection[Article]


@dataclass(frozen=True)
class Fragments:
    """One entry, serialised for each format; `published`/`updated` order and date the feed."""

    atom: str
    rss: str
    json: str  # one JSON Feed item, compact
    updated: float  # epoch seconds
