"""A real site in a temp dir: article files, a config file, an output dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.build.builder import build
from feeds.config import Config, load_config
from feeds.tree.report import BuildReport

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "articles"
# Before every example date: with mtimes here, `updated` equals `published` and the
# output depends on the file contents alone (a fresh checkout sets mtimes to "now").
FIXED_MTIME = datetime(2021, 12, 1, tzinfo=UTC).timestamp()

CONFIG = """\
site:
  title: 测试站点
  base_url: "http://127.0.0.1:8080/"
source:
  dir: articles
output:
  dir: public
feeds:
  - slug: finance
    title: 金融
    categories: [金融]
"""


@dataclass
class Site:
    root: Path

    @property
    def articles(self) -> Path:
        return self.root / "articles"

    @property
    def public(self) -> Path:
        return self.root / "public"

    @property
    def config_path(self) -> Path:
        return self.root / "feeds.yaml"

    def config(self) -> Config:
        return load_config(self.config_path, base_dir=self.root)

    def build(self, *, write: bool = True) -> BuildReport:
        return build(self.config(), write=write)

    def write(self, name: str, text: str | bytes, mtime: float = FIXED_MTIME) -> Path:
        path = self.articles / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, str):
            text = text.encode("utf-8")
        path.write_bytes(text)
        os.utime(path, (mtime, mtime))
        return path

    def tree(self, *, twins: bool = False) -> dict[str, bytes]:
        """The published documents; the gzip twins too when asked."""
        files = {}
        for path in sorted(self.public.rglob("*")):
            relative = path.relative_to(self.public)
            hidden = any(part.startswith(".") for part in relative.parts)  # manifest, state
            if path.is_file() and not hidden and (twins or path.suffix != ".gz"):
                files[relative.as_posix()] = path.read_bytes()
        return files


def make_site(root: Path, *, examples: bool = True, config: str = CONFIG) -> Site:
    """A site under `root`, with copies of the shipped examples at a fixed mtime."""
    site = Site(root)
    site.articles.mkdir(parents=True)
    site.config_path.write_text(config, encoding="utf-8")
    if examples:
        for path in sorted(EXAMPLES.iterdir()):
            target = site.articles / path.name
            shutil.copyfile(path, target)
            os.utime(target, (FIXED_MTIME, FIXED_MTIME))
    return site


def article_text(
    title: str = "标题",
    *,
    date: str = "Tue, 15 Mar 2022 14:04:32 GMT",
    categories: str = "[金融, 新浪财经, 新浪财经－国內]",
    body: str = "<p>正文</p>",
    extra: str = "",
) -> str:
    """A small article in the sample's shape."""
    return (
        f"\n---\ntitle: '{title}'\ncategories: {categories}\nauthor: 新浪财经\n"
        f"date: {date}\n{extra}---\n\n<div>{body}</div>\n"
    )


def run_feeds(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the `feeds` command as a user would, in a process of its own; its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "feeds", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


DROP_DAC_OVERRIDE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
        sys.exit(f"cannot drop capability {capability}: {os.strerror(ctypes.get_errno())}")
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""

# A full disk: no file may grow past 0 bytes, and SIGXFSZ is ignored, so writes fail with
# EFBIG as they would with ENOSPC.


def as_owner_only():
    """The command prefix that runs a process held to file modes, or skip."""
    if os.geteuid() != 0:
        return []
    prefix = [sys.executable, "-c", DROP_DAC_OVERRIDE]
    probe = subprocess.run([*prefix, "-c", "pass"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"cannot give up root's file access here: {probe.stderr.strip()}")
    return prefix
