"""The validated configuration as frozen values: one dataclass per section of the YAML.

feeds.config reads the file into these; feeds.config.settings declares each key's default, help
and check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from feeds.config.settings import SETTINGS
from feeds.config.values import CategoryPath


@dataclass(frozen=True)
class SiteConfig:
    """How the site describes itself in feeds, the index page and the OPML file."""

    title: str
    base_url: str  # always ends with "/"
    language: str
    description: str
    search: bool  # the search index, /search and the pages' search box


@dataclass(frozen=True)
class SourceConfig:
    """Where the article files are and how to read them."""

    dir: Path
    timezone: ZoneInfo
    extensions: tuple[str, ...]  # lower-case, with the dot: (".md", ".txt", ...)
    updated: str  # "date" or "mtime": where an entry's `updated` comes from
    max_bytes: int


@dataclass(frozen=True)
class OutputConfig:
    """Where the published tree is written."""

    dir: Path


@dataclass(frozen=True)
class WebSubConfig:
    """The WebSub hub readers may subscribe through."""

    hub: str  # "" when there is none


@dataclass(frozen=True)
class StateConfig:
    """Where the builder keeps what it knows between runs; never served."""

    dir: Path


@dataclass(frozen=True)
class ScheduleConfig:
    """How often the source directory is rescanned."""

    interval: float  # seconds
    watch: bool  # react to file-system events between rescans
    settle: float  # seconds a file must rest before it is read


@dataclass(frozen=True)
class CleanConfig:
    """How article bodies are cleaned."""

    remove: tuple[str, ...]  # CSS selectors of cruft removed before sanitising
    drop_images: tuple[str, ...]  # globs of image URLs never published (promo, QR codes)
    summary_length: int  # characters


@dataclass(frozen=True)
class ImagesConfig:
    """The image proxy: which image URLs point at it, and what it fetches."""

    proxy: bool  # rewrite image URLs on `hosts` to the proxy
    hosts: tuple[str, ...]  # lower-case "host" or "host:port": rewritten, and fetched from
    max_bytes: int
    timeout: float  # seconds for a whole fetch
    key: str = field(repr=False)  # the signing secret; "" means the state dir's key file


def _default_images() -> ImagesConfig:
    """The images section as the declarations default it (the proxy is off)."""
    values: dict[str, Any] = {
        setting.name.removeprefix("images."): setting.check(setting.default)
        for setting in SETTINGS
        if setting.name.startswith("images.")
    }
    return ImagesConfig(**values)


@dataclass(frozen=True)
class FeedSpec:
    """One configured feed."""

    slug: str
    title: str
    description: str
    categories: tuple[CategoryPath, ...]  # path prefixes; () means every article
    exclude: tuple[CategoryPath, ...]
    limit: int
    authors: tuple[str, ...] = ()  # () means any author
    exclude_authors: tuple[str, ...] = ()
    match: str = ""  # a regular expression on the title or body text; "" means no filter
    exclude_match: str = ""
    max_bytes: int = 0  # cap on each document of the feed; 0 means none

    @property
    def filters_text(self) -> bool:
        """Whether choosing entries needs the articles' text."""
        return bool(self.match or self.exclude_match)


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    site: SiteConfig
    source: SourceConfig
    output: OutputConfig
    websub: WebSubConfig
    state: StateConfig
    schedule: ScheduleConfig
    clean: CleanConfig
    category_feeds: bool  # `auto`: one feed per category node, plus the configured ones
    feeds: tuple[FeedSpec, ...]
    path: Path | None  # the file it was read from, for messages
    archives: bool = False  # RFC 5005 archive documents behind each feed
    images: ImagesConfig = field(default_factory=_default_images)
