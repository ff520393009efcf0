"""Tell a WebSub hub which feeds a build changed (W3C WebSub, section 4: "Publishing").

The feeds name the hub (`rel="hub"`, see feeds.render.formats); after a build, the hub gets one
`hub.mode=publish` POST per changed document, and then fetches it and pushes it to the
subscribers. The recommendation leaves this ping to each hub; the form-encoded POST with
one `hub.url` is the one every public hub accepts.

Pings go out from one background thread, so a build never waits for the hub: a hub that
is slow, down or refusing costs a log line, never a build. Failures that may pass
(connection errors, timeouts, 5xx, 429) are retried with exponential backoff; any other
answer is final. A document changed again while its ping still waits is pinged once.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from feeds import __version__
from feeds.config import Config
from feeds.tree.report import BuildReport
from feeds.tree.urls import FEED_FORMATS, absolute

log = logging.getLogger("feeds.watch.websub")

ATTEMPTS = 5  # pings per document: the first, then retries after 1, 2, 4 and 8 s
BACKOFF = 1.0  # seconds before the first retry; doubled for each next one
TIMEOUT = 10.0  # seconds for each request
STOP_WAIT = 2.0  # seconds a stop waits for the ping being sent


def changed_topics(config: Config, report: BuildReport) -> list[str]:
    """The public URLs of the feed documents a build changed: the topics to ping for."""
    return [
        absolute(config.site.base_url, path)
        for path in report.feeds_written
        if path.rpartition(".")[2] in FEED_FORMATS
    ]


@dataclass(frozen=True)
class Outcome:
    """What one ping came to."""

    ok: bool
    retry: bool  # a failure that may pass
    reason: str


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect of a POST with a GET and no body: the hub would never
    # see the ping. A hub that moved is reported instead, so the config can follow it.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def ping(hub: str, topic: str, timeout: float = TIMEOUT) -> Outcome:
    """POST `hub.mode=publish` for one topic URL to the hub; never raises."""
    request = urllib.request.Request(
        hub,
        data=urlencode({"hub.mode": "publish", "hub.url": topic}).encode("ascii"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": f"feeds/{__version__}",
        },
        method="POST",
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
        reason = getattr(exc, "reason", None) or exc
        return Outcome(ok=False, retry=True, reason=f"cannot reach the hub ({reason})")
    if 200 <= status < 300:
        return Outcome(ok=True, retry=False, reason=f"HTTP {status}")
    if status == 429 or status >= 500:
        return Outcome(ok=False, retry=True, reason=f"HTTP {status}")
    if 300 <= status < 400:
        return Outcome(
            ok=False, retry=False, reason=f"HTTP {status}: the hub moved; update websub.hub"
        )
    return Outcome(ok=False, retry=False, reason=f"HTTP {status}: the hub refused the ping")


@dataclass
class _Waiting:
    due: float  # time.monotonic()
    attempt: int  # 1 for the first ping
    reason: str = ""  # why the last attempt failed


class Notifier:
    """Pings a hub from one background thread; `notify` only queues, so it never blocks."""

    def __init__(
        self,
        hub: str,
        *,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
        timeout: float = TIMEOUT,
    ) -> None:
        self.hub = hub
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self._cond = threading.Condition()  # guards the fields below
        self._waiting: dict[str, _Waiting] = {}  # by topic: a topic waits once
        self._in_flight: str | None = None
        self._failed: dict[str, str] = {}  # topic -> reason, for its last final failure
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread that sends the pings."""
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="websub", daemon=True)
            self._thread.start()

    def notify(self, topics: Iterable[str]) -> None:
        """Queue a ping for each topic; one already waiting is not queued twice."""
        now = time.monotonic()
        with self._cond:
            for topic in topics:
                self._failed.pop(topic, None)
                self._waiting.setdefault(topic, _Waiting(now, 1))
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait until every queued ping has succeeded or failed for good; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._waiting or self._in_flight is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def pending(self) -> dict[str, str]:
        """Topics not yet acknowledged by the hub (waiting, retrying or being sent), with
        why their last attempt failed ("" before the first)."""
        with self._cond:
            waiting = {topic: waiting.reason for topic, waiting in self._waiting.items()}
            if self._in_flight is not None:
                waiting.setdefault(self._in_flight, "")
            return waiting

    def failed(self) -> dict[str, str]:
        """Topics the hub was never told of since they were last queued, with why."""
        with self._cond:
            return dict(self._failed)

    def stop(self, timeout: float = STOP_WAIT) -> None:
        """Stop after the ping being sent, if any, waiting at most `timeout` seconds for it
        (the thread is a daemon: a ping still hanging then cannot keep the process alive);
        the pings still waiting are dropped."""
        with self._cond:
            self._stopping = True
            thread, self._thread = self._thread, None
            dropped = len(self._waiting)
            self._waiting.clear()
            self._cond.notify_all()
        if dropped:
            log.warning("%d pings to %s dropped: stopping", dropped, self.hub)
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                topic = self._next()
                if topic is None:
                    return
                attempt = self._waiting.pop(topic).attempt
                self._in_flight = topic
            try:
                outcome = ping(self.hub, topic, self.timeout)
            except Exception as exc:  # a bug must not end the thread with pings waiting
                log.exception("ping for %s crashed", topic)
                outcome = Outcome(ok=False, retry=False, reason=repr(exc))
            with self._cond:
                self._in_flight = None
                self._settle(topic, attempt, outcome)
                self._cond.notify_all()

    def _next(self) -> str | None:
        """The topic to ping now, after waiting until one is due; None when stopping."""
        while not self._stopping:
            now = time.monotonic()
            soonest = min(self._waiting.items(), key=lambda item: item[1].due, default=None)
            if soonest is not None and soonest[1].due <= now:
                return soonest[0]
            self._cond.wait(None if soonest is None else soonest[1].due - now)
        return None

    def _settle(self, topic: str, attempt: int, outcome: Outcome) -> None:
        if outcome.ok:
            log.info("pinged %s for %s (%s)", self.hub, topic, outcome.reason)
            self._failed.pop(topic, None)
            return
        if outcome.retry and attempt < self.attempts and not self._stopping:
            delay = self.backoff * 2 ** (attempt - 1)
            log.warning(
                "ping to %s for %s failed: %s; retrying in %gs (attempt %d of %d)",
                self.hub,
                topic,
                outcome.reason,
                delay,
                attempt + 1,
                self.attempts,
            )
            # A change queued meanwhile waits for the backoff too: the hub is struggling.
            self._waiting[topic] = _Waiting(time.monotonic() + delay, attempt + 1, outcome.reason)
            return
        tries = f" after {attempt} attempts" if attempt > 1 else ""
        log.warning("%s was not told of %s%s: %s", self.hub, topic, tries, outcome.reason)
        self._failed[topic] = outcome.reason


def ping_all(notifier: Notifier, topics: list[str], wait: float) -> dict[str, str]:
    """Ping for every topic and wait at most `wait` seconds (a one-shot build's way);
    returns the topics the hub was not told of, with why."""
    notifier.start()
    try:
        notifier.notify(topics)
        notifier.wait(wait)
        problems = {t: r for t, r in notifier.failed().items() if t in topics}
        for topic, reason in notifier.pending().items():
            problems.setdefault(topic, f"{reason or 'no answer'}; stopped waiting after {wait:g}s")
    finally:
        notifier.stop(timeout=0)  # a ping still hanging is a daemon thread's to finish
    return problems
