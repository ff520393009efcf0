"""Validators shared by the tests: the RFC 4287 schema, feedparser, JSON Feed basics."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import feedparser
from lxml import etree


@cache
def _relaxng(schema: Path) -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(schema)))


def assert_valid_atom(data: bytes, schema: Path) -> None:
    """The document validates against the RFC 4287 RELAX NG schema."""
    validator = _relaxng(schema)
    document = etree.fromstring(data)
    assert validator.validate(document), str(validator.error_log)


def assert_parses_cleanly(data: bytes) -> feedparser.FeedParserDict:
    """feedparser reads the document without a bozo (not well-formed) flag."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def assert_valid_json_feed(data: bytes) -> dict:
    """The JSON Feed 1.1 fields every reader relies on are present and typed."""
    document = json.loads(data)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str)
    assert isinstance(document["items"], list)
    for item in document["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert "content_html" in item or "content_text" in item
    return document


def assert_documents_valid(tree: dict[str, bytes], schema: Path) -> None:
    """Every document of a published tree is valid for its kind."""
    for path, data in tree.items():
        if path.endswith(".atom"):
            assert_valid_atom(data, schema)
            assert_parses_cleanly(data)
        elif path.endswith(".rss"):
            assert_parses_cleanly(data)
        elif path.endswith(".json"):
            assert_valid_json_feed(data)
        elif path.endswith(".xml"):
            etree.fromstring(data)
        else:
            data.decode("utf-8")
