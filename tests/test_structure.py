"""The shape of the package, checked so that it stays so (issue 14)."""

import ast
import hashlib
from pathlib import Path

import feeds
from feeds.text import hex_digest

PACKAGE = Path(feeds.__file__).parent


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


LONGEST = 60  # lines a function may take, from its first decorator to its last line


def functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function of a module: top-level, methods and nested ones."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return [node for node in ast.walk(tree) if isinstance(node, kinds)]


def test_no_function_is_longer_than_a_screen():
    found, too_long = 0, []
    for path in sources():
        for function in functions(path):
            found += 1
            first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
            length = (function.end_lineno or first) - first + 1
            if length > LONGEST:
                where = path.relative_to(PACKAGE.parent)
                too_long.append(f"{where}:{function.lineno} {function.name}: {length} lines")
    assert found > 100  # the walk sees the package's functions
    assert not too_long, f"over {LONGEST} lines; split by job:\n" + "\n".join(too_long)


def test_digests_go_through_one_helper():
    # Every digest the package stores or publishes is BLAKE2b at the size its caller names.
    users = [p.relative_to(PACKAGE) for p in sources() if "blake2b" in p.read_text("utf-8")]
    assert users == [Path("text.py")]


def test_the_digest_helper_takes_text_as_utf8():
    assert hex_digest("央行", size=16) == hex_digest("央行".encode(), size=16)
    assert hex_digest(b"x", size=12) == hashlib.blake2b(b"x", digest_size=12).hexdigest()
    assert [len(hex_digest(b"", size=n)) for n in (8, 12, 16)] == [16, 24, 32]
