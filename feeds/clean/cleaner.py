"""Body HTML -> safe, cruft-free HTML and a plain-text summary. Contains no I/O.

Two stages, in this order: one pass over an lxml tree that knows about the scraped
pages (cruft selectors, the editor credit, URLs, empty shells; see clean_walk.py), then
nh3 as the allowlist sanitizer. nh3 re-parses what the first pass serialises and has the
last word, so a parser disagreement between libxml2 and html5ever can only lose markup,
never let any through.

lxml.html rather than BeautifulSoup: BeautifulSoup runs on the same libxml2 parser
here, but building its own tree of Python objects made it two thirds of a cold
build's time (see docs/performance.md, "Libraries replaced, and why").
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from html import escape as html_escape

import nh3
from lxml import etree

from feeds.clean.cruft import compile_selectors, image_matcher
from feeds.clean.summary import summarise
from feeds.clean.walk import ALLOWED, HOLLOW, SHELLS, Walker, absolute_image_url, take_editor
from feeds.config.settings import DEFAULT_DROP_IMAGES
from feeds.model import CleanBody
from feeds.text import html_text, xml_safe

DEFAULT_REMOVE: tuple[str, ...] = (
    ".appendQr_wrap",
    ".app-kaihu-qr",
    "#left_hzh_ad",
    ".tech-quotation",
    "p.article-editor",
)

# Closing them in the source keeps them empty; hoisting what libxml2 nested into them costs a
# walk of the rest of the body each, quadratic for "<wbr>x" repeated.
_HOLLOW_START = re.compile(rf"<({'|'.join(sorted(HOLLOW))})\b[^>]*>", re.IGNORECASE)

# Comments and processing instructions stay in the tree so the walk can drop them where
# they stand; recover=True (the default) makes libxml2 take any input, as browsers do.
# huge_tree lifts libxml2's depth limit of 255, past which it drops the text; the walk
# flattens anything deeper than its own limit (clean_walk._MAX_DEPTH) itself.
_PARSER = etree.HTMLParser(remove_comments=False, remove_pis=False, no_network=True, huge_tree=True)

_TOO_DEEP = etree.ErrorTypes.ERR_RESOURCE_LIMIT

_SANITIZER = nh3.Cleaner(
    tags=set(ALLOWED),
    clean_content_tags={"script", "style", "template", "textarea", "title", "noscript"},
    attributes={
        "a": {"href", "title"},
        "img": {"src", "alt", "title", "width", "height", "referrerpolicy"},
        "td": {"colspan", "rowspan"},
        "th": {"colspan", "rowspan"},
        "video": {"src", "controls", "width", "height"},
        "audio": {"src", "controls"},
        "source": {"src", "type"},
    },
    # Sina's image host refuses requests that carry a Referer: every image says so.
    set_tag_attribute_values={"img": {"referrerpolicy": "no-referrer"}},
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",  # every URL was made absolute before; anything else is suspect
    link_rel=None,  # no target attribute is ever added, so no rel is needed
    strip_comments=True,
)
# nh3 drops a src it cannot parse as an allowed absolute URL but keeps the <img>;
# its output quotes every attribute and escapes '>' in values, so this match is exact.
_IMG = re.compile(r"<img\b([^>]*)>")
_HAS_SRC = re.compile(r'\ssrc="')
_EMPTY_SHELL = re.compile(rf"<({'|'.join(sorted(SHELLS))})>[ \t\r\n]*</\1>")
# What any _EMPTY_SHELL match holds; a third of the cost to look for, and found in half the bodies.
_END_AFTER_START = re.compile(r">[ \t\r\n]*</")


def clean_body(
    html: str,
    *,
    base_url: str,
    remove: Sequence[str] = DEFAULT_REMOVE,
    drop_images: Sequence[str] = DEFAULT_DROP_IMAGES,
    summary_length: int = 150,
    image_url: Callable[[str], str] | None = None,
    head_image: str | None = None,
) -> CleanBody:
    """Strip cruft and unsafe markup from a scraped body; derive its summary and editor.

    Images whose URL matches a `drop_images` glob go too. `image_url` maps each image's
    absolute URL to the one published (the image proxy's). `head_image` is the article's
    picture (its front matter's): the result says whether it is promo to leave out.
    """
    # The <body> start keeps libxml2 from moving a leading <style> or <meta> into a <head>.
    html = _HOLLOW_START.sub(lambda m: f"{m.group()}</{m.group(1)}>", xml_safe(html))
    root, xml_clean = _parse(html)
    simple, matcher = compile_selectors(tuple(remove))
    drop_image = image_matcher(tuple(drop_images))
    # The head image is an absolute URL already (see articles._url).
    promo = head_image is not None and drop_image is not None and bool(drop_image(head_image))
    walker = Walker(
        base_url,
        simple,
        image_url,
        xml_clean=xml_clean,
        drop_image=drop_image,
        # Neither a promo by its URL nor an image the body cannot show needs looking for.
        head_image=(
            absolute_image_url(head_image, base_url)
            if head_image is not None and not promo and _may_show(html, head_image)
            else None
        ),
    )
    if matcher is not None:
        # Selectors beyond tag/class/id may look at siblings, so they run on the
        # untouched tree, after the credit is read.
        walker.editor = take_editor(root)
        matched = matcher(root)
        walker.doomed = {el for el in matched if isinstance(el, etree._Element)}  # type: ignore[union-attr]
    walker.walk(root)
    out = _SANITIZER.clean(_serialise(_fragment(root)))
    if "<img" in out:
        out = _IMG.sub(lambda m: m.group(0) if _HAS_SRC.search(m.group(1)) else "", out)
    # Misnested input (a <pre> inside a <p>) reparses into empty elements in html5ever.
    if _END_AFTER_START.search(out):
        while (shorter := _EMPTY_SHELL.sub("", out)) != out:
            out = shorter
    return CleanBody(
        # From a tree free of what XML forbids, libxml2 writes none, and nh3 only adds what
        # the references libxml2 writes stand for (tests/test_clean.py checks both).
        html=(out if xml_clean else xml_safe(out)).strip(),
        # The walk's text went through xml_safe, or came from a tree that needs none.
        summary=summarise("".join(walker.parts), summary_length, xml_clean=True),
        editor=walker.editor,
        # The scraper took the first image of the page, often the promo at its end.
        head_image_dropped=promo or walker.head_image_only_in_cruft(),
    )


def _may_show(html: str, image: str) -> bool:
    """False when no image of `html` can resolve to the absolute URL `image`: what follows
    its last `/` is nowhere in the source. (Resolving a URL keeps that part as written; a
    body that spells it with character references is not searched, and the head image
    then stays.)"""
    return image.rpartition("/")[2] in html


def _parse(html: str) -> tuple[etree._Element, bool]:
    """The tree of `html` (which is xml_safe), and whether its text is free of characters
    XML cannot carry."""
    root = etree.fromstring("<body>" + html, _PARSER)
    if any(e.type == _TOO_DEEP for e in _PARSER.error_log):
        # Nested past even huge_tree's limit, libxml2 stops and drops the rest. Such a
        # body is hostile or broken: keep its text, as the walk does past its depth limit.
        text = html_text(html)
        root = etree.fromstring(f"<body><p>{html_escape(text, quote=False)}</p>", _PARSER)
        return root, False
    return root, _char_refs_xml_legal(html)


# A numeric character reference as libxml2 reads one: the longest run of digits, with or
# without the ';'. "&#" followed by no digit stays text as written.
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+))")
# "&#" other than a reference to a character between U+0020 and U+CFFF, all legal in XML:
# found in few bodies (most references are CSS braces, &#123; and &#125;, in a <style>).
_UNCOMMON_REF = re.compile(
    r"&#(?!(?:3[2-9]|[4-9][0-9]|[1-9][0-9]{2,3})(?![0-9])"
    r"|[xX](?:[2-9a-fA-F][0-9a-fA-F]|[1-9a-cA-C][0-9a-fA-F]{2,3})(?![0-9a-fA-F]))"
)


def _char_refs_xml_legal(html: str) -> bool:
    """True when no character reference in `html` stands for a character XML cannot carry.

    The parser's text is then as free of them as `html`: libxml2 (2.14) decodes a reference
    to a legal character into a legal one (itself, its windows-1252 reading for 0x80-0x9f,
    or U+FFFD), and its named entities all stand for legal characters; every value and named
    entity was checked, and tests/test_clean.py checks the libxml2 in use. Anything unusual
    (more than 7 digits) counts as illegal, which only costs the walk its per-piece xml_safe.
    """
    if _UNCOMMON_REF.search(html) is None:
        return True
    for ref in _CHAR_REF.finditer(html):
        hex_digits, decimal = ref.groups()
        digits = hex_digits or decimal
        if len(digits) > 7:
            return False
        value = int(digits, 16) if hex_digits else int(digits)
        if value > sys.maxunicode or xml_safe(chr(value)) != chr(value):
            return False
    return True


def _fragment(root: etree._Element) -> etree._Element:
    """The element whose contents are the cleaned fragment: the parser's body, or a div that
    holds the whole fragment (its attributes are stripped, so it means nothing)."""
    body = _child(root, "body")
    node = body if body is not None else root
    while len(node) == 1:
        only = node[0]
        if only.tag != "div" or (node.text or "").strip() or (only.tail or "").strip():
            break
        node = only
    return node


def _child(parent: etree._Element, tag: str) -> etree._Element | None:
    """The first child of `parent` with this tag: find() at a fraction of the cost."""
    child = parent[0] if len(parent) else None
    while child is not None and child.tag != tag:
        child = child.getnext()
    return child


def _serialise(node: etree._Element) -> str:
    """The HTML of what is inside `node`, whose own text and attributes it takes off."""
    text = html_escape(node.text, quote=False) if node.text else ""
    # One tostring of the node, its own tags cut off, rather than one per child: libxml2
    # writes the children as it would one by one. Without attributes and text the start
    # tag is known exactly; the tree is not used after this.
    node.text = None
    node.attrib.clear()
    html = etree.tostring(node, method="html", encoding="unicode", with_tail=False)
    start, end = f"<{node.tag}>", f"</{node.tag}>"
    if html.startswith(start) and html.endswith(end):
        return text + html[len(start) : -len(end)]
    return text + "".join(  # not seen, but a serialiser may write a node its own way
        etree.tostring(child, method="html", encoding="unicode") for child in node
    )
