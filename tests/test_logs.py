"""Structured logs: `--log-format json` on real `feeds serve` and `feeds watch` processes."""

import json
import logging
import os
import re
import signal
import subprocess
import sys
from datetime import datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from server import LISTENING, Server, log_of, wait_for_line, wait_until_built
from sites import make_site, run_feeds

from feeds.logs import JsonFormatter

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow

CONFIG = """\
site: {title: 测试站点, base_url: "http://127.0.0.1:8080/"}
source: {dir: articles}
output: {dir: public}
schedule: {interval: 3600}
"""
WATCHING = re.compile(r'"message": "watching ')
BUILT = re.compile(r'"message": "build: ')
BUILD_FIELDS = ("articles", "failed", "read", "feeds", "changed", "written", "removed", "seconds")


def start(site, *args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "feeds", *args, "-c", "feeds.yaml"],
        cwd=site.root,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def stop(process):
    """SIGTERM, then every line the process logged after what was already read."""
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=30) == 0
        return log_of(process).rest().splitlines()
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()


def parsed(lines):
    """Each line as the JSON object it must be."""
    objects = [json.loads(line) for line in lines if line.strip()]
    for line in objects:
        assert {"time", "level", "logger", "message"} <= line.keys(), line
        assert datetime.fromisoformat(line["time"]).utcoffset().total_seconds() == 0
    return objects


def metric(server, name):
    text = server.request("/metrics").body.decode("utf-8")
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    return None


def test_serve_logs_json_lines_with_the_build_fields(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    process = start(site, "serve", "--port", "0", "--log-format", "json")
    try:
        match, seen = wait_for_line(process, LISTENING)
        server = Server("127.0.0.1", int(match.group(1)))
        wait_until_built(server)
        assert server.request("/feeds/all.atom").status == 200
        assert metric(server, "feeds_builder") == 1
        assert metric(server, "feeds_last_build_articles_found") == 40
    finally:
        rest = stop(process)
    lines = parsed(seen + rest)
    build = next(line for line in lines if line["message"].startswith("build: "))
    assert build["level"] == "INFO" and build["logger"] == "feeds"
    assert {name: build[name] for name in BUILD_FIELDS[:-1]} == {
        "articles": 40,
        "failed": 0,
        "read": 40,
        "feeds": build["feeds"],
        "changed": build["feeds"],
        "written": build["written"],
        "removed": 0,
    }
    assert build["feeds"] > 1 and build["written"] > build["feeds"]
    assert isinstance(build["seconds"], float) and build["seconds"] >= 0
    assert any(line["message"] == "shutting down" for line in lines)


def test_a_second_serve_only_serves_and_reports_the_last_build(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    first = start(site, "serve", "--port", "0")
    try:
        match, _ = wait_for_line(first, LISTENING)  # text lines, as before
        wait_until_built(Server("127.0.0.1", int(match.group(1))))
        second = start(site, "serve", "--port", "0", env={"FEEDS_LOG_FORMAT": "json"})
        try:
            match, seen = wait_for_line(second, LISTENING)
            server = Server("127.0.0.1", int(match.group(1)))
            assert metric(server, "feeds_builder") == 0
            assert metric(server, "feeds_builds_total") is None
            assert metric(server, "feeds_last_build_articles_found") == 40
        finally:
            rest = stop(second)
        lines = parsed(seen + rest)
        busy = [line for line in lines if line["message"].endswith("this process only serves")]
        assert busy and busy[0]["level"] == "WARNING"
    finally:
        first_lines = stop(first)
    assert any(" INFO feeds: shutting down" in line for line in first_lines)


def test_watch_takes_the_format_from_the_environment(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    process = start(site, "watch", env={"FEEDS_LOG_FORMAT": "json"})
    try:
        _, seen = wait_for_line(process, WATCHING)
        _, built = wait_for_line(process, BUILT)  # the first build runs in the background
    finally:
        rest = stop(process)
    lines = parsed(seen + built + rest)
    build = next(line for line in lines if line["message"].startswith("build: "))
    assert set(BUILD_FIELDS) <= build.keys() and build["articles"] == 40


def test_an_unknown_format_is_refused(tmp_path):
    site = make_site(tmp_path, config=CONFIG)
    result = run_feeds("watch", "-c", "feeds.yaml", "--log-format", "xml", cwd=site.root)
    assert result.returncode == 2
    assert "'xml' is not one of 'text', 'json'" in result.stderr


def test_a_json_line_keeps_a_multiline_message_and_the_traceback_on_one_line():
    try:
        raise ValueError("坏了")
    except ValueError:
        record = logging.LogRecord(
            "feeds", logging.ERROR, __file__, 1, "第一行\n第二行 %s", ("参数",), sys.exc_info()
        )
    record.fields = {"articles": 3, "message": "not a field: the message stays the message"}
    line = JsonFormatter().format(record)
    assert "\n" not in line and "第一行" in line  # UTF-8 as is, one line
    parsed_line = json.loads(line)
    assert parsed_line["message"] == "第一行\n第二行 参数"
    assert parsed_line["level"] == "ERROR" and parsed_line["articles"] == 3
    assert "ValueError: 坏了" in parsed_line["exception"]


def test_watch_warns_that_it_cannot_answer_the_image_proxy(tmp_path):
    site = make_site(tmp_path, config=CONFIG + "images: {proxy: true, key: " + "k" * 32 + "}\n")
    process = start(site, "watch", env={"FEEDS_LOG_FORMAT": "json"})
    try:
        _, seen = wait_for_line(process, WATCHING)
    finally:
        rest = stop(process)
    warned = [line for line in parsed(seen + rest) if "images.proxy is on" in line["message"]]
    assert warned and warned[0]["level"] == "WARNING"
    assert "http://127.0.0.1:8080/" in warned[0]["message"]
