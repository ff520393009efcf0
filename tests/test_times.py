"""Times are shown one way on every page: in `source.timezone`, with its offset, and in a
`<time datetime>` a program can read. The real sample, dated in Asia/Shanghai, shows the
same time on its article page, in its feed's view and on the index."""

import shutil
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import feedparser
import pytest
from lxml import html
from sites import CONFIG, make_site

from feeds.render.times import show_time

MOMENT = datetime(2022, 3, 15, 14, 4, 32, tzinfo=UTC)  # the sample's date: 14:04:32 GMT


@pytest.mark.parametrize(
    ("zone", "iso", "text"),
    [
        ("Asia/Shanghai", "2022-03-15T22:04:32+08:00", "2022-03-15 22:04 (UTC+08:00)"),
        ("UTC", "2022-03-15T14:04:32+00:00", "2022-03-15 14:04 (UTC+00:00)"),
        # Daylight saving time began two days before: the offset is the day's own.
        ("America/New_York", "2022-03-15T10:04:32-04:00", "2022-03-15 10:04 (UTC-04:00)"),
        ("Asia/Kolkata", "2022-03-15T19:34:32+05:30", "2022-03-15 19:34 (UTC+05:30)"),
    ],
)
def test_a_time_is_shown_in_the_zone_with_its_offset(zone, iso, text):
    shown = show_time(MOMENT, ZoneInfo(zone))
    assert (shown.iso, shown.text) == (iso, text)
    assert datetime.fromisoformat(shown.iso) == MOMENT


def _times(page: bytes) -> set[tuple[str, str]]:
    return {(t.get("datetime"), t.text) for t in html.fromstring(page).iter("time")}


@pytest.mark.parametrize(
    ("timezone", "iso", "text"),
    [
        ("Asia/Shanghai", "2022-03-15T22:04:32+08:00", "2022-03-15 22:04 (UTC+08:00)"),
        ("Europe/London", "2022-03-15T14:04:32+00:00", "2022-03-15 14:04 (UTC+00:00)"),
    ],
)
def test_the_real_sample_shows_the_same_time_on_every_page(
    sample_article, tmp_path, timezone, iso, text
):
    config = CONFIG.replace("  dir: articles\n", f"  dir: articles\n  timezone: {timezone}\n")
    site = make_site(tmp_path, examples=False, config=config)
    shutil.copy(sample_article, site.articles / sample_article.name)
    assert site.build().ok
    tree = site.tree()
    page = f"articles/{sample_article.stem}.html"
    for path in (page, "feeds/all.html", "feeds/finance.html", "index.html"):
        assert _times(tree[path]) == {(iso, text)}, path
    published = feedparser.parse(tree["feeds/all.atom"]).entries[0].published
    assert datetime.fromisoformat(published) == datetime.fromisoformat(iso) == MOMENT
