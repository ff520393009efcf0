"""Find the article files under the source dir and read them, refusing what must not be read.

The only module that lists the source tree: hidden files, editor temp files and symlinks
leading out of the tree never become articles.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from feeds.errors import ArticleError, ConfigError
from feeds.text import encodable

# Editors and downloaders leave these beside the real file while it is being written.
_TEMP_SUFFIXES = (
    "~",
    ".swp",
    ".swo",
    ".swx",
    ".tmp",
    ".temp",
    ".part",
    ".partial",
    ".crdownload",
    ".bak",
    ".orig",
)


class SourceFile(NamedTuple):  # one per file at every scan: NamedTuples are cheap to make
    """One candidate article file, as found by a scan."""

    path: str  # absolute
    source: str  # relative to the source dir, POSIX separators, undecodable bytes escaped
    size: int
    mtime_ns: int

    @property
    def mtime(self) -> float:
        return self.mtime_ns / 1e9


@dataclass(frozen=True)
class Scan:
    """The article files found, plus what was skipped and why."""

    files: tuple[SourceFile, ...]
    skipped: tuple[str, ...]  # messages naming each refused entry


def is_ignored_name(name: str) -> bool:
    """True for hidden files and editor or download temp files."""
    if name.startswith((".", "#", "~$")) or name == "4913":  # vim writes "4913" to probe a dir
        return True
    return name.lower().endswith(_TEMP_SUFFIXES)


def scan_sources(source_dir: Path, extensions: tuple[str, ...]) -> Scan:
    """List the article files under `source_dir`, sorted by relative path."""
    root = source_dir.resolve()
    if not root.is_dir():
        raise ConfigError(
            [f"source.dir: {source_dir} is not a directory: create it or point source.dir at one"]
        )
    files: list[SourceFile] = []
    skipped: list[str] = []
    # Plain strings, not Path objects: a scan stats every file of the archive at every
    # build, and tens of thousands of Path objects cost more than the stats themselves.
    _walk(str(root), str(root), "", extensions, files, skipped)
    files.sort(key=lambda f: f.source)
    return Scan(tuple(files), tuple(skipped))


def _walk(
    root: str,
    directory: str,
    prefix: str,
    extensions: tuple[str, ...],
    files: list[SourceFile],
    skipped: list[str],
) -> None:
    try:
        listing = os.scandir(directory)
    except OSError as exc:
        skipped.append(f"{prefix or '.'}: cannot list the directory ({exc.strerror})")
        return
    with listing:
        for entry in _entries(listing, prefix, skipped):
            _look_at(root, entry, prefix, extensions, files, skipped)


def _entries(
    listing: Iterator[os.DirEntry[str]], prefix: str, skipped: list[str]
) -> Iterator[os.DirEntry[str]]:
    """A directory's entries one at a time (the files found are sorted once, at the end):
    a list of a million would hold them all at once, names and paths."""
    try:
        yield from listing
    except OSError as exc:
        skipped.append(f"{prefix or '.'}: cannot list the directory ({exc.strerror})")


def _look_at(
    root: str,
    entry: os.DirEntry[str],
    prefix: str,
    extensions: tuple[str, ...],
    files: list[SourceFile],
    skipped: list[str],
) -> None:
    """Add a directory entry to `files` if it is an article file, walk it if a directory."""
    name = entry.name
    if is_ignored_name(name):
        return
    relative = prefix + name
    try:
        if entry.is_symlink() and not _inside(root, entry.path):
            skipped.append(f"{relative}: symlink leads outside the source directory; not followed")
            return
        if entry.is_dir():
            if entry.is_symlink():
                # A link to a directory inside the tree would list its files twice.
                skipped.append(f"{relative}: symlink to a directory; not followed")
                return
            _walk(root, entry.path, relative + "/", extensions, files, skipped)
        elif _has_extension(name, extensions) and entry.is_file():
            stat = entry.stat()
            source = encodable(relative)  # a name with bytes that are not UTF-8
            files.append(SourceFile(entry.path, source, stat.st_size, stat.st_mtime_ns))
    except OSError as exc:
        skipped.append(f"{relative}: cannot read ({exc.strerror})")


def _has_extension(path: str, extensions: tuple[str, ...]) -> bool:
    """Whether a path ends in one of `extensions` (lower-case, with the dot), in any case.
    The extension is what os.path.splitext finds for the names a scan keeps (none starts
    with a dot), at a fraction of its cost at every scan of every file."""
    return path[path.rfind(".") :].lower() in extensions


def stat_sources(
    source_dir: Path, sources: Iterable[str], extensions: tuple[str, ...]
) -> tuple[Scan, list[str]] | None:
    """Look at just these relative paths (the ones file events named): the article files
    among them, and the paths that are gone. None when one is a directory: scan it all."""
    root = str(source_dir.resolve())
    files: list[SourceFile] = []
    skipped: list[str] = []
    missing: list[str] = []
    for relative in sorted(set(sources)):
        if any(is_ignored_name(part) for part in relative.split("/")):
            continue
        path = os.path.join(root, relative)
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                if not _inside(root, path):
                    skipped.append(
                        f"{relative}: symlink leads outside the source directory; not followed"
                    )
                    continue
                info = os.stat(path)
        except FileNotFoundError:
            missing.append(encodable(relative))
            continue
        except OSError as exc:
            skipped.append(f"{relative}: cannot read ({exc.strerror})")
            continue
        if stat.S_ISDIR(info.st_mode):
            return None
        if stat.S_ISREG(info.st_mode) and _has_extension(relative, extensions):
            files.append(SourceFile(path, encodable(relative), info.st_size, info.st_mtime_ns))
        else:
            missing.append(encodable(relative))  # renamed to a name that is not an article's
    return Scan(tuple(files), tuple(skipped)), missing


def _inside(root: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == root or real.startswith(root + os.sep)


def read_source(file: SourceFile, max_bytes: int) -> bytes:
    """The bytes of one article file, or an ArticleError saying why it cannot be read."""
    if file.size > max_bytes:
        raise ArticleError(
            file.source,
            f"file is {file.size:,} bytes, over the limit of {max_bytes:,} (source.max_bytes): "
            "shorten it or raise the limit",
        )
    try:
        with open(file.path, "rb") as handle:
            # One byte past the listed size tells whether the file grew since it was listed;
            # only then read on, to one byte past the cap. (Asking for the cap at once would
            # allocate a buffer of max_bytes for every file.)
            wanted = file.size + 1
            data = handle.read(wanted)
            if len(data) == wanted:
                data += handle.read(max_bytes + 1 - wanted)
    except OSError as exc:
        raise ArticleError(
            file.source, f"cannot read the file ({exc.strerror}): check its permissions"
        ) from exc
    if len(data) > max_bytes:
        raise ArticleError(
            file.source,
            f"file is over the limit of {max_bytes:,} bytes (source.max_bytes): "
            "shorten it or raise the limit",
        )
    return data
