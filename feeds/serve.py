"""`feeds serve` and `feeds watch`: long-running processes around the builder.

`serve` builds, watches and serves HTTP in one process; `watch` builds and watches only
(for a static host, nginx or a CDN). `serve` binds its port first, then takes the output
dir's builder lock and answers requests while the first build runs; a second process on
the same output says so, and `serve` then only serves.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from flask import Flask

from feeds.build.lock import BuilderLock
from feeds.config import BASE_URL_ENV, Config, load_config
from feeds.errors import FeedsError
from feeds.logs import configure_logging as configure_logging  # also feeds.serve's
from feeds.tree.status import BuilderActivity
from feeds.watch.watcher import Watcher
from feeds.web.app import create_app
from feeds.web.metrics import BuildMetrics
from feeds.web.server import listen, make_server

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")

log = logging.getLogger("feeds")


class BuilderBusy(FeedsError):
    """Another process already builds this output dir."""


@dataclass(frozen=True)
class Builder:
    """This process's part in building an output dir: the watcher when it builds, and what
    /healthz says of the builder either way."""

    watcher: Watcher | None
    activity: BuilderActivity | None  # None: another process builds; ask the state dir
    refused: str = ""  # why this process does not build

    @property
    def metrics(self) -> BuildMetrics | None:
        """The metrics of the builds this process runs."""
        return None if self.watcher is None else self.watcher.metrics


def claim_builder(config: Config, lock: BuilderLock) -> Builder:
    """Take the builder lock and make the watcher (not started yet); or say why this
    process cannot build: another one holds the lock, or the output dir cannot hold it."""
    try:
        if lock.acquire():
            watcher = Watcher(config)
            return Builder(watcher, watcher.activity)
        return Builder(None, None, lock.busy_message())
    except FeedsError as exc:  # e.g. a read-only output dir: what is there is still served
        activity = BuilderActivity(config.state.dir)
        activity.set("failed", str(exc))  # for /healthz, in this process at least
        return Builder(None, activity, str(exc))


def run_server(config: Config, host: str, port: int, threads: int = 8) -> None:
    """Serve at once, building and watching in the background (unless another process
    does); stop on SIGINT or SIGTERM. OSError, before anything else, when the address is
    taken."""
    sock = listen(host, port)  # first: a busy port fails before any build or state
    lock = BuilderLock(config.output.dir)
    try:
        builder = claim_builder(config, lock)
        if builder.activity is None:
            log.warning("%s; this process only serves", builder.refused)
        elif builder.refused:
            log.error("%s; this process only serves", builder.refused)
        app = create_app(config, builds=builder.metrics, builder=builder.activity)
        server = make_server(app, host, port, threads, sock=sock)
    except BaseException:
        sock.close()
        lock.release()
        raise
    # A single listening socket (the only kind created here) knows the port it got.
    bound = int(getattr(server, "effective_port", port))  # waitress gives it as text
    if builder.watcher is not None:
        builder.watcher.start()  # the first build runs while requests are answered
    _raise_on_sigterm()  # before the line that says it is up: a SIGTERM after it is clean
    try:
        log.info("serving %s on http://%s:%s/", config.output.dir, host, bound)
        if warning := _base_url_warning(config.site.base_url, bound):
            log.warning("%s", warning)
        server.run()  # returns when interrupted: waitress closes its sockets itself
    except KeyboardInterrupt:
        pass
    finally:
        log.info("shutting down")
        if builder.watcher is not None:
            builder.watcher.stop()  # let a running build finish its atomic writes
        server.close()
        lock.release()


def run_watcher(config: Config) -> None:
    """Build and watch until SIGINT or SIGTERM; BuilderBusy if another process builds."""
    lock = BuilderLock(config.output.dir)
    if not lock.acquire():
        raise BuilderBusy(lock.busy_message())
    watcher = Watcher(config)
    watcher.start()
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
    watches, in the background, so the schedule runs once however many workers there
    are, and moves to another worker if that one dies.
    """
    configure_logging(os.environ.get("FEEDS_LOG_FORMAT") or "text")
    config = load_config(Path(os.environ.get("FEEDS_CONFIG", "config/feeds.yaml")))
    lock = BuilderLock(config.output.dir)
    builder = claim_builder(config, lock)
    app = create_app(config, builds=builder.metrics, builder=builder.activity)
    if builder.watcher is None:
        log.info("worker %d: %s; this worker only serves", os.getpid(), builder.refused)
    else:
        log.info("worker %d builds and watches %s", os.getpid(), config.source.dir)
        builder.watcher.start()
    app.extensions["feeds.builder"] = (lock, builder.watcher)  # kept alive with the app
    return app


def _base_url_warning(
    base_url: str, port: int, answers: Callable[[str, int], bool] | None = None
) -> str | None:
    """What is wrong when the site's links name this machine on another port, where
    nothing answers (a newcomer's `--port` with the example config): every link would lead
    nowhere. None otherwise: a base_url of another host is a proxy's, or a name this server
    cannot know, and a port something answers on is a proxy's here (nginx before it)."""
    url = urlsplit(base_url)
    if url.hostname not in LOOPBACK_NAMES:
        return None
    linked = url.port or (443 if url.scheme == "https" else 80)
    if linked == port or (answers or _answers)(url.hostname, linked):
        return None
    return (
        f"site.base_url is {base_url}, so every link in the feeds and pages points to port "
        f"{linked}, where nothing answers, but this server listens on {port}: set "
        f"site.base_url, or {BASE_URL_ENV}, to the address readers use"
    )


def _answers(host: str, port: int) -> bool:
    """Whether something accepts connections at a loopback address."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _raise_on_sigterm() -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
