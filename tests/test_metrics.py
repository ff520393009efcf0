"""/metrics on the real server, over real HTTP, after real builds."""

import math
import time

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from server import gunicorn, running
from sites import article_text, make_site

from feeds import __version__
from feeds.watch.watcher import Watcher
from feeds.web.app import create_app

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow

CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
schedule: {interval: 3600}
feeds:
  - {slug: finance, title: 金融, categories: [金融]}
"""
CONTENT_TYPE = "text/plain; version=1.0.0; charset=utf-8"


def scrape(server):
    """Every sample of /metrics, parsed by prometheus_client's own parser, by name and labels."""
    reply = server.request("/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"] == CONTENT_TYPE
    assert reply.headers["cache-control"] == "no-store"
    samples = {}
    for family in text_string_to_metric_families(reply.body.decode("utf-8")):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in samples, f"{key} appears twice"
            samples[key] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def requests_total(samples, handler, code):
    return value(samples, "feeds_http_requests_total", handler=handler, code=str(code))


@pytest.fixture
def builder(tmp_path):
    """A site and the watcher that builds it (run by hand: no schedule, no events)."""
    site = make_site(tmp_path, config=CONFIG)
    watcher = Watcher(site.config())
    try:
        yield site, watcher
    finally:
        watcher.stop()


def test_requests_are_counted_by_status_and_the_304_ratio_follows(builder):
    site, watcher = builder
    assert watcher.run().ok
    with running(create_app(site.config(), builds=watcher.metrics)) as server:
        before = scrape(server)
        assert requests_total(before, "published", 200) == 0
        assert requests_total(before, "published", 304) == 0
        assert math.isnan(value(before, "feeds_http_not_modified_ratio"))

        etag = server.request("/feeds/all.atom").headers["etag"]
        for _ in range(3):
            reply = server.request("/feeds/all.atom", headers={"If-None-Match": etag})
            assert reply.status == 304
        assert server.request("/feeds/all.rss", "HEAD").status == 200
        assert server.request("/feeds/all.atom", "POST").status == 405
        assert server.request("/feeds/all.atom", headers={"If-Match": '"x"'}).status == 412
        assert server.request("/nope").status == 404
        assert server.request("/healthz").status == 200
        assert server.request("/healthz", "DELETE").status == 405

        after = scrape(server)
        assert requests_total(after, "published", 200) == 2
        assert requests_total(after, "published", 304) == 3
        assert requests_total(after, "published", 405) == 1
        assert requests_total(after, "published", 412) == 1
        assert requests_total(after, "app", 404) == 1
        assert requests_total(after, "app", 405) == 1
        # The first scrape is counted once its response started; the second is not yet.
        assert requests_total(after, "app", 200) == 2  # /healthz and the first /metrics
        assert value(after, "feeds_http_not_modified_ratio") == pytest.approx(3 / 7)
        assert requests_total(scrape(server), "app", 200) == 3


def test_builds_and_the_last_build_after_real_builds(builder):
    site, watcher = builder
    assert watcher.run().ok
    with running(create_app(site.config(), builds=watcher.metrics)) as server:
        first = scrape(server)
        assert value(first, "feeds_builder") == 1
        assert value(first, "feeds_builds_total", outcome="ok") == 1
        assert value(first, "feeds_builds_total", outcome="failed") == 0
        assert value(first, "feeds_build_duration_seconds_count") == 1
        assert value(first, "feeds_build_duration_seconds_sum") > 0
        assert value(first, "feeds_build_duration_seconds_bucket", le="+Inf") == 1
        assert value(first, "feeds_last_build_articles_found") == 40
        assert value(first, "feeds_last_build_articles_published") == 40
        assert value(first, "feeds_last_build_articles_failed") == 0
        assert value(first, "feeds_last_build_errors") == 0
        assert value(first, "feeds_last_build_feeds") == watcher.last_report.feeds
        assert value(first, "feeds_last_build_ok") == 1
        assert value(first, "feeds_last_build_timestamp_seconds") > 1.6e9
        assert value(first, "feeds_info", version=__version__) == 1

        site.write("new.txt", article_text("新文章", date="Thu, 30 Jun 2022 08:00:00 GMT"))
        site.write("broken.txt", "\n---\ncategories: [金融]\n---\n<p>没有标题</p>\n")
        report = watcher.run()
        assert not report.ok and report.articles_failed == 1
        second = scrape(server)
        assert value(second, "feeds_builds_total", outcome="ok") == 1
        assert value(second, "feeds_builds_total", outcome="failed") == 1
        assert value(second, "feeds_build_duration_seconds_count") == 2
        assert value(second, "feeds_last_build_articles_found") == 42
        assert value(second, "feeds_last_build_articles_published") == 41
        assert value(second, "feeds_last_build_articles_failed") == 1
        assert value(second, "feeds_last_build_errors") == len(report.errors) >= 1
        assert value(second, "feeds_last_build_ok") == 0

        (site.articles / "broken.txt").unlink()
        assert watcher.run().ok
        third = scrape(server)
        assert value(third, "feeds_builds_total", outcome="ok") == 2
        assert value(third, "feeds_last_build_articles_found") == 41
        assert value(third, "feeds_last_build_errors") == 0
        assert value(third, "feeds_last_build_ok") == 1


def test_a_process_that_only_serves_reports_the_last_build_from_the_status_file(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    with running(create_app(site.config())) as server:
        before = scrape(server)
        assert value(before, "feeds_builder") == 0
        assert not any(name.startswith("feeds_last_build_") for name, _ in before)
        assert site.build().ok  # another process builds
        after = scrape(server)
    assert not any(name.startswith("feeds_builds") for name, _ in after)
    assert value(after, "feeds_last_build_articles_found") == 40
    assert value(after, "feeds_last_build_articles_failed") == 0
    assert value(after, "feeds_last_build_ok") == 1
    assert value(after, "feeds_last_build_seconds") >= 0


def test_head_gives_the_headers_and_other_methods_405(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    with running(create_app(site.config())) as server:
        head = server.request("/metrics", "HEAD")
        assert head.status == 200 and head.body == b""
        assert head.headers["content-type"] == CONTENT_TYPE
        for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
            reply = server.request("/metrics", method)
            assert reply.status == 405
            assert reply.headers["allow"] == "GET, HEAD"


def test_each_app_has_its_own_registry(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    assert site.build().ok
    with running(create_app(site.config())) as one, running(create_app(site.config())) as two:
        for _ in range(3):
            assert one.request("/feeds/all.atom").status == 200
        assert requests_total(scrape(one), "published", 200) == 3
        assert requests_total(scrape(two), "published", 200) == 0
    assert REGISTRY.get_sample_value("feeds_http_requests_total") is None


def test_under_gunicorn_every_scrape_sums_every_worker(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    shared = tmp_path / "prometheus"
    shared.mkdir()
    with gunicorn(site.root, workers=3, env={"PROMETHEUS_MULTIPROC_DIR": str(shared)}) as served:
        for _ in range(30):  # a new connection each: gunicorn's workers take turns
            assert served.server.request("/feeds/finance.rss").status == 200
        time.sleep(2.5)  # every worker adds its counts once a second
        scrapes = [scrape(served.server) for _ in range(6)]
    # Whichever worker answers, it reports the whole server: the same counts each time.
    totals = {requests_total(samples, "published", 200) for samples in scrapes}
    assert len(totals) == 1 and totals.pop() >= 31
    for samples in scrapes:
        assert value(samples, "feeds_builds_total", outcome="ok") == 1
        assert value(samples, "feeds_build_duration_seconds_count") == 1
        assert value(samples, "feeds_http_not_modified_ratio") == 0
