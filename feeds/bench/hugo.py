"""The peer for the cold-build benchmark: Hugo building the same articles.

The site is the project's minimal one in the shared folder (`bench/hugo`, beside the
checkout as `../shared`, or where FEEDS_SHARED_DIR says): for every category an RSS and an
Atom feed of the newest 50 entries, and no article pages, so the comparison is generous
to Hugo. Each build goes into a directory of its own, from nothing, and is timed around
the whole `hugo` process. Only ratios measured in the same run, in turn with the
project's own builds, mean anything on a shared machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]
_SITE = Path("bench", "hugo")
_ATOM_TEMPLATE = Path("layouts", "_default", "list.atom.xml")
# The Atom template ranges over `categories`, which stops the build on an article whose
# one category is a string (`categories: 评论`), as some source files have it and as
# Hugo's own taxonomy takes it. The copy takes such a string as a list of one.
_EACH_CATEGORY = '{{- range .Params.categories }}<category term="{{ . }}"/>{{ end }}'
_ONE_OR_MANY = (
    "{{- with .Params.categories }}{{ range (cond (reflect.IsSlice .) . (slice .)) }}"
    '<category term="{{ . }}"/>{{ end }}{{ end }}'
)


class Unavailable(Exception):
    """Why Hugo's builds cannot be measured here."""


def shared_dir() -> Path:
    """The project's shared folder: FEEDS_SHARED_DIR, else the one beside the checkout.

    The checkout is found from this file when the project is installed in editable mode,
    and from the working directory when it is installed into site-packages."""
    if "FEEDS_SHARED_DIR" in os.environ:
        return Path(os.environ["FEEDS_SHARED_DIR"])
    beside = [checkout.parent / "shared" for checkout in (_CHECKOUT, Path.cwd())]
    return next((folder for folder in beside if folder.is_dir()), beside[0])


class HugoRuns:
    """Hugo's cold builds of one corpus, taken one at a time between the project's own;
    or, when there can be none, why."""

    def __init__(self, corpus: Path, root: Path) -> None:
        self.seconds: list[float] = []
        self.version = ""
        self.skipped = ""
        self._root = root
        try:
            self._executable = _prepare(corpus, root)
            self.version = _version(self._executable)
        except Unavailable as why:
            self.skipped = str(why)

    def build(self) -> None:
        """One more build from nothing (none once one has failed)."""
        if self.skipped:
            return
        os.sync()  # as before each of the project's builds: no one else's writes in its time
        began = time.perf_counter()
        done = subprocess.run(
            [
                self._executable,
                "--quiet",
                "--source",
                str(self._root),
                "--destination",
                str(self._root / f"public-{len(self.seconds)}"),
                "--cacheDir",
                str(self._root / "cache"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - began
        if done.returncode != 0:
            said = (done.stderr.strip() or done.stdout.strip()).splitlines()
            self.skipped = f"hugo failed in {self._root}: {said[-1] if said else done.returncode}"
            return
        self.seconds.append(seconds)


def _prepare(corpus: Path, root: Path) -> str:
    """Copy the site into `root` with the corpus as its content; return the executable."""
    executable = shutil.which("hugo")
    if executable is None:
        raise Unavailable("hugo is not on PATH (Debian package hugo)")
    site = shared_dir() / _SITE
    if not (site / "config.toml").is_file():
        raise Unavailable(
            f"no Hugo site at {site}: set FEEDS_SHARED_DIR to the project's shared folder"
        )
    for path in sorted(site.rglob("*")):
        # File by file: copytree would copy the shared folder's read-only modes too.
        target = root / path.relative_to(site)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    template = root / _ATOM_TEMPLATE
    if template.is_file():
        text = template.read_text(encoding="utf-8")
        template.write_text(text.replace(_EACH_CATEGORY, _ONE_OR_MANY), encoding="utf-8")
    content = root / "content"
    content.mkdir()
    for article in sorted(corpus.glob("*.txt")):
        _link(article, content / f"{article.stem}.md")  # Hugo reads Markdown by its suffix
    return executable


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system: a copy reads the same
        shutil.copyfile(source, target)


def _version(executable: str) -> str:
    out = subprocess.run(
        [executable, "version"], capture_output=True, text=True, check=False
    ).stdout.split()
    return " ".join(out[:2]) if out else "hugo"
