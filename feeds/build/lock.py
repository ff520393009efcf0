"""One builder per output dir: an advisory lock on a file inside it; and a note in the state
dir for each build in progress, so that the next build can tidy up after one that was killed.

The lock is held for the life of the process and released by the kernel when the process
ends, however it ends, so a crashed builder never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from feeds.errors import PublishError
from feeds.tree.writer import UNCHANGED, directory_error

LOCK_FILE = ".feeds-builder.lock"
NOTE_FILE = "build-in-progress"  # in the state dir; empty when the last build finished

# The descriptors of the locks this process holds. A forked worker process closes its
# copies at once: an flock lasts while any copy is open, and the lock must end with the
# process that took it, not with the last of its workers.
_held: set[int] = set()


def _close_copies() -> None:
    for fd in _held:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_close_copies)


class BuilderLock:
    """The right to write one output dir."""

    def __init__(self, output_dir: Path) -> None:
        self.path = output_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if no other process holds it; never waits."""
        if self._fd is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except (FileExistsError, NotADirectoryError) as exc:  # a file where a directory goes
            raise directory_error(self.path.parent, exc) from exc
        except OSError as exc:
            raise PublishError(
                f"{self.path}: cannot open the builder lock ({exc.strerror or exc}): check that "
                f"the output dir is writable; {UNCHANGED}"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        with contextlib.suppress(OSError):  # the pid only serves messages (and a full disk
            os.ftruncate(fd, 0)  # must be reported by the build, with the path it failed on)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        _held.add(fd)
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
            _held.discard(self._fd)
            os.close(self._fd)
            self._fd = None

    def busy_message(self) -> str:
        """What to tell a user whose builder could not take the lock."""
        return (
            f"another feeds process ({self.holder()}) is already building "
            f"{self.path.parent}; only one builder may write an output dir"
        )


@dataclass(frozen=True)
class Interrupted:
    """What the note says about the builds that never finished."""

    builders: tuple[int, ...]  # the pid of each, oldest first
    since_ns: int  # when the first of them started, by the file system's clock
    failed: bool = False  # the last of them raised an error (it was not killed)


class BuildNote:
    """The note a build keeps in the state dir: locked while the build runs, emptied when it
    finishes, so a note that is neither locked nor empty was left by a killed build. The
    builds it names stay in it until one has tidied up after them (see Builder)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / NOTE_FILE
        self._fd: int | None = None
        self._interrupted: Interrupted | None = None  # what the note names besides this build

    def begin(self) -> Interrupted | None:
        """Note that a build starts; return what earlier builds left if they were cut short."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _note_error(self.path, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # another build of this state dir is running: the note is its own
            return None
        self._fd = fd
        _held.add(fd)
        try:
            info = os.fstat(fd)
            previous = os.read(fd, 1 << 16)
            interrupted = _parse(previous, info.st_mtime_ns) if previous.strip() else None
            self._write(interrupted)
        except OSError as exc:
            self.close()
            raise _note_error(self.path, exc) from exc
        return interrupted

    def tidied(self) -> None:
        """The builds the note named have been tidied up after: only this one is left."""
        self._write(None)

    def finish(self) -> None:
        """The build finished: empty the note."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
        self.close()

    def fail(self) -> None:
        """The build raised an error: its note stays, marked so, for the next to tidy up."""
        with contextlib.suppress(OSError):
            self._write(self._interrupted, failed=True)
        self.close()

    def close(self) -> None:
        """Stop holding the note and leave it as it is."""
        if self._fd is not None:
            _held.discard(self._fd)
            os.close(self._fd)
            self._fd = None

    def _write(self, interrupted: Interrupted | None, *, failed: bool = False) -> None:
        self._interrupted = interrupted
        if self._fd is None:
            return
        builders = [*(interrupted.builders if interrupted else ()), os.getpid()]
        note: dict[str, object] = {"builders": builders}
        if interrupted is not None:  # else the note's own time says when this build started
            note["since_ns"] = interrupted.since_ns
        if failed:
            note["failed"] = True
        data = json.dumps(note).encode()
        # Written over the old note, then cut to length: killed in between, the note
        # still starts with a whole record (read with raw_decode), never an empty one.
        os.pwrite(self._fd, data, 0)
        os.ftruncate(self._fd, len(data))


def _parse(note: bytes, mtime_ns: int) -> Interrupted:
    try:
        fields, _ = json.JSONDecoder().raw_decode(note.decode())
        builders = tuple(int(pid) for pid in fields["builders"])
        failed = fields.get("failed") is True
        return Interrupted(builders, int(fields.get("since_ns", mtime_ns)), failed)
    except (ValueError, KeyError, TypeError, AttributeError):
        return Interrupted((), mtime_ns)  # unreadable: the files can still be tidied


def _note_error(path: Path, exc: OSError) -> PublishError:
    return PublishError(
        f"{path}: cannot write ({exc.strerror or exc}): check that the state dir is writable "
        f"and the disk has space; {UNCHANGED}"
    )
