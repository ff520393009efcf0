"""Body HTML -> safe, cruft-free HTML and a plain-text summary. Contains no I/O.

Two stages, in this order: one pass over an lxml tree that knows about the scraped
pages (cruft selectors, the editor credit, URLs, empty shells), then nh3 as the
allowlist sanitizer. nh3 re-parses what the first pass serialises and has the last
word, so a parser disagreement between libxml2 and html5ever can only lose markup,
never let any through.

lxml.html rather than BeautifulSoup: BeautifulSoup runs on the same libxml2 parser
here, but building its own tree of Python objects made it two thirds of a cold
build's time (see README, "Where the time goes").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape as html_escape
from urllib.parse import urljoin, urlsplit

import nh3
from lxml import etree

from feeds.model import CleanBody
from feeds.selectors import SimpleSelector, SimpleSelectors, compile_selectors
from feeds.summary import summarise
from feeds.text import html_text, plain_text, xml_safe

DEFAULT_REMOVE: tuple[str, ...] = (
    ".appendQr_wrap",
    ".app-kaihu-qr",
    "#left_hzh_ad",
    ".tech-quotation",
    "p.article-editor",
)

# Removed with everything inside them: active content, forms, embedded documents,
# document metadata, and raw-text elements whose content is markup-as-text.
_DROP = frozenset(
    "head title style script noscript iframe frame frameset noframes form input button "
    "select textarea object embed applet param base meta link svg math template xmp "
    "plaintext noembed canvas dialog".split()
)
# Wrappers that are removed when nothing visible is left in them.
_SHELLS = frozenset(
    "div span p section article header footer aside nav main center font small big "
    "strong b em i u s a blockquote h1 h2 h3 h4 h5 h6 ul ol li dl dt dd figure "
    "figcaption pre code label".split()
)
# Elements that are visible content even without text.
_CONTENT = frozenset("img video audio table hr".split())
# The parser's wrappers around the fragment.
_WRAPPERS = frozenset({"html", "body"})
# Boundaries between blocks of text, for the summary.
_BLOCKS = frozenset(
    "p div br hr li ul ol dl dt dd h1 h2 h3 h4 h5 h6 blockquote pre table tr td th "
    "caption section article header footer aside nav main figure figcaption center".split()
)
# Void in HTML5 but not to libxml2, which nests all that follows inside them.
_HOLLOW = frozenset("embed source track wbr keygen".split())
# Closing them in the source keeps them empty; hoisting what libxml2 nested into them costs a
# walk of the rest of the body each, quadratic for "<wbr>x" repeated.
_HOLLOW_START = re.compile(rf"<({'|'.join(sorted(_HOLLOW))})\b[^>]*>", re.IGNORECASE)
_MEDIA = frozenset("img video audio source".split())
# Lazy-loading pages keep the real image URL here and a placeholder (or nothing) in src.
_LAZY_SRC = ("data-src", "data-original")
_WEB = frozenset({"http", "https"})
_LINK = frozenset({"http", "https", "mailto"})
_ASCII_SPACE = " \t\n\r\f"
# The walk recurses once per level; deeper markup is kept as its text only, so a hostile
# body of nested tags costs neither a RecursionError nor unbounded time.
_MAX_DEPTH = 100

_ALLOWED = frozenset(
    "p br hr h1 h2 h3 h4 h5 h6 blockquote pre code em strong b i u s sub sup small mark "
    "del ins abbr cite q kbd samp var time ul ol li dl dt dd table caption colgroup col "
    "thead tbody tfoot tr td th figure figcaption a img span div video audio source".split()
)
# Comments and processing instructions stay in the tree so the walk can drop them where
# they stand; recover=True (the default) makes libxml2 take any input, as browsers do.
# huge_tree lifts libxml2's depth limit of 255, past which it drops the text; the walk
# flattens anything deeper than _MAX_DEPTH itself.
_PARSER = etree.HTMLParser(remove_comments=False, remove_pis=False, no_network=True, huge_tree=True)

_TOO_DEEP = etree.ErrorTypes.ERR_RESOURCE_LIMIT

_SANITIZER = nh3.Cleaner(
    tags=set(_ALLOWED),
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
_EMPTY_SHELL = re.compile(rf"<({'|'.join(sorted(_SHELLS))})>[ \t\r\n]*</\1>")

_EDITOR_PREFIX = re.compile(r"^(?:责任编辑|编辑)\s*[:：]\s*")


def clean_body(
    html: str,
    *,
    base_url: str,
    remove: Sequence[str] = DEFAULT_REMOVE,
    summary_length: int = 150,
    image_url: Callable[[str], str] | None = None,
) -> CleanBody:
    """Strip cruft and unsafe markup from a scraped body; derive its summary and editor.

    `image_url` maps each image's absolute URL to the one published (the image proxy's).
    """
    # The <body> start keeps libxml2 from moving a leading <style> or <meta> into a <head>.
    html = _HOLLOW_START.sub(lambda m: f"{m.group()}</{m.group(1)}>", xml_safe(html))
    root = _parse(html)
    simple, matcher = compile_selectors(tuple(remove))
    walker = _Walker(base_url, simple, image_url)
    if matcher is not None:
        # Selectors beyond tag/class/id may look at siblings, so they run on the
        # untouched tree, after the credit is read.
        walker.editor = _take_editor(root)
        matched = matcher(root)
        walker.doomed = {el for el in matched if isinstance(el, etree._Element)}  # type: ignore[union-attr]
    walker.walk(root, in_pre=False, depth=0)
    out = _SANITIZER.clean(_serialise(_fragment(root)))
    out = _IMG.sub(lambda m: m.group(0) if _HAS_SRC.search(m.group(1)) else "", out)
    # Misnested input (a <pre> inside a <p>) reparses into empty elements in html5ever.
    while (shorter := _EMPTY_SHELL.sub("", out)) != out:
        out = shorter
    return CleanBody(
        html=xml_safe(out).strip(),
        summary=summarise("".join(walker.parts), summary_length),
        editor=walker.editor,
    )


def _parse(html: str) -> etree._Element:
    root = etree.fromstring("<body>" + html, _PARSER)
    if any(e.type == _TOO_DEEP for e in _PARSER.error_log):
        # Nested past even huge_tree's limit, libxml2 stops and drops the rest. Such a
        # body is hostile or broken: keep its text, as the walk does past _MAX_DEPTH.
        text = html_text(html)
        root = etree.fromstring(f"<body><p>{html_escape(text, quote=False)}</p>", _PARSER)
    return root


_CREDIT = SimpleSelector(name="p", classes=frozenset({"article-editor"}), ids=frozenset())


def _editor_name(credit: etree._Element) -> str | None:
    """The name in an editor credit: "责任编辑：王蒙 " -> "王蒙"."""
    # A name is plain text: markup spelt with entities (&lt;b&gt;) is stripped like in a title.
    name = plain_text(_EDITOR_PREFIX.sub("", _text_of(credit).strip()))
    return name or None


def _take_editor(root: etree._Element) -> str | None:
    """The editor's name from the first non-empty `p.article-editor` credit."""
    for credit in root.iter("p"):
        if _CREDIT.match(credit) and (name := _editor_name(credit)):
            return name
    return None


def _absolute(url: str, base_url: str, schemes: frozenset[str]) -> str | None:
    """`url` resolved against `base_url`, or None when it is not a usable URL of `schemes`."""
    url = url.strip(_ASCII_SPACE)  # browsers ignore surrounding whitespace in URL attributes
    if not url:
        return None
    if url.startswith("//"):
        url = "https:" + url
    try:
        resolved = urljoin(base_url, url)
        # urlsplit drops tabs and newlines and lower-cases the scheme as browsers
        # do, so "Java&#x09;Script:" is seen for what it is.
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if parts.scheme not in schemes:
        return None
    if parts.scheme != "mailto" and (
        not parts.netloc or any(char.isspace() for char in parts.netloc)
    ):
        return None
    return resolved


class _Walker:
    """One pass over the tree: drops unsafe elements, comments and empty shells, fixes
    URLs, normalises inter-element whitespace, and collects the text for the summary.

    libxml2 keeps text in `.text` (before an element's first child) and `.tail` (after
    each child); the walk takes each piece of text as it comes, in document order, so the
    summary reads in order and whitespace left between removed elements collapses.
    """

    def __init__(
        self,
        base_url: str,
        remove: SimpleSelectors,
        image_url: Callable[[str], str] | None = None,
    ) -> None:
        self.base_url = base_url
        self.remove = remove
        self.image_url = image_url
        self.doomed: set[etree._Element] = set()  # matched by the selectors that are not simple
        self.parts: list[str] = []  # the text, with a newline wherever a block begins or ends
        self.editor: str | None = None

    def walk(self, parent: etree._Element, *, in_pre: bool, depth: int) -> bool:
        """Clean the children of `parent`; True when something visible is left in it."""
        state = _Text(in_pre)
        pending = [parent.text] if parent.text else []
        parent.text = None
        last: etree._Element | None = None  # the last child kept
        # Sibling links, never indexes: lxml finds a child by index by walking the list,
        # which would make a body of many thousand siblings quadratic.
        child = next(iter(parent), None)
        while child is not None:
            if isinstance(child.tag, str) and child.tag in _HOLLOW and (child.text or len(child)):
                _hoist(child)
            following = child.getnext()
            tail = child.tail
            child.tail = None
            state.flush(pending, parent, last, self.parts)
            kept = self._element(child, in_pre=in_pre, depth=depth)
            if kept is None:  # also comments and processing instructions
                parent.remove(child)
            else:
                state.visible = state.visible or kept
                state.after_space = False
                last = child
            pending = [tail] if tail else []
            child = following
        state.flush(pending, parent, last, self.parts)
        return state.visible

    def _element(self, element: etree._Element, *, in_pre: bool, depth: int) -> bool | None:
        """Clean one element; None when it must be removed, else whether it is visible."""
        name = element.tag
        if not isinstance(name, str) or name in _DROP or element in self.doomed:
            return None
        if self.editor is None and _CREDIT.match(element):
            self.editor = _editor_name(element)
        if self.remove.match(element):
            return None
        if name in _MEDIA and not self._media(element):
            return None
        if name == "a":
            self._link(element)
        if len(element.attrib) > 1:
            _sort_attributes(element)
        if depth >= _MAX_DEPTH:
            _flatten(element)
        block = name in _BLOCKS
        if block:
            self.parts.append("\n")
        visible = self.walk(element, in_pre=in_pre or name == "pre", depth=depth + 1)
        if block:
            self.parts.append("\n")
        # An empty element nh3 would strip (<xss>) goes now, so that the whitespace around it
        # is collapsed here and cleaning the output again changes nothing.
        if not visible and (name in _SHELLS or name not in _ALLOWED | _WRAPPERS):
            return None
        return visible or name in _CONTENT

    def _media(self, element: etree._Element) -> bool:
        """Make a media URL absolute; False when an image has no usable source."""
        src = element.get("src")
        url = _absolute(src, self.base_url, _WEB) if src is not None else None
        if element.tag == "img" and url is None:
            for key in _LAZY_SRC:
                lazy = element.get(key)
                url = _absolute(lazy, self.base_url, _WEB) if lazy is not None else None
                if url is not None:
                    break
            else:
                return False
        if url is None:
            if src is not None:
                del element.attrib["src"]
        else:
            url = xml_safe(url)
            if element.tag == "img" and self.image_url is not None:
                url = self.image_url(url)
            element.set("src", url)
        if element.tag == "img":
            # Set here as well as by nh3 so that attributes keep one order on re-cleaning.
            element.set("referrerpolicy", "no-referrer")
        return True

    def _link(self, element: etree._Element) -> None:
        """Make a link absolute, or drop a link that points nowhere safe."""
        href = element.get("href")
        if href is None:
            return
        url = _absolute(href, self.base_url, _LINK)
        if url is None:
            del element.attrib["href"]
        else:
            element.set("href", xml_safe(url))


class _Text:
    """How a walk treats the runs of text between elements, one level of the tree."""

    def __init__(self, in_pre: bool) -> None:
        self.in_pre = in_pre
        self.visible = False
        self.after_space = False  # the last thing kept is inter-element whitespace

    def flush(
        self,
        pieces: list[str],
        parent: etree._Element,
        last: etree._Element | None,
        parts: list[str],
    ) -> None:
        """Place these pieces of text after `last` (or first in `parent`), normalised."""
        kept = []
        for piece in pieces:
            # Character references (&#1;) decode to what XML cannot carry: drop it here.
            text = xml_safe(piece)
            if self.in_pre or text.strip(_ASCII_SPACE):
                self.visible = self.visible or bool(text.strip())
                # Source line breaks are spaces; only elements make blocks.
                parts.append(text if self.in_pre else text.replace("\n", " "))
                kept.append(text)
                self.after_space = False
            elif not self.after_space:
                # Runs of blank lines left where cruft was add nothing to the output.
                kept.append("\n" if "\n" in text else " ")
                parts.append(" ")
                self.after_space = True
        if not kept:
            return
        joined = "".join(kept)
        if last is None:
            parent.text = (parent.text or "") + joined
        else:
            last.tail = (last.tail or "") + joined


def _hoist(element: etree._Element) -> None:
    """Move what libxml2 nested inside a void element (see _HOLLOW) out, after it."""
    inner, tail = element.text, element.tail
    element.text = None
    children = list(element)
    for child in reversed(children):
        element.addnext(child)  # a child moves with its tail
    if children:
        children[-1].tail = (children[-1].tail or "") + (tail or "")
        element.tail = inner
    else:
        element.tail = (inner or "") + (tail or "")


def _sort_attributes(element: etree._Element) -> None:
    """One attribute order whatever the source's, so that output never depends on it."""
    items = sorted(element.attrib.items())
    if [name for name, _ in items] != list(element.attrib.keys()):
        element.attrib.clear()
        for name, value in items:
            element.set(name, xml_safe(str(value)))


def _flatten(element: etree._Element) -> None:
    """Replace what is inside `element` by its text."""
    text = _text_of(element)
    for child in list(element):
        element.remove(child)
    element.text = xml_safe(str(text)) or None


def _text_of(element: etree._Element) -> str:
    """All the text inside `element`, without its tail."""
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)


def _fragment(root: etree._Element) -> etree._Element:
    """The element whose contents are the cleaned fragment: the parser's body, or a div that
    holds the whole fragment (its attributes are stripped, so it means nothing)."""
    body = root.find("body")
    node = body if body is not None else root
    while (
        len(node) == 1
        and node[0].tag == "div"
        and not (node.text or "").strip()
        and not (node[0].tail or "").strip()
    ):
        node = node[0]
    return node


def _serialise(node: etree._Element) -> str:
    """The HTML of what is inside `node`."""
    text = html_escape(node.text, quote=False) if node.text else ""
    return text + "".join(
        etree.tostring(child, method="html", encoding="unicode") for child in node
    )
