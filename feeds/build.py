"""The one place that runs the stages in order: scan, read, parse, clean, render, publish."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from feeds.articles import parse_article
from feeds.clean import clean_body
from feeds.config import Config
from feeds.errors import ArticleError, FeedsError
from feeds.model import Article
from feeds.pages import feed_links, render_article_page, render_index, render_opml
from feeds.publish import Document, publish
from feeds.render import EPOCH, feed_updated, render_feed
from feeds.select import Feed, feed_specs, select_feed
from feeds.sources import SourceFile, read_source, scan_sources
from feeds.status import MAX_LISTED, BuildStatus, utc_now_iso, write_status
from feeds.urls import FEED_FORMATS, article_path, feed_path

# Feeds are meant to be fetched by readers and indexed by anyone.
ROBOTS = b"User-agent: *\nDisallow:\n"

Progress = Callable[[int, int], None]  # called with (articles done, articles in all)


@dataclass(frozen=True)
class BuildReport:
    """What a build (or a check) did: counts, problems, and where the time went."""

    articles_found: int
    articles_failed: int
    feeds: int
    feeds_changed: int
    feeds_failed: int
    files_written: int
    files_unchanged: int
    files_removed: int
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def articles_published(self) -> int:
        return self.articles_found - self.articles_failed

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())

    def status(self) -> BuildStatus:
        """The record /healthz serves about this build."""
        return BuildStatus(
            finished=utc_now_iso(),
            seconds=round(self.seconds, 3),
            ok=self.ok,
            articles_found=self.articles_found,
            articles_published=self.articles_published,
            articles_failed=self.articles_failed,
            feeds=self.feeds,
            feeds_changed=self.feeds_changed,
            feeds_failed=self.feeds_failed,
            error_count=len(self.errors),
            errors=self.errors[:MAX_LISTED],
        )


@dataclass(frozen=True)
class LoadedArticles:
    """The articles that could be read, and one message per file that could not."""

    articles: tuple[Article, ...]
    errors: tuple[ArticleError, ...]
    warnings: tuple[str, ...]


def load_article(file: SourceFile, config: Config) -> tuple[Article, tuple[str, ...]]:
    """Read, parse and clean one file; raises ArticleError naming the file."""
    data = read_source(file, config.source.max_bytes)
    parsed = parse_article(data, file.source, timezone=config.source.timezone, mtime=file.mtime)
    body = clean_body(
        parsed.body,
        base_url=parsed.link or config.site.base_url,
        remove=config.clean.remove,
        summary_length=config.clean.summary_length,
    )
    return Article.from_parts(parsed, body), parsed.warnings


def load_articles(
    files: Sequence[SourceFile], config: Config, progress: Progress | None = None
) -> LoadedArticles:
    """Every file as an Article, or its error; one bad file never stops the others."""
    articles: list[Article] = []
    errors: list[ArticleError] = []
    warnings: list[str] = []
    owners: dict[str, str] = {}  # article id -> the file that claimed it first
    for done, file in enumerate(files, start=1):
        try:
            article, article_warnings = load_article(file, config)
            if article.id in owners:
                raise ArticleError(
                    file.source,
                    f"id {article.id!r} is already used by {owners[article.id]}: "
                    "give one of them a different `id` in its front matter",
                )
        except ArticleError as exc:
            errors.append(exc)
        except Exception as exc:  # noqa: BLE001 - a bug on one file must not stop the build
            errors.append(ArticleError(file.source, f"unexpected error: {exc!r}; please report it"))
        else:
            owners[article.id] = file.source
            articles.append(article)
            warnings.extend(article_warnings)
        if progress is not None:
            progress(done, len(files))
    return LoadedArticles(tuple(articles), tuple(errors), tuple(warnings))


def build(config: Config, *, write: bool = True, progress: Progress | None = None) -> BuildReport:
    """Build the whole output tree once; with `write=False`, check everything and write nothing."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now - clock
        clock = now

    scan = scan_sources(config.source.dir, config.source.extensions)
    lap("scan")
    loaded = load_articles(scan.files, config, progress)
    lap("read, parse, clean")

    files: dict[str, Document] = {}
    keep: list[str] = []
    errors = [str(e) for e in loaded.errors]
    # A file that fails now may have been published before: keep its page (by its path id).
    keep.extend(article_path(str(PurePosixPath(e.path).with_suffix(""))) for e in loaded.errors)
    for article in loaded.articles:
        page = render_article_page(config.site, article, config.source.timezone)
        files[article_path(article.id)] = Document(page, article.updated.timestamp())
    newest = max((a.updated for a in loaded.articles), default=EPOCH)
    ttl_minutes = max(1, round(config.schedule.interval / 60))
    feeds: list[Feed] = []
    feeds_failed = 0
    for spec in feed_specs(config, loaded.articles):
        feed = select_feed(spec, loaded.articles)
        try:
            documents = render_feed(
                config.site, feed, ttl_minutes=ttl_minutes, fallback_updated=newest
            )
        except (ValueError, FeedsError) as exc:
            feeds_failed += 1
            errors.append(f"feed {spec.slug!r}: cannot render ({exc}); its last version stays")
            keep.extend(feed_path(spec.slug, fmt) for fmt in FEED_FORMATS)
            continue
        feeds.append(feed)
        modified = feed_updated(feed, newest).timestamp()
        for fmt, data in documents.items():
            files[feed_path(spec.slug, fmt)] = Document(data, modified)
    links = feed_links(config.site, feeds)
    files["index.html"] = Document(render_index(config.site, links), newest.timestamp())
    files["opml.xml"] = Document(render_opml(config.site, links), newest.timestamp())
    files["robots.txt"] = Document(ROBOTS, EPOCH.timestamp())
    lap("select, render")

    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    if write:
        result = publish(config.output.dir, files, keep=keep)
        written, unchanged, removed = result.written, result.unchanged, result.removed
        lap("publish")
    changed_feeds = {PurePosixPath(p).stem for p in written if p.startswith("feeds/")}
    report = BuildReport(
        articles_found=len(scan.files),
        articles_failed=len(loaded.errors),
        feeds=len(feeds),
        feeds_changed=len(changed_feeds),
        feeds_failed=feeds_failed,
        files_written=len(written),
        files_unchanged=len(unchanged),
        files_removed=len(removed),
        errors=tuple(errors),
        warnings=scan.skipped + loaded.warnings,
        timings=timings,
    )
    if write:
        write_status(config.state.dir, report.status())
    return report
