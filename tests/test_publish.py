import contextlib
import gzip
import json
import os
import threading
import time
from contextlib import closing

import pytest

from feeds.errors import PublishError
from feeds.tree.manifest import MANIFEST, Manifest, read_listed
from feeds.tree.writer import (
    Document,
    publish,
    tidy_interrupted,
    write_atomic,
    write_if_changed,
)

T = 1_650_000_000.0


def D(data: bytes) -> Document:
    return Document(data, T)


def test_writes_the_tree_and_a_manifest(tmp_path):
    out = tmp_path / "public"
    result = publish(out, {"feeds/a.atom": D(b"A"), "index.html": D(b"I")})
    assert (out / "feeds/a.atom").read_bytes() == b"A"
    assert (out / "index.html").read_bytes() == b"I"
    assert result.written == ("feeds/a.atom", "index.html")
    assert read_listed(out) == {"feeds/a.atom", "index.html"}
    assert oct((out / "index.html").stat().st_mode & 0o777) == oct(0o644)


def test_unchanged_bytes_are_not_rewritten(tmp_path):
    publish(tmp_path, {"a.txt": D(b"same"), "b.txt": D(b"old")})
    inode = (tmp_path / "a.txt").stat().st_ino
    result = publish(tmp_path, {"a.txt": D(b"same"), "b.txt": D(b"new")})
    assert result.unchanged == ("a.txt",)
    assert result.written == ("b.txt",)
    assert (tmp_path / "a.txt").stat().st_ino == inode


def test_mtime_is_the_documents_own_time(tmp_path):
    publish(tmp_path, {"feeds/a.atom": D(b"A")})
    assert (tmp_path / "feeds/a.atom").stat().st_mtime == T
    assert (tmp_path / "feeds/a.atom.gz").stat().st_mtime == T
    publish(tmp_path, {"feeds/a.atom": Document(b"A", T + 60)})  # same bytes, newer time
    assert (tmp_path / "feeds/a.atom").stat().st_mtime == T + 60


def test_twins_made_ahead_each_belong_to_their_own_document(tmp_path):
    # Twins are compressed a few documents ahead of the one being written, in threads.
    files = {f"feeds/f{i}.atom": D(f"<feed>{i}</feed>".encode() * (1 + i * 500)) for i in range(40)}
    files |= {f"articles/p{i}.html": D(b"page %d" % i) for i in range(0, 40, 3)}
    result = publish(tmp_path, files)
    assert result.written == tuple(files)
    for relative, document in files.items():
        twin = tmp_path / f"{relative}.gz"
        if relative.startswith("feeds/"):
            assert gzip.decompress(twin.read_bytes()) == document.data
        else:
            assert not twin.exists()


def test_text_documents_get_a_deterministic_gzip_twin(tmp_path):
    body = "订阅".encode() * 1000
    publish(tmp_path / "one", {"feeds/a.atom": D(body), "image.png": D(b"\x89PNG")})
    publish(tmp_path / "two", {"feeds/a.atom": D(body)})
    twin = (tmp_path / "one/feeds/a.atom.gz").read_bytes()
    assert gzip.decompress(twin) == body
    assert twin == (tmp_path / "two/feeds/a.atom.gz").read_bytes()
    assert not (tmp_path / "one/image.png.gz").exists()


def test_a_missing_twin_is_restored(tmp_path):
    publish(tmp_path, {"index.html": D(b"i")})
    (tmp_path / "index.html.gz").unlink()
    publish(tmp_path, {"index.html": D(b"i")})
    assert gzip.decompress((tmp_path / "index.html.gz").read_bytes()) == b"i"


def test_what_is_no_longer_published_is_removed_but_foreign_files_stay(tmp_path):
    publish(tmp_path, {"feeds/gone.atom": D(b"x"), "feeds/kept.atom": D(b"y")})
    (tmp_path / "feeds/mine.txt").write_text("a file the user put here")
    result = publish(tmp_path, {"feeds/kept.atom": D(b"y")})
    assert result.removed == ("feeds/gone.atom",)
    assert not (tmp_path / "feeds/gone.atom").exists()
    assert not (tmp_path / "feeds/gone.atom.gz").exists()
    assert (tmp_path / "feeds/mine.txt").exists()


def test_emptied_directories_are_removed(tmp_path):
    publish(tmp_path, {"articles/2022/03/a.html": D(b"x"), "index.html": D(b"i")})
    publish(tmp_path, {"index.html": D(b"i")})
    assert not (tmp_path / "articles").exists()


def test_kept_paths_stay_published(tmp_path):
    publish(tmp_path, {"feeds/a.atom": D(b"good"), "index.html": D(b"i")})
    publish(tmp_path, {"index.html": D(b"i2")}, keep=["feeds/a.atom"])
    assert (tmp_path / "feeds/a.atom").read_bytes() == b"good"
    publish(tmp_path, {"index.html": D(b"i3")})  # kept stays in the manifest until it is dropped
    assert not (tmp_path / "feeds/a.atom").exists()


@pytest.mark.parametrize("bad", ["../escape", "/etc/passwd", "a/../../b"])
def test_refuses_paths_outside_the_tree(tmp_path, bad):
    with pytest.raises(PublishError, match="outside the output dir"):
        publish(tmp_path / "out", {bad: D(b"x")})
    assert not (tmp_path / "escape").exists()


def test_a_tampered_manifest_never_deletes_outside(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    with closing(Manifest.create(out)) as manifest:
        manifest.add(["../victim.txt"])
    publish(out, {"index.html": D(b"i")})
    assert victim.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_a_read_only_output_dir_fails_clearly_and_keeps_the_old_file(tmp_path):
    publish(tmp_path, {"index.html": D(b"old")})
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(PublishError, match="cannot write"):
            write_atomic(tmp_path / "index.html", b"new")
    finally:
        tmp_path.chmod(0o755)
    assert (tmp_path / "index.html").read_bytes() == b"old"


def test_a_failed_write_leaves_no_temp_file(tmp_path):
    (tmp_path / "dir-in-the-way").mkdir()
    with pytest.raises(PublishError, match="dir-in-the-way"):
        write_atomic(tmp_path / "dir-in-the-way", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["dir-in-the-way"]


def test_a_new_page_appears_whole_and_an_existing_one_is_kept_or_replaced(tmp_path):
    # A static server serves any file there: a new page must never be seen half-written.
    page = "articles/a.html"
    seen: list[bytes] = []
    watching = threading.Event()

    def look() -> None:
        while not watching.is_set():
            with contextlib.suppress(FileNotFoundError):
                seen.append((tmp_path / page).read_bytes())

    looker = threading.Thread(target=look)
    looker.start()
    big = b"<p>" + b"x" * 4_000_000 + b"</p>"
    try:
        assert write_if_changed(tmp_path, page, Document(big, 1_600_000_000))
        time.sleep(0.05)
    finally:
        watching.set()
        looker.join()
    assert seen and set(seen) == {big}
    target = tmp_path / page
    assert target.stat().st_mtime == 1_600_000_000
    inode = target.stat().st_ino
    # The same bytes again: nothing is written.
    assert not write_if_changed(tmp_path, page, Document(big, 1_600_000_000))
    assert target.stat().st_ino == inode
    # New bytes for a page that exists: replaced whole, by a rename.
    assert write_if_changed(tmp_path, page, Document(b"<p>2</p>", 1_600_000_001))
    assert target.read_bytes() == b"<p>2</p>" and target.stat().st_ino != inode
    assert not list(tmp_path.rglob("*.tmp"))


def test_after_a_killed_build_its_unlisted_pages_go_and_listed_ones_stay(tmp_path):
    publish(tmp_path, {"articles/old.html": Document(b"old", 1.0)})
    since = time.time_ns()
    time.sleep(0.01)
    write_if_changed(tmp_path, "articles/cut.html", Document(b"half", 2.0))
    write_if_changed(tmp_path, "articles/old.html", Document(b"new", 2.0))
    removed, adopted = tidy_interrupted(tmp_path, [tmp_path], since)
    assert (removed, adopted) == (1, 0)
    assert not (tmp_path / "articles/cut.html").exists()
    assert (tmp_path / "articles/old.html").read_bytes() == b"new"


def test_the_list_of_an_older_version_is_moved_into_the_manifest(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "gone.html").write_text("published by an older version")
    (out / ".feeds-manifest.json").write_text(json.dumps(["gone.html", "index.html"]))
    result = publish(out, {"index.html": D(b"i")})
    assert result.removed == ("gone.html",)
    assert not (out / "gone.html").exists()
    assert not (out / ".feeds-manifest.json").exists()
    assert read_listed(out) == {"index.html"}


def test_a_damaged_manifest_counts_as_none_and_is_made_again(tmp_path):
    publish(tmp_path, {"index.html": D(b"i"), "old.html": D(b"o")})
    (tmp_path / MANIFEST).write_bytes(b"not a database, but long enough to be read as one" * 99)
    assert read_listed(tmp_path) is None  # nothing it listed can be removed
    publish(tmp_path, {"index.html": D(b"j")})
    assert read_listed(tmp_path) == {"index.html"}
    assert (tmp_path / "old.html").exists()  # not listed any more: left alone
