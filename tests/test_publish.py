import json
import os

import pytest

from feeds.errors import PublishError
from feeds.publish import MANIFEST, publish, write_atomic


def test_writes_the_tree_and_a_manifest(tmp_path):
    out = tmp_path / "public"
    result = publish(out, {"feeds/a.atom": b"A", "index.html": b"I"})
    assert (out / "feeds/a.atom").read_bytes() == b"A"
    assert (out / "index.html").read_bytes() == b"I"
    assert result.written == ("feeds/a.atom", "index.html")
    assert json.loads((out / MANIFEST).read_text()) == ["feeds/a.atom", "index.html"]
    assert oct((out / "index.html").stat().st_mode & 0o777) == oct(0o644)


def test_unchanged_bytes_are_not_rewritten(tmp_path):
    publish(tmp_path, {"a": b"same", "b": b"old"})
    before = (tmp_path / "a").stat().st_mtime_ns
    os.utime(tmp_path / "a", ns=(before - 10**9, before - 10**9))
    result = publish(tmp_path, {"a": b"same", "b": b"new"})
    assert result.unchanged == ("a",)
    assert result.written == ("b",)
    assert (tmp_path / "a").stat().st_mtime_ns == before - 10**9


def test_what_is_no_longer_published_is_removed_but_foreign_files_stay(tmp_path):
    publish(tmp_path, {"feeds/gone.atom": b"x", "feeds/kept.atom": b"y"})
    (tmp_path / "feeds/mine.txt").write_text("a file the user put here")
    result = publish(tmp_path, {"feeds/kept.atom": b"y"})
    assert result.removed == ("feeds/gone.atom",)
    assert not (tmp_path / "feeds/gone.atom").exists()
    assert (tmp_path / "feeds/mine.txt").exists()


def test_emptied_directories_are_removed(tmp_path):
    publish(tmp_path, {"articles/2022/03/a.html": b"x", "index.html": b"i"})
    publish(tmp_path, {"index.html": b"i"})
    assert not (tmp_path / "articles").exists()


def test_kept_paths_stay_published(tmp_path):
    publish(tmp_path, {"feeds/a.atom": b"good", "index.html": b"i"})
    publish(tmp_path, {"index.html": b"i2"}, keep=["feeds/a.atom"])
    assert (tmp_path / "feeds/a.atom").read_bytes() == b"good"
    publish(tmp_path, {"index.html": b"i3"})  # kept stays in the manifest until it is dropped
    assert not (tmp_path / "feeds/a.atom").exists()


@pytest.mark.parametrize("bad", ["../escape", "/etc/passwd", "a/../../b"])
def test_refuses_paths_outside_the_tree(tmp_path, bad):
    with pytest.raises(PublishError, match="outside the output dir"):
        publish(tmp_path / "out", {bad: b"x"})
    assert not (tmp_path / "escape").exists()


def test_a_tampered_manifest_never_deletes_outside(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps(["../victim.txt"]))
    publish(out, {"index.html": b"i"})
    assert victim.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_a_read_only_output_dir_fails_clearly_and_keeps_the_old_file(tmp_path):
    publish(tmp_path, {"index.html": b"old"})
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
