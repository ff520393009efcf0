"""A batch of changed files -> one Outcome each: read, parse, clean, serialise, and write the
permalink pages, in the worker processes of a cold build or in the builder itself.

A batch goes through the stages one at a time (every file read, then every file parsed,
then cleaned...), not one file through all of them: each stage's code and data then stay
in the processor's caches, and an article costs a fifth less than when libyaml, lxml,
nh3 and the page writer take turns on every file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from feeds.catalogue.records import Change, Record, encode
from feeds.clean.cleaner import clean_body
from feeds.clean.titles import repaired_title
from feeds.config import CleanConfig, Config, SiteConfig
from feeds.errors import ArticleError
from feeds.images.signing import ImageSigner
from feeds.model import Article, CategoryPath, CleanBody, ParsedArticle
from feeds.render.formats import entry_template
from feeds.render.pages import render_article_page
from feeds.sources.articles import parse_article
from feeds.sources.files import SourceFile, read_source
from feeds.text import hex_digest
from feeds.tree.report import Clock
from feeds.tree.writer import Document, write_if_changed

STAGES = ("read", "front matter", "clean", "render", "publish")


@dataclass(frozen=True)
class Outcome:
    """What reading one file gave: an article or an error, plus its digest."""

    source: str
    stat: tuple[int, int]  # (size, mtime_ns) of the version read
    digest: str  # of the bytes; "" when they could not be read
    record: Record | None  # the article, encoded for the catalogue
    warnings: tuple[str, ...] = ()
    error: str | None = None
    unchanged: bool = False  # same bytes as the catalogue's version: nothing was parsed
    page: str | None = None  # the permalink page, relative to the output dir, when handled
    page_written: bool = False  # False when the page was already there, byte for byte
    change: Change | None = None  # the change of content this version is, if one was seen
    head_image_dropped: bool = False  # the front matter's picture was promo (see CleanBody)


@dataclass(frozen=True)
class ReadSettings:
    """What reading an article file takes from the configuration: a worker process is sent
    this, not the whole Config."""

    max_bytes: int  # source.max_bytes: a larger file is an error
    timezone: ZoneInfo  # source.timezone: for dates without a zone, and on the pages
    updated_from: str  # source.updated
    clean: CleanConfig
    site: SiteConfig  # entries and pages are rendered for it; relative links resolve on it
    archives: bool  # archives want every entry serialised (see _encode)
    # Make each article's search text: False when there is no index to keep in step (no
    # search, or one filled after the build publishes; see feeds.catalogue.search_index).
    indexed: bool

    @classmethod
    def of(cls, config: Config, *, indexed: bool) -> ReadSettings:
        source = config.source
        return cls(
            source.max_bytes,
            source.timezone,
            source.updated,
            config.clean,
            config.site,
            config.archives,
            indexed,
        )


class Before(NamedTuple):
    """What the catalogue holds for a file about to be read."""

    digest: str | None  # of the bytes last read; None or "" when none were
    change: Change | None  # the last change of its content a build saw


@dataclass(frozen=True)
class Batch:
    """The outcomes of a batch, in the order of its files, and the seconds each of STAGES
    took over the whole batch (for the benchmark)."""

    outcomes: list[Outcome]
    work: dict[str, float]  # by stage, every one of STAGES


@dataclass
class _File:
    """One file on its way through the stages; `outcome` is set once it needs no more."""

    file: SourceFile
    before: Before
    data: bytes = b""
    digest: str = ""
    parsed: ParsedArticle | None = None
    body: CleanBody | None = None
    article: Article | None = None
    record: Record | None = None
    page: Document | None = None
    outcome: Outcome | None = None
    change: Change | None = None

    @property
    def stat(self) -> tuple[int, int]:
        return (self.file.size, self.file.mtime_ns)

    def fail(self, error: str) -> None:
        self.outcome = Outcome(
            self.file.source, self.stat, self.digest, None, error=error, change=self.change
        )


def read_files(
    batch: Sequence[tuple[SourceFile, Before]],
    settings: ReadSettings,
    pages_dir: Path | None = None,
    images: ImageSigner | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Batch:
    """Read, parse, clean and serialise each (file, what the catalogue holds for it), and
    write the pages when `pages_dir` is given; link images through the proxy when `images`
    is given. Never raises for a bad file: the error is its outcome. `stop` is asked before
    each page is written: when it says True, the batch ends there, with what it has."""
    files = [_File(file, before) for file, before in batch]
    clock = Clock()
    _read(files, settings.max_bytes)
    clock.lap("read")
    _guarded(files, lambda one: _parse(one, settings))
    clock.lap("front matter")
    _guarded(files, lambda one: _clean(one, settings, images))
    clock.lap("clean")
    _guarded(files, lambda one: _encode(one, settings))
    if pages_dir is not None:
        for one in files:
            if one.outcome is None:
                _render_page(one, settings)
    clock.lap("render")
    outcomes = []
    for one in files:
        if one.outcome is None and pages_dir is not None:
            if stop():
                break
            one.outcome = _written(one, pages_dir)
        elif one.outcome is None:
            one.outcome = _done(one)
        outcomes.append(one.outcome)
    clock.lap("publish")
    return Batch(outcomes, clock.timings)


class Surveyed(NamedTuple):
    """What choosing a feed's entries needs of an article, read from its front matter alone
    (see feeds.build.ahead)."""

    source: str
    stat: tuple[int, int]  # (size, mtime_ns) as the scan saw them
    id: str
    title: str
    published: float  # epoch seconds
    updated: float
    categories: tuple[CategoryPath, ...]
    author: str | None


def survey_files(batch: Sequence[SourceFile], settings: ReadSettings) -> list[Surveyed]:
    """Read and parse each file's front matter, as read_files does; a file that fails is
    left out (it is in no feed, and read_files says why)."""
    surveyed = []
    for file in batch:
        try:
            data = read_source(file, settings.max_bytes)
            parsed = _parsed(data, file, None, settings)
        except Exception:  # noqa: BLE001, S112 - read_files reports every failure
            continue
        surveyed.append(
            Surveyed(
                file.source,
                (file.size, file.mtime_ns),
                parsed.id,
                parsed.title,
                parsed.published.timestamp(),
                parsed.updated.timestamp(),
                parsed.categories,
                parsed.author,
            )
        )
    return surveyed


def _read(files: list[_File], max_bytes: int) -> None:
    now = float(int(time.time()))  # whole seconds, as feeds carry them
    for one in files:
        try:
            one.data = read_source(one.file, max_bytes)
        except ArticleError as exc:
            # No digest: an unreadable file is tried again at every scan, since fixing its
            # permissions does not change its size or modification time.
            one.outcome = Outcome(one.file.source, (-1, -1), "", None, error=str(exc))
            continue
        one.digest = hex_digest(one.data, size=16)
        if one.digest == one.before.digest:
            one.outcome = Outcome(one.file.source, one.stat, one.digest, None, unchanged=True)
        else:
            one.change = _change(one.before, one.digest, now)


def _change(before: Before, digest: str, now: float) -> Change | None:
    """The change of content that bytes with this digest are: the one seen before when they
    are the same bytes (read again after a change of rules), a new one when they replace
    other bytes, and None for a file never read before (its `updated` is its `date`)."""
    if before.change is not None and before.change.digest == digest:
        return before.change
    if before.digest or before.change is not None:
        return Change(digest, now)
    return None


def _guarded(files: list[_File], stage: Callable[[_File], None]) -> None:
    """Run a stage on every file still going; a file it fails on stops there."""
    for one in files:
        if one.outcome is not None:
            continue
        try:
            stage(one)
        except ArticleError as exc:
            one.fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug on one file must not stop the others
            one.fail(f"{one.file.source}: unexpected error: {exc!r}; please report it")


def _parse(one: _File, settings: ReadSettings) -> None:
    one.parsed = _parsed(one.data, one.file, one.change, settings)
    one.data = b""  # read: the text lives on in `parsed`


def _parsed(
    data: bytes, file: SourceFile, change: Change | None, settings: ReadSettings
) -> ParsedArticle:
    return parse_article(
        data,
        file.source,
        timezone=settings.timezone,
        mtime=file.mtime,
        changed=None if change is None else change.seen,
        updated_from=settings.updated_from,
    )


def _clean(one: _File, settings: ReadSettings, images: ImageSigner | None) -> None:
    parsed = one.parsed
    assert parsed is not None
    # The head image is compared with the body's images before either goes through the proxy.
    one.body = clean_body(
        parsed.body,
        base_url=parsed.link or settings.site.base_url,
        remove=settings.clean.remove,
        drop_images=settings.clean.drop_images,
        summary_length=settings.clean.summary_length,
        image_url=None if images is None else images.rewrite,
        head_image=parsed.image,
    )
    if images is not None and parsed.image is not None and not one.body.head_image_dropped:
        one.parsed = replace(parsed, image=images.rewrite(parsed.image))


def _encode(one: _File, settings: ReadSettings) -> None:
    assert one.parsed is not None and one.body is not None
    one.article = joined_article(one.parsed, one.body)
    # Serialised here only when archives will want every entry; else the few entries
    # that make it into a feed are serialised when first needed (see Catalogue.entry_templates).
    template = entry_template(settings.site, one.article) if settings.archives else None
    one.record = encode(one.file.source, one.article, template, indexed=settings.indexed)


def _render_page(one: _File, settings: ReadSettings) -> None:
    assert one.article is not None
    html = render_article_page(settings.site, one.article, settings.timezone)
    one.page = Document(html, one.article.updated.timestamp())


def _written(one: _File, pages_dir: Path) -> Outcome:
    assert one.record is not None and one.page is not None
    relative = one.record.listing.page
    # Not listed in the manifest until the build publishes, but whole from the start.
    written = write_if_changed(pages_dir, relative, one.page)
    return replace(_done(one), page=relative, page_written=written)


def _done(one: _File) -> Outcome:
    """The outcome of a file read, parsed, cleaned and encoded."""
    assert one.record is not None and one.parsed is not None and one.body is not None
    return Outcome(
        one.file.source,
        one.stat,
        one.digest,
        one.record,
        one.parsed.warnings,
        change=one.change,
        head_image_dropped=one.body.head_image_dropped,
    )


def joined_article(parsed: ParsedArticle, body: CleanBody) -> Article:
    """Join the two halves; a summary written in the front matter wins over the derived one,
    and the body gives back the quotation marks the scraper took from the title."""
    return Article(
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
