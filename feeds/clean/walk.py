"""The cleaner's pass over the lxml tree (see clean.py). Contains no I/O.

It drops unsafe elements, comments, cruft and empty shells, fixes URLs, normalises the
whitespace between elements and collects the text for the summary, visiting each node once.
It runs for every element of every article, so it is written for speed: each lxml property
is read once (every read of `.tag`, `.text`, `.tail` or `.attrib` builds a Python object),
text is written back only where it changed, and an element without attributes skips every
check that needs one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from lxml import etree

from feeds.clean.cruft import SimpleSelector, SimpleSelectors
from feeds.text import plain_text, xml_safe

# Removed with everything inside them: active content, forms, embedded documents,
# document metadata, and raw-text elements whose content is markup-as-text.
DROP = frozenset(
    "head title style script noscript iframe frame frameset noframes form input button "
    "select textarea object embed applet param base meta link svg math template xmp "
    "plaintext noembed canvas dialog".split()
)
# Wrappers that are removed when nothing visible is left in them.
SHELLS = frozenset(
    "div span p section article header footer aside nav main center font small big "
    "strong b em i u s a blockquote h1 h2 h3 h4 h5 h6 ul ol li dl dt dd figure "
    "figcaption pre code label".split()
)
# What the sanitizer keeps (see clean.py).
ALLOWED = frozenset(
    "p br hr h1 h2 h3 h4 h5 h6 blockquote pre code em strong b i u s sub sup small mark "
    "del ins abbr cite q kbd samp var time ul ol li dl dt dd table caption colgroup col "
    "thead tbody tfoot tr td th figure figcaption a img span div video audio source".split()
)
# Elements that are visible content even without text.
_CONTENT = frozenset("img video audio table hr".split())
# The parser's wrappers around the fragment.
_WRAPPERS = frozenset({"html", "body"})
# Kept even with nothing visible inside: allowed (or a wrapper), and no shell. An empty
# element nh3 would strip (<xss>) goes in the walk, so that the whitespace around it is
# collapsed there and cleaning the output again changes nothing.
_KEPT_EMPTY = (ALLOWED | _WRAPPERS) - SHELLS
# Boundaries between blocks of text, for the summary.
_BLOCKS = frozenset(
    "p div br hr li ul ol dl dt dd h1 h2 h3 h4 h5 h6 blockquote pre table tr td th "
    "caption section article header footer aside nav main figure figcaption center".split()
)
# Void in HTML5 but not to libxml2, which nests all that follows inside them.
HOLLOW = frozenset("embed source track wbr keygen".split())
_MEDIA = frozenset("img video audio source".split())
# Lazy-loading pages keep the real image URL in a data- attribute and a placeholder (or
# nothing) in src.
_IMG_SOURCES = ("src", "data-src", "data-original")
_WEB = frozenset({"http", "https"})
_LINK = frozenset({"http", "https", "mailto"})
_ASCII_SPACE = " \t\n\r\f"
# The walk recurses once per level; deeper markup is kept as its text only, so a hostile
# body of nested tags costs neither a RecursionError nor unbounded time.
_MAX_DEPTH = 100

_CREDIT = SimpleSelector(name="p", classes=frozenset({"article-editor"}), ids=frozenset())
_EDITOR_PREFIX = re.compile(r"^(?:责任编辑|编辑)\s*[:：]\s*")


def editor_name(credit: etree._Element) -> str | None:
    """The name in an editor credit: "责任编辑：王蒙 " -> "王蒙"."""
    # A name is plain text: markup spelt with entities (&lt;b&gt;) is stripped like in a title.
    name = plain_text(_EDITOR_PREFIX.sub("", text_of(credit).strip()))
    return name or None


def take_editor(root: etree._Element) -> str | None:
    """The editor's name from the first non-empty `p.article-editor` credit."""
    for credit in root.iter("p"):
        if _CREDIT.match(credit) and (name := editor_name(credit)):
            return name
    return None


def text_of(element: etree._Element) -> str:
    """All the text inside `element`, without its tail."""
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)


class Walker:
    """One pass over the tree: drops unsafe elements, comments and empty shells, fixes
    URLs, normalises inter-element whitespace, and collects the text for the summary.

    libxml2 keeps text in `.text` (before an element's first child) and `.tail` (after
    each child); the walk takes each piece of text as it comes, in document order, so the
    summary reads in order and whitespace left between removed elements collapses.

    `xml_clean` says that no text in the tree holds a character XML cannot carry, so the
    walk need not drop any (see clean._parse). Images whose URL `drop_image` accepts are
    removed. Given the article's `head_image`, the walk notes whether an image of the kept
    body shows it, and keeps the cruft that selectors removed, to be searched for it only
    when the kept body does not show it (see head_image_only_in_cruft).
    """

    def __init__(
        self,
        base_url: str,
        remove: SimpleSelectors,
        image_url: Callable[[str], str] | None = None,
        *,
        xml_clean: bool = False,
        drop_image: Callable[[str], object] | None = None,
        head_image: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.remove = remove
        self.image_url = image_url
        self.xml_clean = xml_clean
        self.drop_image = drop_image
        self.head_image = head_image
        self.head_image_kept = False  # an image of the kept body shows the head image
        self.cruft: list[etree._Element] = []  # removed by a selector, when there is a head image
        self.doomed: set[etree._Element] = set()  # matched by the selectors that are not simple
        self.parts: list[str] = []  # the text, with a newline wherever a block begins or ends
        self.editor: str | None = None

    def walk(self, root: etree._Element) -> bool:
        """Clean the children of `root`; True when something visible is left in it."""
        return self._children(root, False, 0)

    def _children(self, parent: etree._Element, in_pre: bool, depth: int) -> bool:
        """Clean the children of `parent`; True when something visible is left in it."""
        visible = after_space = False  # after_space: the last thing kept is inter-element space
        # The text slot being filled: `parent.text` until a child is kept, then the tail of
        # the last child kept. `held` is what the tree has there, `slot` what it must have;
        # the tree is written only when they differ, which for most text they do not.
        owner: etree._Element | None = None
        text = held = parent.text
        slot: str | None = None
        # Sibling links, never indexes past the first: lxml finds a child by index by
        # walking the list, which would make a body of many thousand siblings quadratic.
        child = parent[0] if len(parent) else None
        while True:
            if text:
                piece, spaced = self._piece(text, in_pre, after_space)
                if piece is not None:
                    visible = visible or (not spaced and _visible(piece))
                    slot = piece if slot is None else slot + piece
                    after_space = spaced
            if child is None:
                break
            tag = child.tag
            if tag.__class__ is not str:  # a comment or a processing instruction
                following = child.getnext()
                text = child.tail
                parent.remove(child)
                child = following
                continue
            if tag in HOLLOW and (child.text or len(child)):
                _hoist(child)
            following = child.getnext()
            # Its tail is the next piece of text. A removed child takes its tail out with it;
            # a kept one keeps it until the slot is written.
            text = child.tail
            kept = self._element(child, tag, in_pre, depth)
            if kept is None:
                parent.remove(child)
            else:
                visible = visible or kept
                after_space = False
                if slot != held:
                    _put_text(parent, owner, slot)
                owner, held, slot = child, text, None
            child = following
        if slot != held:
            _put_text(parent, owner, slot)
        return visible

    def _element(self, element: etree._Element, tag: str, in_pre: bool, depth: int) -> bool | None:
        """Clean one element; None when it must be removed, else whether it is visible."""
        if tag in DROP:
            return None
        if self.doomed and element in self.doomed:
            self._cruft(element)
            return None
        attrib = element.attrib
        if attrib:
            class_value, id_value = attrib.get("class"), attrib.get("id")
            if class_value is None and id_value is None:
                if tag in self.remove.bare:  # neither a credit nor named by a class or an id
                    self._cruft(element)
                    return None
            elif self._unwanted(element, tag, class_value, id_value):
                self._cruft(element)
                return None
            if tag in _MEDIA and not self._media(element, tag):
                return None
            if tag == "a":
                self._link(element)
            if len(attrib) > 1:
                _sort_attributes(element)
        # Without attributes an element is neither a credit nor named by a class or an id,
        # and an image has no source (see _media); nothing else changes.
        elif tag in self.remove.bare:
            self._cruft(element)
            return None
        elif tag == "img":
            return None
        if depth >= _MAX_DEPTH:
            _flatten(element)
        block = tag in _BLOCKS
        if block:
            self.parts.append("\n")
        in_pre = in_pre or tag == "pre"
        if len(element):
            visible = self._children(element, in_pre, depth + 1)
        else:
            visible = self._text_only(element, in_pre)
        if block:
            self.parts.append("\n")
        if visible:
            return True
        if tag not in _KEPT_EMPTY:
            return None
        return tag in _CONTENT

    def _text_only(self, element: etree._Element, in_pre: bool) -> bool:
        """_children for an element without children (most are a paragraph of text), in
        short: its text is the one piece, so nothing came before it."""
        text = element.text
        if not text:
            if text is not None:
                element.text = None
            return False
        if self.xml_clean and not in_pre and text.strip(_ASCII_SPACE):
            # _piece in short, for the commonest text of all: a paragraph's own.
            self.parts.append(text.replace("\n", " "))
            return not text.isspace()
        piece, spaced = self._piece(text, in_pre, after_space=False)
        assert piece is not None  # only whitespace after whitespace is dropped
        if piece != text:
            element.text = piece
        return not spaced and _visible(piece)

    def _piece(self, text: str, in_pre: bool, after_space: bool) -> tuple[str | None, bool]:
        """One piece of text as the output keeps it, added to the summary's text: (the text,
        False); or, when it is only whitespace between elements, (one space or line break,
        True), or (None, True) right after such whitespace."""
        if not self.xml_clean:
            # Character references (&#1;) decode to what XML cannot carry: drop it here.
            text = xml_safe(text)
        if in_pre or text.strip(_ASCII_SPACE):
            # Source line breaks are spaces; only elements make blocks.
            self.parts.append(text if in_pre else text.replace("\n", " "))
            return text, False
        if after_space:
            return None, True  # runs of blank lines left where cruft was add nothing
        self.parts.append(" ")
        return ("\n" if "\n" in text else " "), True

    def _unwanted(
        self, element: etree._Element, tag: str, class_value: str | None, id_value: str | None
    ) -> bool:
        """True when a cruft selector names `element`, which has a class or an id; reads the
        editor credit on the way."""
        classes = (class_value or "").split()
        if self.editor is None and _CREDIT.matches(tag, classes, id_value):
            self.editor = editor_name(element)
        return tag in self.remove.bare or self.remove.match_named(tag, classes, id_value)

    def _cruft(self, element: etree._Element) -> None:
        """Keep cruft a selector named, about to be removed, when it may hide the head image."""
        if self.head_image is not None:
            self.cruft.append(element)

    def head_image_only_in_cruft(self) -> bool:
        """True when an image in the removed cruft shows the head image, and none in the kept
        body does (asked after the walk)."""
        if self.head_image is None or self.head_image_kept:
            return False
        return any(
            self._image_source(image) == self.head_image
            for cruft in self.cruft
            for image in cruft.iter("img")
        )

    def _media(self, element: etree._Element, tag: str) -> bool:
        """Make a media URL absolute; False when an image has no usable source, or one
        `drop_image` accepts."""
        if tag == "img":
            url = self._image_source(element)
            if url is None or (self.drop_image is not None and self.drop_image(url)):
                return False
            if url == self.head_image:
                self.head_image_kept = True
            element.set("src", url if self.image_url is None else self.image_url(url))
            # Set here as well as by nh3 so that attributes keep one order on re-cleaning.
            element.set("referrerpolicy", "no-referrer")
            return True
        src = element.get("src")
        url = _absolute(src, self.base_url, _WEB) if src is not None else None
        if url is not None:
            element.set("src", xml_safe(url))
        elif src is not None:
            del element.attrib["src"]
        return True

    def _image_source(self, image: etree._Element) -> str | None:
        """The absolute URL an <img> shows: its `src`, else the real one a lazy-loading page
        keeps aside; None when it has no usable one."""
        for key in _IMG_SOURCES:
            value = image.get(key)
            url = absolute_image_url(value, self.base_url) if value is not None else None
            if url is not None:
                return url
        return None

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


def absolute_image_url(url: str, base_url: str) -> str | None:
    """An image URL as the walk resolves one found in a body."""
    absolute = _absolute(url, base_url, _WEB)
    return None if absolute is None else xml_safe(absolute)


def _visible(text: str) -> bool:
    """True when `text` holds more than whitespace (as text.strip() would say, without a copy)."""
    return text != "" and not text.isspace()


def _put_text(parent: etree._Element, owner: etree._Element | None, text: str | None) -> None:
    """Write a text slot: `parent.text` when no child owns it, else the owner's tail."""
    if owner is None:
        parent.text = text
    else:
        owner.tail = text


def _absolute(url: str, base_url: str, schemes: frozenset[str]) -> str | None:
    """`url` resolved against `base_url`, or None when it is not a usable URL of `schemes`."""
    url = url.strip(_ASCII_SPACE)  # browsers ignore surrounding whitespace in URL attributes
    if not url:
        return None
    if url.startswith("//"):
        url = "https:" + url
    plain = _PLAIN_URL.fullmatch(url)
    if plain and plain.group(1) in schemes and _parses(base_url):
        return url
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


# Most URLs in a body: absolute http(s), a plain host, a path of characters that urljoin and
# urlsplit neither split on (';', '?', '#') nor drop (whitespace, controls). urljoin returns
# such a URL as it is, whatever the base (when the base parses), and _absolute would accept it.
_PLAIN_URL = re.compile(r"(https?)://[A-Za-z0-9.-]+(?:/[A-Za-z0-9/._~%!$&'()*+,=:@-]*)?")


@lru_cache(maxsize=64)
def _parses(base_url: str) -> bool:
    """True when urljoin can parse `base_url` (it raises ValueError for "http://[::1")."""
    try:
        urlsplit(base_url)
    except ValueError:
        return False
    return True


def _hoist(element: etree._Element) -> None:
    """Move what libxml2 nested inside a void element (see HOLLOW) out, after it."""
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
    items = element.items()
    ordered = sorted(items)
    if ordered != items:  # the names differ, so this compares their order
        element.attrib.clear()
        for name, value in ordered:
            element.set(name, xml_safe(str(value)))


def _flatten(element: etree._Element) -> None:
    """Replace what is inside `element` by its text."""
    text = text_of(element)
    for child in list(element):
        element.remove(child)
    element.text = xml_safe(str(text)) or None
