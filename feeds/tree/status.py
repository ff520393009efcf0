"""The last build's outcome, and what the builder is doing now, kept in the state dir so
that any process can report them (`/healthz` in the web app, a second `feeds serve` that
does not build)."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from feeds.errors import FeedsError
from feeds.tree.writer import process_exists, write_atomic

STATUS_FILE = "status.json"
ACTIVITY_FILE = "builder.json"
PROGRESS_EVERY = 0.5  # seconds between two writes of a build's progress to the state dir
MAX_LISTED = 100  # errors listed in the status; the count is always exact

# What a build's progress is told it reads: every article; on a first build of a large
# archive, every front matter first, then the articles of the feeds (feeds.build.ahead).
ARTICLES = "articles"
FRONT_MATTER = "front matter"
FEEDS_ARTICLES = "feeds' articles"


class Progress(Protocol):
    """Told how far a build has read: `done` of `total` files, at each file or batch."""

    def __call__(self, done: int, total: int, stage: str = ARTICLES) -> None: ...


@dataclass(frozen=True)
class BuildStatus:
    """What /healthz reports about the last finished build."""

    finished: str  # ISO 8601, UTC
    seconds: float
    ok: bool
    articles_found: int
    articles_published: int
    articles_failed: int
    feeds: int
    feeds_changed: int
    error_count: int
    errors: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSON object /healthz returns."""
        return asdict(self) | {"errors": list(self.errors)}


def write_status(state_dir: Path, status: BuildStatus) -> None:
    """Record a finished build; atomic, so a reader never sees half a status."""
    data = json.dumps(status.to_json(), ensure_ascii=False, indent=2) + "\n"
    write_atomic(state_dir / STATUS_FILE, data.encode("utf-8"))


def read_status(state_dir: Path) -> dict[str, Any] | None:
    """The last build's status, or None before the first build (or if it is unreadable)."""
    try:
        status = json.loads((state_dir / STATUS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


def utc_now_iso() -> str:
    """The current time for a status record (never for a published document)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Activity:
    """What a builder is doing: "settling" (waiting for files still being written),
    "building", "idle" (between builds), or "failed" (the last build could not run)."""

    state: str
    pid: int
    detail: str = ""
    done: int = 0  # files read so far by this build
    total: int = 0  # files this build reads

    def to_json(self) -> dict[str, Any]:
        """The JSON object the activity file holds."""
        return asdict(self)


class BuilderActivity:
    """The activity of this process's builder: kept in memory for its own web app (which
    it reaches even when the state dir cannot be written), and mirrored to the state dir
    for the processes that only serve."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._lock = threading.Lock()
        self._current: Activity | None = None
        self._written = float("-inf")  # when the progress was last written

    def current(self) -> Activity | None:
        """The activity last set, or None before the builder started."""
        with self._lock:
            return self._current

    def set(self, state: str, detail: str = "") -> None:
        """A new state (written to the state dir at once)."""
        self._record(Activity(state, os.getpid(), detail), force=True)

    def progress(self, done: int, total: int, stage: str = ARTICLES) -> None:
        """Files read so far by the running build, and what of them it reads (written
        every PROGRESS_EVERY seconds)."""
        activity = Activity("building", os.getpid(), f"reading {stage}", done, total)
        self._record(activity, force=done == total)

    def _record(self, activity: Activity, *, force: bool) -> None:
        with self._lock:
            self._current = activity
        now = time.monotonic()
        if not force and now - self._written < PROGRESS_EVERY:
            return
        self._written = now
        data = json.dumps(activity.to_json(), ensure_ascii=False) + "\n"
        # A state dir that cannot be written is the build's to report, with its path.
        with contextlib.suppress(OSError, FeedsError):
            self.state_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(self.state_dir / ACTIVITY_FILE, data.encode("utf-8"))


def read_activity(state_dir: Path) -> Activity | None:
    """What the builder of this state dir is doing, or None when no builder runs (its
    process is gone) or none ever recorded anything."""
    try:
        fields = json.loads((state_dir / ACTIVITY_FILE).read_text("utf-8"))
        activity = Activity(**fields)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(activity.pid, int) or not process_exists(activity.pid):
        return None
    return activity
