"""Signatures of what the builder makes things from: when one differs from the one the last
build kept, what it signs is made again (articles re-read, feeds or pages rendered).

A signature is a digest of the values themselves, never of what was rendered from them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from feeds import __version__
from feeds.catalogue.records import Listing
from feeds.catalogue.store import SCHEMA_VERSION
from feeds.config import Config
from feeds.images.signing import image_rules
from feeds.model import Selection
from feeds.render.formats import FORMAT
from feeds.text import hex_digest


def signature(*parts: object) -> str:
    """A digest of these values (dataclasses by their fields, anything else as text)."""
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=_plain)
    return hex_digest(text, size=16)


def _plain(value: object) -> object:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)  # type: ignore[call-overload]
    return str(value)


def rules_signature(config: Config, *, make_key: bool = True) -> str:
    """Everything that shapes a parsed and cleaned article: when it changes, all is re-read."""
    return signature(
        __version__,
        FORMAT,
        SCHEMA_VERSION,
        config.source.timezone.key,
        config.source.updated,
        config.source.max_bytes,
        config.clean.remove,
        config.clean.drop_images,
        config.clean.summary_length,
        config.site.base_url,  # relative URLs in bodies resolve against it
        config.site.search,  # whether the catalogue keeps the search index
        *image_rules(
            config, make_key=make_key
        ),  # nothing when the proxy is off: the signature stays as it was
    )


@dataclass(frozen=True)
class SettingsSignatures:
    """The signatures of the settings the published files show."""

    render: str  # every feed document and the index show these
    pages: str  # every article page shows these


def settings_signatures(config: Config) -> SettingsSignatures:
    """The signatures of the settings that `config` publishes with."""
    render = signature(
        __version__,
        FORMAT,
        config.site,
        config.feeds,
        config.category_feeds,
        config.schedule.interval,
        config.websub.hub,  # every document names it
        config.archives,
        config.source.timezone.key,  # the feeds' views show their times in it
    )
    pages = signature(__version__, FORMAT, config.site, config.source.timezone.key)
    return SettingsSignatures(render, pages)


def feed_signature(render: str, selection: Selection[Listing], newest: datetime) -> str:
    """What a feed's documents are rendered from: the settings, the feed, the version of
    each entry, and for a feed with no entry the time of the site (its documents carry it)."""
    entries = [(s.id, s.digest) for s in selection.entries]
    return signature(render, selection.spec, entries, None if entries else newest)


def with_archive(feed: str, archive: int) -> str:
    """A feed's signature with the number of the archive document it links, if any."""
    return signature(feed, archive) if archive else feed
