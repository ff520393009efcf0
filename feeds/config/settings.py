"""Every setting declared once: its key, default, help and the check that converts its value.

Contains no YAML reading; feeds.config walks the file and applies these declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from feeds.config import values as v
from feeds.config.values import Invalid, describe

# Sina's shared promo assets: the "download our app" QR code that ends every article (in its
# `.appendQr_wrap` block, which scrapers took for the article's picture) lives in this folder,
# uploaded once in 2020 and linked from articles of every date since.
DEFAULT_DROP_IMAGES: tuple[str, ...] = ("*://n.sinaimg.cn/finance/cece9e13/*",)

__all__ = ["FEED_SETTINGS", "FEEDS_HELP", "REQUIRED", "SETTINGS", "Invalid", "Setting", "describe"]


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()  # the default of a key every feed must set


@dataclass(frozen=True)
class Setting:
    """One key, declared once: dotted name, default as written in YAML, help, check/convert."""

    name: str
    default: object
    help: str
    check: Callable[[object], object]


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "site.title",
        "feeds",
        "Title of the site: the index page and the OPML file.",
        v.nonempty_text,
    ),
    Setting(
        "site.base_url",
        "http://127.0.0.1:8080/",
        "Absolute http(s) URL the published tree is served from; feed and entry links are "
        "built on it. A missing trailing `/` is added. The environment variable "
        "`FEEDS_BASE_URL` overrides it.",
        v.base_url,
    ),
    Setting("site.language", "zh-CN", "Language tag of the feeds.", v.language),
    Setting("site.description", "", "Description of the site.", v.string),
    Setting(
        "site.search",
        True,
        "Whether the site offers search: a full-text index of the articles kept in the "
        "catalogue, `/search` with its feeds, and a search box on the pages. `false` for "
        "a tree served only as static files, where nothing answers `/search`: a first build "
        "then ends once every page is out, instead of filling the index after (about as "
        "long again).",
        v.flag,
    ),
    Setting(
        "source.dir",
        "examples/articles",
        "Directory of article files, read recursively.",
        v.directory,
    ),
    Setting(
        "source.timezone",
        "Asia/Shanghai",
        "IANA time zone of article dates written without one.",
        v.timezone,
    ),
    Setting(
        "source.extensions",
        (".md", ".markdown", ".txt", ".html"),
        "File extensions read as articles (case-insensitive; the leading `.` is optional).",
        v.extensions,
    ),
    Setting(
        "source.updated",
        "date",
        "Where an entry's `updated` comes from when the front matter has no `updated:`. "
        "`date`: the article's `date`, or the time a build first read changed content, kept "
        "in the catalogue (a new catalogue forgets it). `mtime`: the file's modification "
        "time, which a clone, `cp -r` or `rsync` resets. (Hexo's `empty` has no equivalent: "
        "Atom requires `updated`.)",
        v.updated_from,
    ),
    Setting(
        "source.max_bytes",
        5_000_000,
        "Article files bigger than this many bytes are rejected.",
        v.positive_int,
    ),
    Setting("output.dir", "public", "Directory the published tree is written to.", v.directory),
    Setting(
        "websub.hub",
        "",
        'URL of a WebSub hub: feeds name it (`rel="hub"`) and it is told of every feed a '
        "build changes, so subscribers hear of new articles at once. Empty: no hub.",
        v.hub,
    ),
    Setting(
        "state.dir",
        "",
        "Directory for the build status (and the catalogue); empty: `<output.dir>/.feeds`, "
        "which is never served.",
        v.optional_directory,
    ),
    Setting(
        "schedule.interval",
        60,
        "Seconds between rescans of `source.dir`; file events trigger a build sooner.",
        v.seconds,
    ),
    Setting(
        "schedule.watch",
        True,
        "Watch `source.dir` for file events and rebuild within a second; `false` for mounts "
        "that deliver no events (the periodic rescan still runs).",
        v.flag,
    ),
    Setting(
        "schedule.settle",
        0.5,
        "Seconds a file must stay unmodified before it is read, so a file still being "
        "written is not published half-way (when the writer closes it, it is read at once).",
        v.seconds,
    ),
    Setting(
        "category_feeds",
        "auto",
        "`auto`: one feed per category path node, besides the configured `feeds`; "
        "`off`: only the configured `feeds`.",
        v.category_feeds,
    ),
    Setting(
        "archives",
        False,
        "`true`: RFC 5005 archived feeds. Entries that leave a feed's Atom document go into "
        "archive documents (`feeds/<slug>/archive/<n>.atom`, `<n>` from 1, the oldest) of "
        "`limit` entries each, linked with `prev-archive`/`next-archive`, so a reader that "
        "polls rarely can backfill everything. A full archive document is never rewritten.",
        v.flag,
    ),
    Setting(
        "clean.remove",
        (".appendQr_wrap", ".app-kaihu-qr", "#left_hzh_ad", ".tech-quotation", "p.article-editor"),
        "CSS selectors of cruft removed from article bodies before sanitising "
        "(the editor credit is kept as metadata).",
        v.selectors,
    ),
    Setting(
        "clean.drop_images",
        DEFAULT_DROP_IMAGES,
        "Images never published, as shell globs of the whole URL (`*` matches anything, "
        "`/` too; `?` one character): removed from bodies, and not used as an entry's "
        "picture. The default is the folder of Sina's promo images (the app's QR code). A "
        "head image shown in the body only inside cruft removed by `clean.remove` is left "
        "out too.",
        v.image_patterns,
    ),
    Setting(
        "clean.summary_length",
        150,
        "Length in characters of a summary derived from the body.",
        v.positive_int,
    ),
    Setting(
        "images.proxy",
        False,
        "`true`: images on `images.hosts` (in bodies, and the head image) are linked through "
        "the web app's image proxy, `images/<signature>/<the URL in base64url>.<its "
        "extension>` under `site.base_url`, which fetches them without a Referer. Needs "
        "`feeds serve` or the WSGI app (see "
        "[Image proxy](image-proxy.md)).",
        v.flag,
    ),
    Setting(
        "images.hosts",
        ("n.sinaimg.cn",),
        "Hosts whose images are proxied, and the only hosts the proxy ever fetches from; "
        "`host:port` for a port other than the scheme's default.",
        v.image_hosts,
    ),
    Setting(
        "images.max_bytes",
        10_000_000,
        "Largest image in bytes the proxy passes on; a bigger one is answered `502`.",
        v.positive_int,
    ),
    Setting(
        "images.timeout",
        10,
        "Seconds the proxy allows for fetching an image, connecting and reading together; "
        "past them it answers `504`.",
        v.seconds,
    ),
    Setting(
        "images.key",
        "",
        "Secret that signs proxied image URLs, at least 32 characters. Empty: a random key "
        "made once and kept in `<state.dir>/image-proxy.key`. The environment variable "
        "`FEEDS_IMAGE_KEY` overrides both.",
        v.image_key,
    ),
)

FEEDS_HELP = (
    "The configured feeds, each a mapping with the `feeds[].` keys below; "
    "a feed is published as `feeds/<slug>.atom`, `.rss` and `.json`."
)

FEED_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "feeds[].slug",
        REQUIRED,
        "Name of the feed in its URLs: lower-case letters, digits and `-`, at most 80 "
        "characters, unique.",
        v.slug,
    ),
    Setting("feeds[].title", REQUIRED, "Title of the feed.", v.nonempty_text),
    Setting("feeds[].description", "", "Description of the feed.", v.string),
    Setting(
        "feeds[].categories",
        (),
        "Category path prefixes the feed takes articles from, one string or a list; "
        "`金融/新浪财经` names a deeper node. Empty: every article.",
        v.category_paths,
    ),
    Setting(
        "feeds[].exclude",
        (),
        "Category path prefixes left out of the feed, written like `categories`.",
        v.category_paths,
    ),
    Setting("feeds[].limit", 50, "Maximum number of entries, newest first.", v.positive_int),
    Setting(
        "feeds[].authors",
        (),
        "Only articles by one of these authors (their names as written), one string or a "
        "list. Empty: any author.",
        v.names,
    ),
    Setting(
        "feeds[].exclude_authors",
        (),
        "Articles by these authors are left out, written like `authors`.",
        v.names,
    ),
    Setting(
        "feeds[].match",
        "",
        "A regular expression (Python syntax): only articles whose title or body text it "
        "matches somewhere, e.g. `(?i)A股|港股`. Empty: no keyword filter.",
        v.pattern,
    ),
    Setting(
        "feeds[].exclude_match",
        "",
        "A regular expression: articles whose title or body text it matches are left out.",
        v.pattern,
    ),
    Setting(
        "feeds[].max_bytes",
        0,
        "Largest size in bytes of each of the feed's documents; the oldest entries are left "
        "out until it fits (aggregators refuse large feeds: FeedBurner's limit was 512 KB). "
        "0: no cap.",
        v.byte_cap,
    ),
)


def _yaml_inline(value: object) -> str:
    if value is REQUIRED:
        return "required"
    if isinstance(value, tuple):
        value = list(value)
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 20)
    return dumped.removesuffix("\n").removesuffix("\n...")


def settings_markdown() -> str:
    """docs/configuration.md's table of every setting (key, default, meaning), from the tables."""
    rows = [(s.name, _yaml_inline(s.default), s.help) for s in SETTINGS]
    rows.append(("feeds", "[]", FEEDS_HELP))
    rows += [(s.name, _yaml_inline(s.default), s.help) for s in FEED_SETTINGS]
    lines = ["| Key | Default | Meaning |", "| --- | --- | --- |"]
    for name, default, meaning in rows:
        shown = "*required*" if default == "required" else f"`{default}`"
        cell = meaning.replace("|", "\\|")
        lines.append(f"| `{name}` | {shown} | {cell} |")
    return "\n".join(lines) + "\n"
