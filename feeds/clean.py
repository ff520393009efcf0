"""Body HTML -> safe, cruft-free HTML and a plain-text summary. Contains no I/O.

Two stages, in this order: a BeautifulSoup pass that knows about the scraped pages
(cruft selectors, the editor credit, URLs, empty shells), then nh3 as the allowlist
sanitizer. nh3 re-parses what the first pass serialises and has the last word, so
a parser disagreement between lxml and html5ever can only lose markup, never let
any through.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import nh3
import soupsieve
from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

from feeds.errors import ConfigError
from feeds.model import CleanBody
from feeds.text import plain_text, strip_markup, xml_safe

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

_SIMPLE = re.compile(r"([a-zA-Z][\w-]*)?((?:[.#][\w-]+)*)")
_EDITOR_PREFIX = re.compile(r"^(?:责任编辑|编辑)\s*[:：]\s*")
_ORIGINAL_TITLE = "原标题"
# A closing quote or bracket right after a sentence end belongs to that sentence.
_CLOSERS = "”’」』）)\"'"
_WIDE_SENTENCE_END = "。！？；"
_ASCII_SENTENCE_END = "!?."


def clean_body(
    html: str,
    *,
    base_url: str,
    remove: Sequence[str] = DEFAULT_REMOVE,
    summary_length: int = 150,
) -> CleanBody:
    """Strip cruft and unsafe markup from a scraped body; derive its summary and editor."""
    # The <body> start keeps lxml from moving a leading <style> or <meta> into a <head>.
    html = _HOLLOW_START.sub(lambda m: f"{m.group()}</{m.group(1)}>", xml_safe(html))
    soup = BeautifulSoup("<body>" + html, "lxml")
    simple, matcher = _compile(tuple(remove))
    walker = _Walker(base_url, simple)
    if matcher is not None:
        # Selectors beyond tag/class/id may look at siblings, so they run on the
        # untouched tree, after the credit is read.
        walker.editor = _take_editor(soup)
        for tag in matcher.select(soup):
            if not tag.decomposed:
                tag.decompose()
    walker.walk(soup, in_pre=False, depth=0)
    out = _SANITIZER.clean(_fragment(soup).decode_contents())
    out = _IMG.sub(lambda m: m.group(0) if _HAS_SRC.search(m.group(1)) else "", out)
    # Misnested input (a <pre> inside a <p>) reparses into empty elements in html5ever.
    while (shorter := _EMPTY_SHELL.sub("", out)) != out:
        out = shorter
    return CleanBody(
        html=xml_safe(out).strip(),
        summary=summarise("".join(walker.parts), summary_length),
        editor=walker.editor,
    )


def selector_problems(remove: Sequence[str]) -> list[str]:
    """Describe every entry of `clean.remove` that is not a valid CSS selector."""
    problems = []
    for index, selector in enumerate(remove):
        try:
            soupsieve.compile(selector)
        except soupsieve.SelectorSyntaxError as exc:
            reason = str(exc).splitlines()[0]
            problems.append(
                f"clean.remove[{index}]: {selector!r} is not a valid CSS selector ({reason});"
                " correct it or delete the entry"
            )
    return problems


def summarise(text: str, length: int) -> str:
    """Cut block-separated plain text to about `length` characters, skipping the 原标题 line."""
    # Text that reads as markup (from entities such as &lt;script&gt; in the body) is dropped:
    # RSS readers render <description> as HTML, so a summary must not form a tag there.
    blocks = [" ".join(line.split()) for line in strip_markup(text).split("\n")]
    joined = ""
    for block in blocks:
        if not block or block.startswith(_ORIGINAL_TITLE):
            continue
        if joined and not (_is_wide(joined[-1]) and _is_wide(block[0])):
            joined += " "
        joined += block
    if len(joined) <= length:
        return joined
    return _cut(joined, length) + "…"


def _cut(text: str, length: int) -> str:
    """The longest good prefix of `text` no longer than `length`."""
    window = text[:length]
    # A sentence end in the first half would throw away too much of the text.
    for end in range(length - 1, length // 2 - 1, -1):
        char = window[end]
        if char in _WIDE_SENTENCE_END or (
            char in _ASCII_SENTENCE_END and (end + 1 == len(text) or text[end + 1].isspace())
        ):
            stop = end + 1
            while stop < length and window[stop] in _CLOSERS:
                stop += 1
            return window[:stop]
    if _is_word(text[length - 1]) and _is_word(text[length]):
        space = window.rfind(" ")
        if space > 0:
            return window[:space].rstrip()
    return window.rstrip()


def _is_wide(char: str) -> bool:
    """CJK ideographs, kana, hangul and full-width forms: written without spaces between."""
    return char >= "\u2e80"


def _is_word(char: str) -> bool:
    """A character of a space-separated word (Latin letters, digits)."""
    return char.isalnum() and not _is_wide(char)


def _editor_name(credit: Tag) -> str | None:
    """The name in an editor credit: "责任编辑：王蒙 " -> "王蒙"."""
    # A name is plain text: markup spelt with entities (&lt;b&gt;) is stripped like in a title.
    name = plain_text(_EDITOR_PREFIX.sub("", credit.get_text().strip()))
    return name or None


def _take_editor(soup: BeautifulSoup) -> str | None:
    """The editor's name from the first non-empty `p.article-editor` credit."""
    for credit in soup.find_all("p", class_="article-editor"):
        if name := _editor_name(credit):
            return name
    return None


@dataclass(frozen=True)
class _Simple:
    """A `tag.class#id` selector, matched inside the tree walk instead of by soupsieve."""

    name: str | None
    classes: frozenset[str]
    ids: frozenset[str]

    def match(self, tag: Tag) -> bool:
        """True when `tag` is what this selector names."""
        return (
            (self.name is None or tag.name == self.name)
            and (not self.ids or self.ids <= {tag.get("id")})
            and self.classes.issubset(tag.get_attribute_list("class"))
        )


_CREDIT = _Simple(name="p", classes=frozenset({"article-editor"}), ids=frozenset())


@lru_cache(maxsize=16)
def _compile(remove: tuple[str, ...]) -> tuple[tuple[_Simple, ...], soupsieve.SoupSieve | None]:
    """Split the cruft selectors into the common simple ones and one soupsieve matcher for the rest.

    Matching simple selectors during the walk saves a whole-tree pass per article.
    """
    problems = selector_problems(remove)
    if problems:
        raise ConfigError(problems)
    simple: list[_Simple] = []
    rest: list[str] = []
    for selector in remove:
        found = _SIMPLE.fullmatch(selector.strip())
        if found is None:
            rest.append(selector)
            continue
        parts = re.findall(r"([.#])([\w-]+)", found.group(2) or "")
        simple.append(
            _Simple(
                name=found.group(1).lower() if found.group(1) else None,
                classes=frozenset(value for kind, value in parts if kind == "."),
                ids=frozenset(value for kind, value in parts if kind == "#"),
            )
        )
    return tuple(simple), soupsieve.compile(", ".join(rest)) if rest else None


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


def _attr(tag: Tag, name: str) -> str | None:
    """A single-valued attribute as a string."""
    value = tag.get(name)
    return value if isinstance(value, str) else None


class _Walker:
    """One pass over the tree: drops unsafe elements, comments and empty shells, fixes
    URLs, normalises inter-element whitespace, and collects the text for the summary."""

    def __init__(self, base_url: str, remove: tuple[_Simple, ...]) -> None:
        self.base_url = base_url
        self.remove = remove
        self.parts: list[str] = []  # the text, with a newline wherever a block begins or ends
        self.editor: str | None = None

    def walk(self, parent: Tag, *, in_pre: bool, depth: int) -> bool:
        """Clean the children of `parent`; True when something visible is left in it."""
        visible = False
        after_space = False  # the last kept child is inter-element whitespace
        # Every removal passes the child's index: without it bs4 searches the parent's
        # children for it, which makes a body of many thousand siblings quadratic.
        index = 0
        child = parent.contents[0] if parent.contents else None
        while child is not None:
            if isinstance(child, Tag) and child.name in _HOLLOW and child.contents:
                child.insert_after(*child.contents)
            following = child.next_sibling
            if isinstance(child, Tag):
                kept = self._element(child, in_pre=in_pre, depth=depth)
                if kept is None:
                    _extract(parent, index, child)
                    index -= 1
                else:
                    visible = visible or kept
                    after_space = False
            elif isinstance(child, PreformattedString):
                _extract(parent, index, child)  # comments, CDATA, processing instructions, doctypes
                index -= 1
            elif isinstance(child, NavigableString):
                text = str(child)
                if in_pre or text.strip(_ASCII_SPACE):
                    visible = visible or bool(text.strip())
                    # Source line breaks are spaces; only elements make blocks.
                    self.parts.append(text if in_pre else text.replace("\n", " "))
                    after_space = False
                elif after_space:
                    _extract(parent, index, child)
                    index -= 1
                else:
                    # Runs of blank lines left where cruft was add nothing to the output.
                    _extract(parent, index, child)
                    parent.insert(index, NavigableString("\n" if "\n" in text else " "))
                    self.parts.append(" ")
                    after_space = True
            index += 1
            child = following
        return visible

    def _element(self, tag: Tag, *, in_pre: bool, depth: int) -> bool | None:
        """Clean one element; None when it must be removed, else whether it is visible."""
        name = tag.name
        if name in _DROP:
            return None
        if self.editor is None and _CREDIT.match(tag):
            self.editor = _editor_name(tag)
        if any(selector.match(tag) for selector in self.remove):
            return None
        if name in _MEDIA and not self._media(tag):
            return None
        if name == "a":
            self._link(tag)
        if depth >= _MAX_DEPTH:
            _flatten(tag)
        block = name in _BLOCKS
        if block:
            self.parts.append("\n")
        visible = self.walk(tag, in_pre=in_pre or name == "pre", depth=depth + 1)
        if block:
            self.parts.append("\n")
        # An empty element nh3 would strip (<xss>) goes now, so that the whitespace around it
        # is collapsed here and cleaning the output again changes nothing.
        if not visible and (name in _SHELLS or name not in _ALLOWED | _WRAPPERS):
            return None
        return visible or name in _CONTENT

    def _media(self, tag: Tag) -> bool:
        """Make a media URL absolute; False when an image has no usable source."""
        src = _attr(tag, "src")
        url = _absolute(src, self.base_url, _WEB) if src is not None else None
        if tag.name == "img" and url is None:
            for key in _LAZY_SRC:
                lazy = _attr(tag, key)
                url = _absolute(lazy, self.base_url, _WEB) if lazy is not None else None
                if url is not None:
                    break
            else:
                return False
        if url is None:
            if src is not None:
                del tag["src"]
        else:
            tag["src"] = url
        if tag.name == "img":
            # Set here as well as by nh3 so that attributes keep one order on re-cleaning.
            tag["referrerpolicy"] = "no-referrer"
        return True

    def _link(self, tag: Tag) -> None:
        """Make a link absolute, or drop a link that points nowhere safe."""
        href = _attr(tag, "href")
        if href is None:
            return
        url = _absolute(href, self.base_url, _LINK)
        if url is None:
            del tag["href"]
        else:
            tag["href"] = url


def _extract(parent: Tag, index: int, node: PageElement) -> None:
    """Remove `node`, the child of `parent` at `index`, from the tree."""
    if index < len(parent.contents) and parent.contents[index] is node:
        node.extract(_self_index=index)
    else:  # never expected; correctness first
        node.extract()


def _flatten(tag: Tag) -> None:
    """Replace what is inside `tag` by its text (bs4 walks descendants without recursion)."""
    text = tag.get_text()
    tag.clear()
    if text:
        tag.append(NavigableString(text))


def _fragment(soup: BeautifulSoup) -> Tag:
    """The element whose contents are the cleaned fragment: the parser's body, or a div that
    holds the whole fragment (its attributes are stripped, so it means nothing).

    Serialising its contents, rather than unwrapping the wrappers, keeps a body of many
    siblings linear: bs4's unwrap moves children one by one, searching for each.
    """
    node: Tag = soup.body if soup.body is not None else soup
    while True:
        nodes = [n for n in node.contents if isinstance(n, Tag) or n.get_text().strip()]
        if len(nodes) != 1 or not isinstance(nodes[0], Tag) or nodes[0].name != "div":
            return node
        node = nodes[0]
