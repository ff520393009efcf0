"""One builder per output dir: an advisory lock on a file inside it.

The lock is held for the life of the process and released by the kernel when the process
ends, however it ends, so a crashed builder never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = ".feeds-builder.lock"


class BuilderLock:
    """The right to write one output dir."""

    def __init__(self, output_dir: Path) -> None:
        self.path = output_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if no other process holds it; never waits."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """Who holds the lock, for messages: "pid 1234", or "another process"."""
        try:
            pid = self.path.read_text().strip()
        except OSError:
            pid = ""
        return f"pid {pid}" if pid.isdigit() else "another process"

    def release(self) -> None:
        """Give the lock up (also done by the kernel when the process ends)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def busy_message(self) -> str:
        """What to tell a user whose builder could not take the lock."""
        return (
            f"another feeds process ({self.holder()}) is already building "
            f"{self.path.parent}; only one builder may write an output dir"
        )
