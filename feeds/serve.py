"""`feeds serve`: one process that builds, rebuilds on a schedule and serves HTTP.

The HTTP server is waitress, a production WSGI server that runs anywhere Python does;
the rebuild runs in APScheduler's background thread, one at a time.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from feeds.build import BuildReport, build
from feeds.config import Config
from feeds.errors import FeedsError
from feeds.web import create_app
from feeds.wsgi import make_server

log = logging.getLogger("feeds")


class Builder:
    """Runs builds one at a time and logs each; a failed build never stops the service."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()

    def run(self) -> BuildReport | None:
        """Build once; returns the report, or None when the build could not run."""
        with self._lock:
            try:
                report = build(self.config)
            except FeedsError as exc:
                log.error("build failed: %s", exc)
                return None
            except Exception:  # a bug must not kill the scheduler thread
                log.exception("build crashed; the published tree is unchanged")
                return None
        log_report(report)
        return report


def log_report(report: BuildReport) -> None:
    """One line per build, then one per problem."""
    log.info(
        "build: %d articles (%d failed), %d feeds (%d changed, %d failed), "
        "%d files written, %d removed, %.2fs",
        report.articles_found,
        report.articles_failed,
        report.feeds,
        report.feeds_changed,
        report.feeds_failed,
        report.files_written,
        report.files_removed,
        report.seconds,
    )
    for error in report.errors:
        log.warning("%s", error)


def start_scheduler(builder: Builder, interval: float) -> BackgroundScheduler:
    """Rebuild every `interval` seconds; runs that fall behind are merged, never stacked."""
    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(
        builder.run,
        "interval",
        seconds=interval,
        id="rebuild",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    scheduler.start()
    return scheduler


def serve(config: Config, host: str, port: int, threads: int = 8) -> None:
    """Build once, then serve and rebuild until SIGINT or SIGTERM."""
    builder = Builder(config)
    builder.run()
    scheduler = start_scheduler(builder, config.schedule.interval)
    server = make_server(create_app(config), host, port, threads)
    # A single listening socket (the only kind created here) knows the port it got.
    bound = getattr(server, "effective_port", port)
    log.info("serving %s on http://%s:%s/", config.output.dir, host, bound)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()  # returns when interrupted: waitress closes its sockets itself
    except KeyboardInterrupt:
        pass
    finally:
        log.info("shutting down")
        scheduler.shutdown(wait=True)  # let a running build finish its atomic writes
        server.close()
