"""The last build's outcome, kept in the state dir so that any process can report it
(`/healthz` in the web app, a second `feeds serve` that does not build)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feeds.publish import write_atomic

STATUS_FILE = "status.json"
MAX_LISTED = 100  # errors listed in the status; the count is always exact


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
