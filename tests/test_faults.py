"""Faults a build must survive: SIGKILL at any point, a full disk, a read-only output dir,
an unreadable article. Each runs the real command line in a subprocess."""

import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree
from sites import article_text, as_owner_only, make_site

from feeds.bench.corpus import generate
from feeds.tree.manifest import MANIFEST, read_listed
from feeds.tree.writer import Document, publish, publish_changes

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow

BASE_URL = "http://127.0.0.1:8080/"
CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
clean: {summary_length: 150}
feeds:
  - {slug: finance, title: 金融, categories: [金融]}
"""
ARTICLES = 300  # more than feeds.build.ingest.POOL_FROM: cold builds run worker processes
KILLS = 20
OLD = 1_650_000_000  # mtimes before every generated date's "updated" matters


def feeds_command(*args):
    return [sys.executable, "-m", "feeds", *args, "-c", "feeds.yaml"]


def run_build(site, prefix=(), timeout=120):
    """`feeds build`; `prefix`: a command that runs Python and takes its arguments."""
    command = feeds_command("build")
    return subprocess.run(
        [*prefix, *command[1:]] if prefix else command,
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def published_tree(public: Path) -> dict[str, tuple[bytes, int]]:
    """Every file a reader or the web app could get, with its mtime, plus the manifest."""
    files = {}
    for path in sorted(public.rglob("*")):
        relative = path.relative_to(public).as_posix()
        hidden = any(part.startswith(".") for part in relative.split("/"))
        if path.is_file() and not hidden:
            files[relative] = (path.read_bytes(), path.stat().st_mtime_ns)
    files[MANIFEST] = (json.dumps(sorted(read_listed(public) or ())).encode(), 0)
    return files


def assert_complete(relative: str, data: bytes) -> None:
    """A whole document: it parses, to its end."""
    if relative.endswith(".gz"):
        assert_complete(relative[:-3], gzip.decompress(data))
    elif relative.endswith((".atom", ".rss", ".xml")):
        etree.fromstring(data)
    elif relative.endswith(".json"):
        json.loads(data)
    elif relative.endswith(".html"):
        assert data.rstrip().endswith(b"</html>"), f"{relative} is cut short"
        etree.fromstring(data, etree.HTMLParser(recover=False))


def links_in(relative: str, data: bytes) -> set[str]:
    """The site's own paths a document links to."""
    if relative.endswith(".json"):
        document = json.loads(data)
        urls = [item.get("url", "") for item in document["items"]]
    elif relative.endswith(".html"):
        urls = etree.fromstring(data, etree.HTMLParser()).xpath("//link/@href | //a/@href")
    else:
        root = etree.fromstring(data)
        urls = root.xpath("//*[local-name()='link']/@href | //item/link/text()")
    return {url[len(BASE_URL) :] for url in urls if url.startswith(BASE_URL) and url != BASE_URL}


def assert_readers_see_whole_documents(public: Path) -> int:
    """What a reader can reach from index.html is there, listed and whole; so is every
    listed file that exists. Returns how many documents were reached."""
    listed = read_listed(public) or set()
    reached, todo = set(), ["index.html"]
    while todo:
        relative = todo.pop()
        if relative in reached:
            continue
        reached.add(relative)
        assert relative in listed, f"{relative} is linked but the web app would not serve it"
        path = public / relative
        assert path.is_file(), f"{relative} is linked but missing"
        data = path.read_bytes()
        assert_complete(relative, data)
        if relative == "index.html" or relative.startswith("feeds/"):
            todo.extend(links_in(relative, data) - {"opml.xml"})
    for relative in listed:
        for name in (relative, relative + ".gz"):
            path = public / name
            if path.is_file():
                assert_complete(name, path.read_bytes())
    return len(reached)


def stray_processes(groups: set[int]) -> list[int]:
    """Live processes left in these process groups (each killed build had its own)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgid = fields[0], int(fields[2])
        if pgid in groups and state != "Z":
            found.append(int(entry))
    return found


class Editor:
    """Changes the articles between builds: edits, additions, deletions, rule changes."""

    def __init__(self, site, rng: random.Random) -> None:
        self.site = site
        self.rng = rng
        self.step = 0

    def write(self, name: str, text: str) -> None:
        self.step += 1
        mtime = OLD + self.step * 60
        path = self.site.articles / name
        path.write_text(text, encoding="utf-8")
        os.utime(path, (mtime, mtime))

    def change(self) -> None:
        names = sorted(p.name for p in self.site.articles.iterdir())
        for name in self.rng.sample(names, 5):
            title = f"第{self.step}次修改"
            # An edit without `updated:` is dated when a build first sees it, which a fresh
            # build of the same files cannot know: each version says its own time.
            extra = f"id: edit-{name}\nupdated: {1_700_000_000 + self.step * 60}\n"
            self.write(name, article_text(title, date="2022-05-01", extra=extra))
        for _ in range(2):
            self.write(f"new-{self.step}.txt", article_text(f"新文章{self.step}"))
        (self.site.articles / self.rng.choice(names)).unlink()
        if self.rng.random() < 0.6:
            # New cleaning rules: every article is read again, by the worker processes.
            length = self.rng.choice([80, 120, 150, 200])
            config = CONFIG.replace("summary_length: 150", f"summary_length: {length}")
            self.site.config_path.write_text(config, encoding="utf-8")


def test_sigkill_at_random_points_never_breaks_the_published_tree(tmp_path):
    rng = random.Random(4307)
    site = make_site(tmp_path / "killed", examples=False, config=CONFIG)
    generate(site.articles, ARTICLES, seed=11)
    for path in site.articles.iterdir():
        os.utime(path, (OLD, OLD))
    started = time.monotonic()
    first = run_build(site)
    duration = time.monotonic() - started
    assert first.returncode == 0, first.stderr
    editor = Editor(site, rng)
    groups: set[int] = set()
    kills = runs = 0
    try:
        while kills < KILLS:
            runs += 1
            assert runs <= 3 * KILLS, f"only {kills} of {runs} builds were killed in time"
            editor.change()
            log = tmp_path / f"build-{runs}.log"  # a file: strays could hold a pipe open
            with open(log, "wb") as stderr:
                process = subprocess.Popen(
                    feeds_command("build"),
                    cwd=site.root,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,  # its own process group: strays can be found
                )
            try:
                process.wait(timeout=rng.uniform(0.0, duration))
                assert process.returncode == 0, log.read_text()
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                kills += 1
                groups.add(process.pid)
            assert assert_readers_see_whole_documents(site.public) > 3
        final = run_build(site)
        assert final.returncode == 0, final.stderr
        assert not stray_processes(groups), "processes of killed builds are still running"
    finally:
        for pid in stray_processes(groups):
            os.kill(pid, signal.SIGKILL)

    assert not list(site.public.rglob("*.tmp")), "temp files were left behind"
    assert assert_readers_see_whole_documents(site.public) > 3
    assert published_tree(site.public) == published_tree(fresh_build(site, tmp_path).public)


# Root is refused nothing by file modes; without these two capabilities it is held to them,
# like the unprivileged user a deployment runs as (uid 0 still owns the interpreter, which
# may live where no other user can read it).
FULL_DISK = """
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.RLIM_INFINITY))
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


def full_disk(limit=0):
    return [sys.executable, "-c", FULL_DISK, str(limit)]


def read_only(public: Path, mode: int) -> None:
    for directory in [public, *(p for p in public.rglob("*") if p.is_dir())]:
        directory.chmod(mode)


@pytest.fixture
def built(tmp_path):
    site = make_site(tmp_path)
    assert run_build(site).returncode == 0
    site.write("added.txt", article_text("故障时新增的文章"))
    # With its own `updated:`: else it would be dated when a build saw the edit, which the
    # fresh builds compared with cannot know.
    edited = article_text("故障时修改的文章", extra="updated: 2022-07-01T00:00:00Z\n")
    site.write("000_d56c9c7e6769d062.txt", edited)
    return site


def assert_fails_clearly(result, path: Path, advice: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert f"error: {path}" in result.stderr, result.stderr
    assert advice in result.stderr and "nothing was changed" in result.stderr


@pytest.mark.parametrize("fault", ["full disk", "read-only output dir"])
def test_a_fault_gives_a_clear_error_and_keeps_the_last_good_tree(built, fault):
    site = built
    before = published_tree(site.public)
    if fault == "full disk":
        result = run_build(site, full_disk())
        assert_fails_clearly(result, site.public, "the disk has space")
        assert "File too large" in result.stderr
    else:
        prefix = as_owner_only()
        read_only(site.public, 0o555)
        try:
            result = run_build(site, prefix)
        finally:
            read_only(site.public, 0o755)
        assert_fails_clearly(result, site.public, "output dir is writable")
        assert "Permission denied" in result.stderr
    assert published_tree(site.public) == before
    assert not list(site.public.rglob("*.tmp"))

    result = run_build(site)
    assert result.returncode == 0, result.stderr
    assert "故障时新增的文章" in (site.public / "feeds/all.atom").read_text("utf-8")
    assert "故障时修改的文章" in (site.public / "feeds/all.atom").read_text("utf-8")


def test_a_disk_that_fills_during_the_build_leaves_whole_documents(built, tmp_path):
    """Past the first check, a write fails half-way through: what was replaced is whole,
    nothing links to what is not there, and the next build puts everything right."""
    site = built
    generate(site.articles / "more", 60, seed=5)  # some work for the pages, all.atom grows
    limit = max(len(data) for data, _ in published_tree(site.public).values()) + 1
    result = run_build(site, full_disk(limit))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "error: " in result.stderr and "the disk has space" in result.stderr
    assert "the next build completes the update" in result.stderr
    assert_readers_see_whole_documents(site.public)
    assert not list(site.public.rglob("*.tmp"))
    assert run_build(site).returncode == 0
    assert published_tree(site.public) == published_tree(fresh_build(site, tmp_path).public)


def fresh_build(site, tmp_path):
    """The same articles and configuration, built once in a new site."""
    fresh = make_site(tmp_path / "fresh", examples=False, config=site.config_path.read_text())
    shutil.rmtree(fresh.articles)
    shutil.copytree(site.articles, fresh.articles)  # copy2: the same mtimes
    assert run_build(fresh).returncode == 0
    return fresh


def test_an_unreadable_article_is_reported_and_the_others_published(tmp_path):
    prefix = as_owner_only()
    site = make_site(tmp_path)
    site.write("locked.txt", article_text("读不到的文章"))
    (site.articles / "locked.txt").chmod(0o000)
    result = run_build(site, prefix)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "error: locked.txt: cannot read the file (Permission denied)" in result.stderr
    assert "articles: 40 published, 1 failed (of 41" in result.stdout
    assert len(list((site.public / "articles").iterdir())) == 40
    assert_readers_see_whole_documents(site.public)

    (site.articles / "locked.txt").chmod(0o644)
    result = run_build(site, prefix)
    assert result.returncode == 0, result.stderr
    assert "读不到的文章" in (site.public / "feeds/all.atom").read_text("utf-8")


def test_a_killed_builders_worker_processes_leave_with_it(tmp_path):
    """The kill lands while the worker processes read: left alone they would wait forever."""
    site = make_site(tmp_path, examples=False, config=CONFIG)
    generate(site.articles, ARTICLES, seed=3)
    process = subprocess.Popen(
        feeds_command("build"),
        cwd=site.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(stray_processes({process.pid})) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # the builder and its workers (forked, or from a fork server)
        assert len(stray_processes({process.pid})) >= 3, "no worker processes started"
        process.kill()
        process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while stray_processes({process.pid}) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not stray_processes({process.pid}), "worker processes outlived their builder"
        result = run_build(site)
        assert result.returncode == 0, result.stderr
        assert "an earlier build did not finish" in result.stderr
    finally:
        for pid in stray_processes({process.pid}):
            os.kill(pid, signal.SIGKILL)


LOCKS_IN_A_FORK = """
import os, sys
from pathlib import Path
from feeds.build.lock import BuilderLock, BuildNote
root = Path(sys.argv[1])
lock, note = BuilderLock(root / "public"), BuildNote(root / "state")
assert lock.acquire() and note.begin() is None
pid = os.fork()
if pid == 0:  # a worker: it must hold neither lock
    held = {os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")}
    os._exit(0 if not held & {str(lock.path), str(note.path)} else 1)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_worker_holds_neither_lock_of_its_builder(tmp_path):
    """A worker that outlived its builder by a moment must not keep the next build out, nor
    make the note of a killed build look like one still running."""
    result = subprocess.run(
        [sys.executable, "-c", LOCKS_IN_A_FORK, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0", "the forked child kept a lock's descriptor open"


def test_a_publish_cut_short_has_listed_everything_it_wrote(tmp_path):
    """The web app serves listed paths only: a feed written before a kill must not link to
    a page the manifest does not list yet."""
    publish(tmp_path, {"index.html": Document(b"<html></html>", 0)})

    def writes():
        yield "articles/new.html", Document(b"<html>new</html>", 0)
        yield "feeds/all.atom", Document(b"<feed/>", 0)
        raise KeyboardInterrupt  # killed here, before the final manifest

    upcoming = ["articles/new.html", "feeds/all.atom", "index.html"]
    with pytest.raises(KeyboardInterrupt):
        publish_changes(tmp_path, writes(), (), upcoming=upcoming)
    assert read_listed(tmp_path) == set(upcoming)
