"""Log lines for `feeds serve` and `feeds watch`: plain text, or one JSON object per line.

A JSON line carries `time` (ISO 8601, UTC), `level`, `logger` and `message`, plus the
structured fields a line was logged with (`extra={"fields": {...}}`: a build's counts),
and `exception` with the traceback when there is one.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from feeds.errors import FeedsError

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_RESERVED = frozenset({"time", "level", "logger", "message", "exception", "stack"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line (a newline inside a message is escaped, never a new line)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update((k, v) for k, v in fields.items() if k not in _RESERVED)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(log_format: str = "text") -> None:
    """Log INFO and up to stderr, one line each, unless the host program set logging up."""
    if log_format not in LOG_FORMATS:
        raise FeedsError(f"log format {log_format!r}: use one of {', '.join(LOG_FORMATS)}")
    if not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
        handler.setFormatter(formatter)
        logging.basicConfig(level=logging.INFO, handlers=[handler])
    # APScheduler logs every job run at INFO; feeds logs each build itself.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
