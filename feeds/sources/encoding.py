"""An article file's bytes -> text: UTF-8 first, then the encodings Chinese sources really use.

Pure: no disk access, no front matter; problems come back as warnings or an ArticleError.
"""

from __future__ import annotations

import codecs
import re

from feeds.errors import ArticleError

_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936"}
_CJK = re.compile(
    "[\u2000-\u206f\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\U00020000-\U0003134f]"
)
# Controls that text never holds (tab, line ends, form feed and ESC aside: page breaks and
# the escape sequences of ISO-2022 and terminal colours are text). Removed at byte level,
# before decoding: in UTF-8 and in the GB family they never occur inside a multi-byte
# character, and out of the way they cannot mislead the detection of the encoding.
_STRAY_CONTROLS = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_STRAY_CONTROL = re.compile(b"[" + re.escape(_STRAY_CONTROLS) + b"]")
# Compressed data (images, archives) holds about one such byte in ten, text scraped with a
# few stray ones far fewer: past one in sixteen, a file is binary, not damaged text.
_BINARY_SHARE = 16


def decode(data: bytes, source: str) -> tuple[str, tuple[str, ...]]:
    """Bytes -> text plus warnings: UTF-8 (BOM or not), else detected, GB18030 preferred.

    Stray control bytes are removed with a warning; a file with many is rejected as binary.
    """
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        text = data.decode("utf-16", "replace")  # Windows "Unicode" text; its NULs are text
        return text, (_replaced(source, text, "UTF-16"),) if "\ufffd" in text else ()
    data, stray = _without_controls(data, source)
    text, warnings = _decode_text(data.removeprefix(codecs.BOM_UTF8), source)
    return text, (*stray, *warnings)


def _without_controls(data: bytes, source: str) -> tuple[bytes, tuple[str, ...]]:
    """The bytes without stray controls, and a warning naming the first one's line."""
    # Deleting them from a copy takes a tenth of the time a regular expression takes, and
    # most files have none.
    kept = data.translate(None, _STRAY_CONTROLS)
    removed = len(data) - len(kept)
    if removed == 0:
        return data, ()
    if removed > len(data) // _BINARY_SHARE:
        raise ArticleError(source, "not a text file: an article must be UTF-8 or GB18030 text")
    first = _STRAY_CONTROL.search(data)
    assert first is not None  # some were removed
    line = data.count(b"\n", 0, first.start()) + 1
    warning = (
        f"{source}:{line}: {removed} control byte{'s' if removed > 1 else ''} removed "
        f"(the first is 0x{first.group()[0]:02x}), which text never holds: "
        "check what wrote the file"
    )
    return kept, (warning,)


def _decode_text(data: bytes, source: str) -> tuple[str, tuple[str, ...]]:
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError:
        pass
    damaged = data.decode("utf-8", "replace")
    bad = damaged.count("\ufffd")
    if sum(1 for c in damaged if ord(c) > 127) >= 5 * bad:
        # Mostly valid UTF-8 with a few broken bytes (a truncated scrape): GB18030 would
        # turn every character into mojibake, so keep UTF-8 and say where it was damaged.
        return damaged, (_replaced(source, damaged, "UTF-8"),)
    try:
        text = data.decode("gb18030")
        if _mostly_cjk(text):
            return text, ()
    except UnicodeDecodeError:
        pass
    # Imported here: most archives have no file that gets this far, and every build's start
    # (before any worker exists) would pay for the import.
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        codec = "gb18030" if best.encoding in _GB_FAMILY else best.encoding
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            if codec == "gb18030":
                return text, ()
            return text, (f"{source}: not UTF-8; read as {codec}: save the file as UTF-8",)
    fallback = min((damaged, data.decode("gb18030", "replace")), key=lambda t: t.count("\ufffd"))
    return fallback, (_replaced(source, fallback, "UTF-8" if fallback is damaged else "GB18030"),)


def _mostly_cjk(text: str) -> bool:
    wide = [c for c in text if ord(c) > 127]
    return bool(wide) and sum(1 for c in wide if _CJK.match(c)) >= 0.9 * len(wide)


def _replaced(source: str, text: str, codec: str) -> str:
    first = text.find("\ufffd")
    line = text.count("\n", 0, first) + 1
    where = f"{source}:{line}" if first >= 0 else source
    return (
        f"{where}: invalid {codec} bytes replaced by '\ufffd' "
        f"({text.count(chr(0xFFFD))} in all): save the file as UTF-8"
    )
