"""Write the output tree: each file atomically (temp file + os.replace), only when its bytes
changed, and remove what an earlier build published that this one no longer does.

A reader or web server never sees a partial file: a path holds either the old bytes or the
new ones. Only files listed in the manifest are ever removed, so files a user put into the
output dir by hand are left alone.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from feeds.errors import PublishError

MANIFEST = ".feeds-manifest.json"


@dataclass(frozen=True)
class PublishResult:
    """What one publish did, path by path."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def publish(
    output_dir: Path, files: Mapping[str, bytes], keep: Collection[str] = ()
) -> PublishResult:
    """Make `output_dir` hold exactly `files` (relative POSIX path -> bytes), in their order.

    Paths in `keep` are neither written nor removed: the last good version of something
    that failed this time stays published.
    """
    for relative in files:
        _check_relative(relative)
    previous = _read_manifest(output_dir)
    kept = {p for p in keep if p in previous and p not in files}
    written: list[str] = []
    unchanged: list[str] = []
    for relative, data in files.items():
        target = output_dir / relative
        if _same_bytes(target, data):
            unchanged.append(relative)
        else:
            write_atomic(target, data)
            written.append(relative)
    stale = sorted(set(previous) - set(files) - kept)
    for relative in stale:
        _remove(output_dir, relative)
    write_atomic(output_dir / MANIFEST, _manifest_bytes([*files, *kept]))
    return PublishResult(tuple(written), tuple(unchanged), tuple(stale))


def write_atomic(target: Path, data: bytes) -> None:
    """Replace `target` with `data` in one step, or raise PublishError and leave it untouched."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _publish_error(target, exc) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)  # mkstemp creates 0600; the web server must be able to read it
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise _publish_error(target, exc) from exc


def _publish_error(target: Path, exc: OSError) -> PublishError:
    return PublishError(
        f"{target}: cannot write ({exc.strerror or exc}): check that the output dir is writable "
        "and the disk has space; the files published before are unchanged"
    )


def _check_relative(relative: str) -> None:
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


def _read_manifest(output_dir: Path) -> list[str]:
    try:
        listed = json.loads((output_dir / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return []  # first build, or a damaged manifest: nothing is removed
    if not isinstance(listed, list):
        return []
    return [p for p in listed if isinstance(p, str)]


def _manifest_bytes(paths: Collection[str]) -> bytes:
    return (json.dumps(sorted(paths), ensure_ascii=False, indent=0) + "\n").encode("utf-8")


def _remove(output_dir: Path, relative: str) -> None:
    try:
        _check_relative(relative)
    except PublishError:
        return  # a tampered manifest must not make us delete outside the tree
    target = output_dir / relative
    try:
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
