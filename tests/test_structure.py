"""The shape of the package, checked so that it stays so (issue 14)."""

import hashlib
from pathlib import Path

import feeds
from feeds.text import hex_digest

PACKAGE = Path(feeds.__file__).parent


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_digests_go_through_one_helper():
    # Every digest the package stores or publishes is BLAKE2b at the size its caller names.
    users = [p.relative_to(PACKAGE) for p in sources() if "blake2b" in p.read_text("utf-8")]
    assert users == [Path("text.py")]


def test_the_digest_helper_takes_text_as_utf8():
    assert hex_digest("央行", size=16) == hex_digest("央行".encode(), size=16)
    assert hex_digest(b"x", size=12) == hashlib.blake2b(b"x", digest_size=12).hexdigest()
    assert [len(hex_digest(b"", size=n)) for n in (8, 12, 16)] == [16, 24, 32]
