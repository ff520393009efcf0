"""`feeds serve` and `feeds watch`: long-running processes around the builder.

`serve` builds, watches and serves HTTP in one process; `watch` builds and watches only
(for a static host, nginx or a CDN). Either takes the output dir's builder lock first:
a second process on the same output says so, and `serve` then only serves.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType

from flask import Flask

from feeds.config import Config, load_config
from feeds.errors import FeedsError
from feeds.lock import BuilderLock
from feeds.logs import configure_logging as configure_logging  # also feeds.serve's
from feeds.watch import Watcher
from feeds.web import create_app
from feeds.wsgi import make_server

log = logging.getLogger("feeds")


class BuilderBusy(FeedsError):
    """Another process already builds this output dir."""


def start_builder(config: Config, lock: BuilderLock) -> Watcher | None:
    """Take the builder lock and start building; None when another process holds it.
    Raises FeedsError when the output dir cannot hold the lock (e.g. it is read-only)."""
    if not lock.acquire():
        return None
    watcher = Watcher(config)
    watcher.start()
    return watcher


def serve(config: Config, host: str, port: int, threads: int = 8) -> None:
    """Build and watch (unless another process does), serve until SIGINT or SIGTERM."""
    lock = BuilderLock(config.output.dir)
    try:
        watcher = start_builder(config, lock)
        if watcher is None:
            log.warning("%s; this process only serves", lock.busy_message())
    except FeedsError as exc:  # e.g. a read-only output dir: what is there is still served
        watcher = None
        log.error("%s; this process only serves", exc)
    app = create_app(config, builds=None if watcher is None else watcher.metrics)
    server = make_server(app, host, port, threads)
    # A single listening socket (the only kind created here) knows the port it got.
    bound = getattr(server, "effective_port", port)
    _raise_on_sigterm()  # before the line that says it is up: a SIGTERM after it is clean
    try:
        log.info("serving %s on http://%s:%s/", config.output.dir, host, bound)
        server.run()  # returns when interrupted: waitress closes its sockets itself
    except KeyboardInterrupt:
        pass
    finally:
        log.info("shutting down")
        if watcher is not None:
            watcher.stop()  # let a running build finish its atomic writes
        server.close()
        lock.release()


def watch(config: Config) -> None:
    """Build and watch until SIGINT or SIGTERM; BuilderBusy if another process builds."""
    lock = BuilderLock(config.output.dir)
    watcher = start_builder(config, lock)
    if watcher is None:
        raise BuilderBusy(lock.busy_message())
    _raise_on_sigterm()
    if config.images.proxy:
        log.warning(
            "images.proxy is on, but this process serves nothing: the /images/ URLs the "
            "feeds link work only where `feeds serve` or the WSGI app answers %s",
            config.site.base_url,
        )
    try:
        log.info("watching %s, publishing to %s", config.source.dir, config.output.dir)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        log.info("shutting down")
        watcher.stop()
        lock.release()


def wsgi_app() -> Flask:
    """The app for another WSGI server, e.g. `gunicorn -w 4 'feeds.serve:wsgi_app()'`.

    Reads FEEDS_CONFIG (default config/feeds.yaml) and FEEDS_LOG_FORMAT (text or json).
    Every worker process serves; the one that takes the builder lock also builds and
    watches, so the schedule runs once however many workers there are, and moves to
    another worker if that one dies.
    """
    configure_logging(os.environ.get("FEEDS_LOG_FORMAT") or "text")
    config = load_config(Path(os.environ.get("FEEDS_CONFIG", "config/feeds.yaml")))
    lock = BuilderLock(config.output.dir)
    try:
        watcher = start_builder(config, lock)
        message = lock.busy_message()
    except FeedsError as exc:  # e.g. a read-only output dir: what is there is still served
        watcher, message = None, str(exc)
    if watcher is None:
        log.info("worker %d: %s; this worker only serves", os.getpid(), message)
    else:
        log.info("worker %d builds and watches %s", os.getpid(), config.source.dir)
    app = create_app(config, builds=None if watcher is None else watcher.metrics)
    app.extensions["feeds.builder"] = (lock, watcher)  # kept alive with the app
    return app


def _raise_on_sigterm() -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
