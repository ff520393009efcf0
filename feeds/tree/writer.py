"""Write the output tree: each file atomically (temp file + os.replace), only when its bytes
changed, and remove what an earlier build published that this one no longer does.

Text documents get a gzip twin (`feeds/all.atom.gz`), written before the document itself,
for the web app and for nginx's `gzip_static`. Each file's modification time is set to
its document's own time (a feed's newest entry), which is what `Last-Modified` reports.

A reader or web server never sees a partial file: a path holds either the old bytes or the
new ones. Only files listed in the manifest are ever removed, so files a user put into the
output dir by hand are left alone.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import itertools
import os
import re
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from feeds.errors import PublishError
from feeds.tree.manifest import Manifest, read_listed

# What a PublishError says about the tree: a write can fail before anything changed, or
# part-way, when some documents are already new versions (each one whole).
UNCHANGED = "nothing was changed"
HALF_WAY = "every published file is still whole, and the next build completes the update"
COMPRESSIBLE = (".atom", ".rss", ".json", ".html", ".xml", ".txt")
# zlib lets go of the GIL while it compresses: the twins of the next documents are made on
# the other cores while one is written.
_COMPRESSORS = os.cpu_count() or 1


@dataclass(frozen=True)
class Document:
    """One file to publish: its bytes and the time it was last really modified."""

    data: bytes
    modified: float  # epoch seconds; becomes the file's mtime and its Last-Modified


@dataclass(frozen=True)
class PublishResult:
    """What one publish did, path by path."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def publish(
    output_dir: Path, files: Mapping[str, Document], keep: Collection[str] = ()
) -> PublishResult:
    """Make `output_dir` hold exactly `files` (relative POSIX path -> Document), in their order.

    Paths in `keep` are neither written nor removed: the last good version of something
    that failed this time stays published.
    """
    previous = read_listed(output_dir) or set()
    removals = previous - set(files) - set(keep)
    return publish_changes(output_dir, files.items(), removals, upcoming=files)


def publish_changes(
    output_dir: Path,
    writes: Iterable[tuple[str, Document]],
    removals: Iterable[str],
    written_elsewhere: Iterable[str] = (),
    upcoming: Iterable[str] = (),
    *,
    manifest: Manifest | None = None,
) -> PublishResult:
    """Write these documents (skipping unchanged bytes), remove these paths, update the manifest.

    `writes` may be a generator: documents are written as they come, so a build need not
    hold them all in memory. `written_elsewhere`: paths other processes already wrote with
    `write_if_changed`, to list in the manifest. `upcoming`: the paths `writes` will give.
    `manifest`: the tree's manifest, as the caller opened it this build (else opened here).
    """
    listed = manifest if manifest is not None else Manifest.create(output_dir)
    try:
        # The web app serves only listed paths. A build killed after writing a feed but
        # before the removals would leave the feed linking pages that are not served yet,
        # so every path is listed before it is written (a listed path not there yet is a 404).
        listed.add(itertools.chain(written_elsewhere, upcoming))
        written: list[str] = []
        unchanged: list[str] = []
        with ThreadPoolExecutor(_COMPRESSORS, thread_name_prefix="gzip") as compressors:
            for relative, document, twin in _twins_ahead(writes, compressors):
                changed = write_if_changed(output_dir, relative, document, twin=twin)
                (written if changed else unchanged).append(relative)
        listed.add(itertools.chain(written, unchanged))
        stale = sorted(set(removals) - set(written) - set(unchanged))
        for relative in stale:
            _remove(output_dir, relative)
        listed.discard(stale)
    finally:
        if manifest is None:
            listed.close()
    return PublishResult(tuple(written), tuple(unchanged), tuple(stale))


def _twins_ahead(
    writes: Iterable[tuple[str, Document]], compressors: Executor
) -> Iterator[tuple[str, Document, Callable[[], bytes] | None]]:
    """The documents in their order, each one that gets a gzip twin with the twin being
    made by `compressors`, a few documents ahead of the one being written."""
    ahead: deque[tuple[str, Document, Callable[[], bytes] | None]] = deque()
    for relative, document in writes:
        twin = None
        if is_compressible(relative):
            twin = compressors.submit(gzip_bytes, document.data).result
        ahead.append((relative, document, twin))
        if len(ahead) > 2 * _COMPRESSORS:
            yield ahead.popleft()
    yield from ahead


def write_if_changed(
    output_dir: Path,
    relative: str,
    document: Document,
    *,
    twin: Callable[[], bytes] | None = None,
) -> bool:
    """Write one document atomically unless its bytes are already there; True if written.

    A new page too goes through a temp file and a rename, though the web app serves no
    page before the build lists it: a static server (nginx) serves whatever file is there,
    and would send a page cut short, or empty, for caches to keep.
    `twin`: gives its gzip twin's bytes, when they are being made already.
    """
    _check_relative(relative)
    target = output_dir / relative
    if _same_bytes(target, document.data) and _twin_ok(target, relative):
        if target.stat().st_mtime != document.modified:
            _touch(target, relative, document.modified)
        return False
    if is_compressible(relative):
        twin_bytes = twin() if twin is not None else gzip_bytes(document.data)
        write_atomic(_twin(target), twin_bytes, document.modified)
    write_atomic(target, document.data, document.modified)
    return True


def is_compressible(relative: str) -> bool:
    """Documents worth a gzip twin: the ones readers poll. (Article pages are read once,
    by a person, and archive documents once by each reader that backfills: writing a twin
    for each would double the files a cold build creates.)"""
    return (
        relative.endswith(COMPRESSIBLE)
        and not relative.startswith("articles/")
        and "/archive/" not in relative
    )


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: no timestamp or file name in the header, so same bytes in, same out."""
    # Level 6 (zlib's default), not 9: every build that changes a feed compresses it
    # again, and level 9 buys a few bytes with much of that time (see
    # docs/performance.md, "Other choices the profile called for").
    return gzip.compress(data, compresslevel=6, mtime=0)


def _twin(target: Path) -> Path:
    return target.with_name(target.name + ".gz")


def _twin_ok(target: Path, relative: str) -> bool:
    # The relative path, not the name: whether a file has a twin depends on its directory.
    return not is_compressible(relative) or _twin(target).exists()


def _touch(target: Path, relative: str, modified: float) -> None:
    try:
        os.utime(target, (modified, modified))
        if is_compressible(relative):
            os.utime(_twin(target), (modified, modified))
    except OSError as exc:
        raise _publish_error(target, exc) from exc


def write_atomic(target: Path, data: bytes, modified: float | None = None) -> None:
    """Replace `target` with `data` in one step, or raise PublishError and leave it untouched."""
    try:
        fd, temp = _create(target.parent, target.name)
    except OSError as exc:
        raise _publish_error(target, exc) from exc
    try:
        _fill(fd, data, modified)
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise _publish_error(target, exc) from exc


def _fill(fd: int, data: bytes, modified: float | None) -> None:
    """Write `data` to a new file's descriptor, set its time, close it."""
    # Plain descriptor calls, not a file object: a cold build fills one file per article.
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if modified is not None:
            os.utime(fd, (modified, modified))  # after the last write, which would reset it
    finally:
        os.close(fd)


def _open_new(path: str, directory: Path) -> int:
    """Create the file `path` in `directory` (made when missing), never one that exists."""
    if directory not in _made_dirs:
        directory.mkdir(parents=True, exist_ok=True)
        _made_dirs.add(directory)
    try:
        return os.open(path, _NEW_FILE, 0o644)
    except FileNotFoundError:  # the directory was removed since: make it again
        directory.mkdir(parents=True, exist_ok=True)
        return os.open(path, _NEW_FILE, 0o644)


def check_writable(directory: Path) -> None:
    """Raise PublishError now, before anything is replaced, if `directory` cannot take a new
    file (read-only, full disk), rather than fail half-way through a build."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = _create(directory, ".feeds-probe")
        try:
            os.write(fd, b"probe\n")
        finally:
            os.close(fd)
            os.unlink(temp)
    except OSError as exc:
        raise directory_error(directory, exc) from exc


def writable_problem(directory: Path) -> PublishError | None:
    """Why a build could not write `directory`, found without writing anything (for
    `feeds check`): a file in its place, or a directory this process may not write."""
    for path in (directory, *directory.parents):  # the nearest that exists holds the new
        if path.is_dir():
            if os.access(path, os.W_OK | os.X_OK, effective_ids=True):
                return None
            return directory_error(directory, PermissionError(errno.EACCES, "Permission denied"))
        if os.path.lexists(path):
            return directory_error(directory, NotADirectoryError(errno.ENOTDIR, "Not a directory"))
    return None


def directory_error(directory: Path, exc: OSError) -> PublishError:
    """The PublishError for a directory that cannot be made or written; it names the file
    that stands where the directory (or one of its parents) should be, if that is why."""
    for path in (directory, *directory.parents):
        if os.path.lexists(path) and not path.is_dir():
            return PublishError(
                f"{path}: is a file, not a directory: point output.dir (and state.dir) at a "
                f"directory, or move the file away; {UNCHANGED}"
            )
    return _publish_error(directory, exc, UNCHANGED)


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
_serial = itertools.count()
_made_dirs: set[Path] = set()  # directories known to exist, so each is made once
TEMP_NAME = re.compile(r"\..+\.(\d+)\.\d+\.tmp")  # the names _create gives


def _create(directory: Path, name: str) -> tuple[int, str]:
    """A new temp file beside `name`: its descriptor and path."""
    # A temp name of our own (pid and a counter) rather than mkstemp's: a cold build
    # writes one file per article, and mkstemp's random names, retries and chmod cost
    # more than the write. O_EXCL refuses a name a killed process left; the next build
    # removes those, but until then (a reused pid) another counter value is tried.
    attempts = 0
    while True:
        temp = f"{directory}/.{name}.{os.getpid()}.{next(_serial)}.tmp"
        try:
            return _open_new(temp, directory), temp
        except FileExistsError:
            attempts += 1
            if attempts == 100:
                raise


def _publish_error(target: Path, exc: OSError, outcome: str = HALF_WAY) -> PublishError:
    return PublishError(
        f"{target}: cannot write ({exc.strerror or exc}): check that the output dir is writable "
        f"and the disk has space; {outcome}"
    )


def _check_relative(relative: str) -> None:
    if relative and relative[0] != "/" and "/." not in "/" + relative:
        return  # no segment is empty at the start or begins with a dot: plainly inside
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise PublishError(f"{relative!r}: refusing to write outside the output dir")


def _same_bytes(target: Path, data: bytes) -> bool:
    try:
        if target.stat().st_size != len(data):
            return False
        return target.read_bytes() == data
    except OSError:
        return False


def tidy_interrupted(output_dir: Path, dirs: Iterable[Path], since_ns: int) -> tuple[int, int]:
    """After a build that was killed: remove the temp files dead processes left in `dirs`
    and the pages it wrote but never listed (the next build reads their articles again,
    as the killed one never committed them),
    and list in the manifest the feeds written since `since_ns` that it never listed, so
    that the next build removes those no longer published. Returns the counts.
    """
    removed = 0
    for directory in dirs:
        for parent, _, names in os.walk(directory):
            for name in names:
                match = TEMP_NAME.fullmatch(name)
                if match and not _alive(int(match.group(1))):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(parent, name))
                        removed += 1
    listed = read_listed(output_dir) or set()
    found = set()
    for top in ("articles", "feeds"):  # only where the publisher writes: never a user's file
        for parent, _, names in os.walk(output_dir / top):
            for name in names:
                path = Path(parent, name)
                with contextlib.suppress(OSError):
                    if name.startswith(".") or path.stat().st_ctime_ns < since_ns:
                        continue
                    relative = path.relative_to(output_dir).as_posix()
                    if top == "articles" and relative not in listed:
                        path.unlink()
                        removed += 1
                        continue
                    found.add(relative.removesuffix(".gz"))  # a twin goes with its document
    if found - listed:
        with contextlib.closing(Manifest.create(output_dir)) as manifest:
            manifest.add(found - listed)
    return removed, len(found - listed)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process writes nothing before the tidying is done
    return process_exists(pid)


def process_exists(pid: int) -> bool:
    """Whether a process with this id runs (someone else's too)."""
    if pid <= 0:
        return False  # 0 and negative ids name process groups
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except (OSError, OverflowError):
        return False
    return True


def _remove(output_dir: Path, relative: str) -> None:
    try:
        _check_relative(relative)
    except PublishError:
        return  # a tampered manifest must not make us delete outside the tree
    target = output_dir / relative
    try:
        _twin(target).unlink(missing_ok=True)
        target.unlink(missing_ok=True)
    except OSError as exc:
        raise _publish_error(target, exc) from exc
    # Drop directories the removal emptied, up to (not including) the output dir.
    parent = target.parent
    while parent != output_dir and parent.is_relative_to(output_dir):
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
