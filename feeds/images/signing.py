"""Signed image-proxy URLs: which image URLs go through the proxy, how they are signed and
read back, and the signing key.

Pure except for load_key, which reads the key (and makes it once, when there is none).
A proxied URL is `<site.base_url>images/<signature>/<encoded url><extension>`: the
signature is a truncated HMAC-SHA256 of the URL, the URL is base64url without padding,
and the extension (`.png`) is the original's, so that readers and the renderer can still
tell the image type from the URL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feeds.config.values import MIN_KEY_LENGTH, Host, parse_host
from feeds.errors import FeedsError

if TYPE_CHECKING:  # feeds.config declares its settings with this module's host check
    from feeds.config import Config


KEY_ENV = "FEEDS_IMAGE_KEY"
KEY_FILE = "image-proxy.key"
PREFIX = "images/"  # under site.base_url; the web app serves /images/<signature>/<name>
SIGNATURE_BYTES = 16  # 128 bits of HMAC-SHA256: 22 base64url characters
_DEFAULT_PORTS = {"http": 80, "https": 443}
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
# A fixed list, not mimetypes: that reads the system's tables, and output must not vary.
_EXTENSIONS = frozenset(".avif .bmp .gif .ico .jpeg .jpg .png .svg .webp".split())


@dataclass(frozen=True)
class ImageSigner:
    """Turns image URLs on the allowed hosts into signed proxy URLs, and reads them back."""

    key: bytes = field(repr=False)
    hosts: frozenset[Host]
    base_url: str  # site.base_url, ending with "/"

    def allows(self, url: str) -> bool:
        """Whether `url` is an http(s) URL without user info on one of the allowed hosts."""
        try:
            parts = urlsplit(url)
            name, port = parts.hostname, parts.port
        except ValueError:
            return False
        default = _DEFAULT_PORTS.get(parts.scheme)
        if default is None or name is None or parts.username is not None:
            return False
        effective = default if port is None else port
        return (name, effective) in self.hosts or (
            effective == default and (name, None) in self.hosts
        )

    def rewrite(self, url: str) -> str:
        """The proxy URL for an image on an allowed host; any other URL as it is."""
        return self.proxied_url(url) if self.allows(url) else url

    def proxied_url(self, url: str) -> str:
        """The signed proxy URL of `url`, whatever its host."""
        return f"{self.base_url}{PREFIX}{self.signature(url)}/{proxied_name(url)}"

    def signature(self, url: str) -> str:
        mac = hmac.new(self.key, url.encode("utf-8"), hashlib.sha256).digest()
        return _b64(mac[:SIGNATURE_BYTES])

    def verify(self, signature: str, url: str) -> bool:
        """Whether `signature` is this key's for `url`, compared in constant time."""
        return hmac.compare_digest(
            signature.encode("ascii", "replace"), self.signature(url).encode()
        )


def proxied_name(url: str) -> str:
    """The last segment of a proxied URL: the URL encoded, then its image extension."""
    return _b64(url.encode("utf-8")) + _extension(url)


def url_of(name: str) -> str | None:
    """The URL a proxied name encodes; None unless `name` is exactly what proxied_name gives."""
    encoded = name.partition(".")[0]
    if not _BASE64URL.fullmatch(encoded):
        return None
    try:
        url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    # One name per URL: no other padding bits, and no other extension.
    return url if proxied_name(url) == name else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _extension(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    extension = os.path.splitext(path)[1].lower()
    return extension if extension in _EXTENSIONS else ""


def image_signer(config: Config, *, make_key: bool = True) -> ImageSigner | None:
    """The signer for this configuration; None when the proxy is off. Reads (or makes) the key;
    with `make_key` false (`feeds check`, which writes nothing), a missing key file is not
    made and a key of the moment signs instead: nothing it signs is published."""
    images = config.images
    if not images.proxy:
        return None
    hosts = frozenset(host for host in map(parse_host, images.hosts) if host is not None)
    return ImageSigner(load_key(config, make=make_key), hosts, config.site.base_url)


def image_rules(config: Config, *, make_key: bool = True) -> tuple[object, ...]:
    """What the proxy settings change in a cleaned article (never the key itself): () when off."""
    signer = image_signer(config, make_key=make_key)
    if signer is None:
        return ()
    fingerprint = hmac.new(signer.key, b"feeds image rules", hashlib.sha256).hexdigest()[:16]
    return ("images", sorted(config.images.hosts), fingerprint)


def load_key(config: Config, *, make: bool = True) -> bytes:
    """The signing key: FEEDS_IMAGE_KEY, else `images.key`, else the state dir's key file,
    which the first process to need it makes (with `make` false, a random key of the moment
    stands in for a missing file)."""
    from_env = os.environ.get(KEY_ENV, "")
    if from_env:
        if len(from_env) < MIN_KEY_LENGTH:
            raise FeedsError(
                f"{KEY_ENV}: must be at least {MIN_KEY_LENGTH} characters; unset it to use "
                "images.key or the key file"
            )
        return from_env.encode("utf-8")
    if config.images.key:
        return config.images.key.encode("utf-8")
    path = config.state.dir / KEY_FILE
    try:
        try:
            key = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            if not make:
                return secrets.token_hex(32).encode("ascii")
            key = _make_key(path)
    except OSError as exc:
        raise FeedsError(
            f"{path}: cannot read or make the image proxy key ({exc.strerror or exc}); make "
            "state.dir readable and writable, or set images.key"
        ) from exc
    if len(key) < MIN_KEY_LENGTH:
        raise FeedsError(
            f"{path}: the image proxy key is shorter than {MIN_KEY_LENGTH} characters; "
            "delete the file to make a new one"
        )
    return key.encode("utf-8")


def _make_key(path: Path) -> str:
    """Make the key file, or read the one another process made first: never two keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    # Written whole under a name of its own (O_EXCL, mode 0600), then linked into place:
    # link() refuses an existing name, so the builder and every web worker read one key,
    # and none of them can see the file half-written.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process was first: its key is the key
    finally:
        os.unlink(temp)
    return path.read_text(encoding="utf-8").strip()
