"""Reading published documents the way a subscriber's software does, to look for active content.

Feeds carry HTML as escaped text, so a raw byte scan would both miss what a reader decodes
and flag what is harmless. These helpers decode first: every text node and attribute value
of an XML feed, every string of a JSON Feed, and an HTML page as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser

from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"

# Elements that run code, load documents, submit, restyle or re-base a page.
FORBIDDEN_TAGS = frozenset(
    "script style iframe frame frameset object embed applet base meta link form input button "
    "textarea select svg math template noscript bgsound layer ilayer isindex xss".split()
)
# Attributes that run code or fetch something without being a plain URL.
FORBIDDEN_ATTRIBUTES = frozenset("style srcdoc formaction http-equiv dynsrc lowsrc".split())
URL_ATTRIBUTES = frozenset(
    "href src poster action background data cite longdesc xlink:href codebase".split()
)
SAFE_URL = re.compile(r"(?:https?://|mailto:)", re.I)


class _Finder(HTMLParser):
    """Records every piece of active markup a browser would build from some HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in FORBIDDEN_ATTRIBUTES:
                self.found.append(f"<{tag} {name}>")
            elif name in URL_ATTRIBUTES and not SAFE_URL.match((value or "").strip()):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_comment(self, data: str) -> None:
        if re.search(r"\[if|<\s*script", data, re.I):  # conditional comments run in old IE
            self.found.append(f"<!--{data}-->")


def active_content(html: str) -> list[str]:
    """The active markup in `html` as a browser parses it: tags, handlers, unsafe URLs."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.found


def xml_texts(data: bytes) -> Iterator[str]:
    """Every text node and attribute value of an XML document, decoded."""
    root = etree.fromstring(data)
    for element in root.iter():
        if element.text:
            yield element.text
        if element.tail and element.tail.strip():
            yield element.tail
        yield from element.attrib.values()


def json_texts(value: object) -> Iterator[str]:
    """Every string (keys too) of a JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from json_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_texts(item)


def published_texts(path: str, data: bytes) -> Iterator[str]:
    """The texts of one published file, decoded the way a reader or browser decodes them."""
    if path.endswith((".atom", ".rss", ".xml")):
        yield from xml_texts(data)
    elif path.endswith(".json"):
        yield from json_texts(json.loads(data))
    elif path.endswith(".html"):
        yield _page_body(data.decode("utf-8"))
    elif path.endswith(".js"):
        return  # the site's own script, the same for every site (subscribe.js)
    else:
        yield data.decode("utf-8")


# The controls the site's own templates write in a page's body (templates/_parts.html and
# feed.html): the search form, and the subscribe box's field and button. They are cut out
# by their exact opening markup, which escaped text cannot spell, so that any other
# control is still found.
_OWN_CONTROLS = re.compile(
    r'<form id="search" class="search" role="search" method="get" action="https?://[^"]*">'
    r'.*?</form>|<input id="feed-address" [^>]*>|<button id="copy-address" [^>]*>',
    re.S,
)


def _page_body(html: str) -> str:
    """An HTML page without the head our own template writes (its meta tags, its style
    block, its script) and without the controls it writes in the body."""
    return _OWN_CONTROLS.sub("", html.split("<body>", 1)[-1])
