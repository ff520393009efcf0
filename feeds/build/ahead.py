"""Which articles a first build's feeds will show, told from every file's front matter
before any body is cleaned: a first build of a large archive cleans and publishes those
articles first, and the rest after (see feeds.build.builder).

A feed shows the newest articles that belong in it, and whether one belongs (its categories,
its author) is written in its front matter. Only a feed that filters on the text needs the
cleaned body: with one, or with archives (which list every article), nothing is told ahead.
What is held does not grow with the archive: each feed's and each category node's newest
articles, and a hash of every id (two files may claim one id; the first by path keeps it).
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from itertools import chain

from feeds.build.selection import DEFAULT_LIMIT, belongs, nodes_of
from feeds.build.workers import Surveyed
from feeds.config import Config, FeedSpec
from feeds.model import CategoryPath

_Key = tuple[float, str, str]  # the order feeds list articles in (see feed_order)


def tells_ahead(config: Config) -> bool:
    """Whether this configuration's feeds can be chosen from front matter alone."""
    return not config.archives and not any(spec.filters_text for spec in config.feeds)


class _Newest:
    """The newest `limit` articles offered, by their keys."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._kept: list[tuple[_Key, Surveyed]] = []
        self._last: _Key | None = None  # the oldest kept, once `limit` are

    def offer(self, key: _Key, article: Surveyed) -> None:
        if self._last is not None and key > self._last:
            return
        self._kept.append((key, article))
        if len(self._kept) >= 2 * self.limit:  # sorted now and then, not at every offer
            self._kept = self.newest()
            self._last = self._kept[-1][0]

    def newest(self) -> list[tuple[_Key, Surveyed]]:
        return sorted(self._kept, key=lambda kept: kept[0])[: self.limit]


class FeedsAhead:
    """The articles every feed will show, as the front matters come in."""

    def __init__(self, config: Config) -> None:
        self._configured: list[tuple[FeedSpec, _Newest]] = [
            (spec, _Newest(spec.limit)) for spec in config.feeds
        ]
        self._every = _Newest(DEFAULT_LIMIT)  # the `all` feed, when none is configured
        # Every node's newest, when each node has a feed; else its newest one, so that
        # the nodes in use are the same once only the chosen articles are read.
        self._node_limit = DEFAULT_LIMIT if config.category_feeds else 1
        self._nodes: dict[CategoryPath, _Newest] = {}
        self._newest_update: tuple[float, Surveyed] | None = None  # it dates the site
        self._ids = array("q")

    def add(self, article: Surveyed) -> None:
        key = (-article.published, article.id, article.source)
        self._every.offer(key, article)
        for spec, newest in self._configured:
            if belongs(spec, article):
                newest.offer(key, article)
        for node in nodes_of(article.categories):
            under = self._nodes.get(node)
            if under is None:
                under = self._nodes[node] = _Newest(self._node_limit)
            under.offer(key, article)
        if self._newest_update is None or article.updated > self._newest_update[0]:
            self._newest_update = (article.updated, article)
        self._ids.append(hash(article.id))

    def wanted(self) -> Mapping[str, tuple[int, int]] | None:
        """The sources of the articles the feeds will show, with the size and mtime of the
        files surveyed; None when another file claims the id of one of them (which of the two
        keeps it is told only once both are read)."""
        lists = chain(
            [self._every],
            (newest for _, newest in self._configured),
            self._nodes.values(),
        )
        chosen = {article.source: article for newest in lists for _, article in newest.newest()}
        if self._newest_update is not None:
            article = self._newest_update[1]
            chosen[article.source] = article
        ids = {hash(article.id) for article in chosen.values()}
        if sum(1 for id_hash in self._ids if id_hash in ids) != len(chosen):
            return None
        return {source: article.stat for source, article in chosen.items()}
