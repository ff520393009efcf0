"""Find the article files under the source dir and read them, refusing what must not be read.

The only module that lists the source tree: hidden files, editor temp files and symlinks
leading out of the tree never become articles.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from feeds.errors import ArticleError, ConfigError

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


@dataclass(frozen=True)
class SourceFile:
    """One candidate article file, as found by a scan."""

    path: Path  # absolute
    source: str  # relative to the source dir, POSIX separators: the id and message name
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
    _walk(root, root, extensions, files, skipped)
    files.sort(key=lambda f: f.source)
    return Scan(tuple(files), tuple(skipped))


def _walk(
    root: Path,
    directory: Path,
    extensions: tuple[str, ...],
    files: list[SourceFile],
    skipped: list[str],
) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        skipped.append(
            f"{_relative(root, Path(directory))}: cannot list the directory ({exc.strerror})"
        )
        return
    for entry in entries:
        if is_ignored_name(entry.name):
            continue
        path = Path(entry.path)
        relative = _relative(root, path)
        if entry.is_symlink() and not _inside(root, path):
            skipped.append(f"{relative}: symlink leads outside the source directory; not followed")
            continue
        try:
            if entry.is_dir():
                if entry.is_symlink():
                    # A link to a directory inside the tree would list its files twice.
                    skipped.append(f"{relative}: symlink to a directory; not followed")
                    continue
                _walk(root, path, extensions, files, skipped)
            elif entry.is_file() and path.suffix.lower() in extensions:
                stat = entry.stat()
                files.append(SourceFile(path, relative, stat.st_size, stat.st_mtime_ns))
        except OSError as exc:
            skipped.append(f"{relative}: cannot read ({exc.strerror})")


def _inside(root: Path, path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop
        return False


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix() if path != root else "."


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
            # Read one byte past the cap: the file may have grown since it was listed.
            data = handle.read(max_bytes + 1)
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
