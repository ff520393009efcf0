"""The command line: the only place where errors become exit codes.

Exit status: 0 when everything was published, 1 when an article or a feed failed (the rest
is still published), 2 when the configuration is unusable.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from feeds import __version__
from feeds.build.builder import FILLING, build
from feeds.build.lock import BuilderLock
from feeds.config import Config, key_location, load_config
from feeds.errors import ConfigError, FeedsError, PublishError
from feeds.render.i18n import unshipped_language
from feeds.tree.report import BuildReport
from feeds.tree.status import ARTICLES, Progress
from feeds.tree.writer import writable_problem

DEFAULT_CONFIG = "config/feeds.yaml"
PROGRESS_MIN_FILES = 200  # below this a bar would only flicker
HUB_WAIT = 10.0  # seconds `feeds build` waits for the WebSub hub before it exits anyway

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="FEEDS_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    help="Configuration file (or set FEEDS_CONFIG).",
)
log_format_option = click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    envvar="FEEDS_LOG_FORMAT",
    default="text",
    show_default=True,
    help="Log lines as text, or as one JSON object each (or set FEEDS_LOG_FORMAT).",
)
verbose_option = click.option(
    "-v", "--verbose", is_flag=True, help="Also list warnings (clamped dates, skipped files...)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feeds")
def main() -> None:
    """Republish a directory of articles as clean per-category Atom, RSS and JSON feeds."""


@main.command("build")
@config_option
@verbose_option
def build_command(config_path: Path, verbose: bool) -> None:
    """Build every feed once and publish the output tree."""
    _build_and_exit(config_path, verbose, write=True)


@main.command("check")
@config_option
@verbose_option
def check_command(config_path: Path, verbose: bool) -> None:
    """Validate the configuration and every article; write nothing."""
    _build_and_exit(config_path, verbose, write=False)


@main.command("serve")
@config_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="FEEDS_HOST",
    help="Address to listen on (0.0.0.0 for every interface; or set FEEDS_HOST).",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    envvar="FEEDS_PORT",
    help="Port to listen on (0: any free port; or set FEEDS_PORT).",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Worker threads of the HTTP server.",
)
@log_format_option
def serve_command(config_path: Path, host: str, port: int, threads: int, log_format: str) -> None:
    """Serve the output tree over HTTP at once; build it in the background, then rebuild
    on the schedule and whenever articles change."""
    config = _load(config_path)
    from feeds.logs import configure_logging
    from feeds.serve import run_server  # imported only when serving

    configure_logging(log_format)
    try:
        run_server(config, host, port, threads)
    except OSError as exc:  # e.g. the port is taken
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        click.secho(f"error: cannot listen on {host}:{port}: {reason}", fg="red", err=True)
        sys.exit(1)
    except FeedsError as exc:  # e.g. the image proxy's key can be neither read nor made
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)


@main.command("watch")
@config_option
@log_format_option
def watch_command(config_path: Path, log_format: str) -> None:
    """Build, then rebuild whenever articles change; no web server (for static hosting)."""
    config = _load(config_path)
    from feeds.logs import configure_logging
    from feeds.serve import run_watcher

    configure_logging(log_format)
    try:
        run_watcher(config)
    except FeedsError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)


def _build_and_exit(config_path: Path, verbose: bool, *, write: bool) -> None:
    config = _load(config_path)
    lock = BuilderLock(config.output.dir)
    try:
        busy = write and not lock.acquire()
    except FeedsError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    # A check writes nothing, but says what would stop a build from writing.
    unwritable = [] if write else _unwritable(config)
    for problem in unwritable:
        click.secho(f"error: {problem}", fg="red", err=True)
    if not write and (language := unshipped_language(config.site.language)):
        where = key_location(config.path or config_path, "site.language")
        click.secho(f"warning: site.language: {language} ({where})", fg="yellow", err=True)
    if busy:
        click.secho(
            f"error: {lock.busy_message()}: it keeps the tree up to date", fg="red", err=True
        )
        sys.exit(1)
    report = _run(config, write=write)
    _print_report(report, config, verbose, wrote=write)
    if write and config.websub.hub and report.feeds_written:
        _ping_hub(config, report, verbose)  # the exit status is the build's, whatever the hub says
    sys.exit(0 if report.ok and not unwritable else 1)


def _unwritable(config: Config) -> list[PublishError]:
    """Why a build could not write the output dir or the state dir."""
    output, state = config.output.dir, config.state.dir
    dirs = [output] if state.is_relative_to(output) else [output, state]
    return [p for p in map(writable_problem, dirs) if p is not None]


def _ping_hub(config: Config, report: BuildReport, verbose: bool) -> None:
    from feeds.watch.websub import Notifier, changed_topics, ping_all

    if not verbose:  # the summary below says what failed; -v also shows each failed attempt
        logging.getLogger("feeds.watch.websub").addHandler(logging.NullHandler())
    topics = changed_topics(config, report)
    problems = ping_all(Notifier(config.websub.hub), topics, HUB_WAIT)
    hub = config.websub.hub
    click.echo(
        f"hub: {len(topics) - len(problems)} of {len(topics)} changed documents sent to {hub}"
    )
    for topic, reason in sorted(problems.items()):
        click.secho(f"warning: hub {hub} not told of {topic}: {reason}", fg="yellow", err=True)


def _load(config_path: Path) -> Config:
    try:
        return load_config(config_path)
    except ConfigError as exc:
        _fail_config(exc, config_path)
        raise AssertionError("unreachable") from exc


def _fail_config(exc: ConfigError, config_path: Path) -> None:
    click.secho(f"error: {config_path}: invalid configuration", fg="red", err=True)
    for problem in exc.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(2)


def _run(config: Config, *, write: bool) -> BuildReport:
    bar: Any = None

    def progress(done: int, total: int, stage: str = ARTICLES) -> None:
        nonlocal bar
        if bar is None and total >= PROGRESS_MIN_FILES and sys.stderr.isatty():
            bar = click.progressbar(length=total, label=stage, file=sys.stderr)
            bar.__enter__()
        if bar is not None:
            bar.update(done - bar.pos)
            if done == total:  # a first build reads in stages (see feeds.build.ahead)
                bar.__exit__(None, None, None)
                bar = None

    reporter: Progress = progress
    try:
        return build(config, write=write, progress=reporter)
    except ConfigError as exc:
        _fail_config(exc, config.path or Path(DEFAULT_CONFIG))
        raise AssertionError("unreachable") from exc
    except FeedsError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        if bar is not None:
            bar.__exit__(None, None, None)
        # What was published stays served; the next build does what this one left.
        click.secho("interrupted: the next build carries on from here", fg="red", err=True)
        sys.exit(130)  # 128 + SIGINT, as a shell reports it


def _print_report(report: BuildReport, config: Config, verbose: bool, *, wrote: bool) -> None:
    for error in report.errors:
        click.secho(f"error: {error}", fg="red", err=True)
    # A feed that stays empty is a mistake in the configuration, which `check` is for.
    shown = report.warnings if verbose else report.unmatched_categories if not wrote else ()
    for warning in shown:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    published = "published" if wrote else "would be published"
    click.echo(
        f"articles: {report.articles_published} {published}, {report.articles_failed} failed"
        f" (of {report.articles_found} in {config.source.dir})"
        + (f", {report.files_read} read by this build" if wrote else "")
    )
    if wrote:
        click.echo(
            f"feeds: {report.feeds} published, {report.feeds_changed} changed,"
            f" {report.feeds - report.feeds_changed} unchanged"
        )
        click.echo(_files_line(report, config.output.dir))
    else:
        click.echo(f"feeds: {report.feeds} would be published")
    if dropped := report.head_images_dropped:
        click.echo(
            f"images: {dropped} head image{'s' if dropped > 1 else ''} left out as promo"
            " (clean.drop_images, or shown only in removed cruft)"
        )
    if report.unmatched_categories and wrote and not verbose:
        count = len(report.unmatched_categories)
        click.secho(
            f"warning: {count} categor{'ies' if count > 1 else 'y'} of configured feeds"
            f" match{'' if count > 1 else 'es'} no article; run with -v, or `feeds check`,"
            " for the closest paths",
            fg="yellow",
            err=True,
        )
    if report.warnings and not verbose:
        click.echo(f"warnings: {len(report.warnings)} (run with -v to list them)")
    click.echo(f"time: {report.seconds:.2f}s{_first_build_times(report)}")


def _files_line(report: BuildReport, output_dir: Path) -> str:
    if not (report.files_written or report.files_unchanged or report.files_removed):
        return f"files: nothing to write or remove in {output_dir}"  # nothing was compared
    return (
        f"files: {report.files_written} written, {report.files_unchanged} unchanged,"
        f" {report.files_removed} removed in {output_dir}"
    )


def _first_build_times(report: BuildReport) -> str:
    """When a first build's feeds, its other pages and its search index were out: a large
    archive's feeds come out before the other pages (see feeds.build.ahead), and the
    search index is filled after both."""
    times = []
    if report.feeds_out is not None:
        times.append(f"feeds published after {report.feeds_out:.2f}s")
    filling = report.timings.get(FILLING)
    if filling is not None:
        published = f"{report.seconds - filling:.2f}s"
        times.append(
            f"every page after {published}" if times else f"feeds published after {published}"
        )
        times.append(f"then the search index filled in {filling:.2f}s")
    return f" ({', '.join(times)})" if times else ""
