"""The message catalogues: which one a language tag picks, and that each shipped .po file
holds every message of the code and templates, translated, with the same placeholders."""

import re
import shlex
import tomllib
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from sites import REPO

from feeds.render.i18n import SHIPPED, catalogue_locale, translations, unshipped_language

LOCALE_DIR = REPO / "feeds" / "render" / "locale"
TEMPLATE = LOCALE_DIR / "messages.pot"
UPDATE = "the update command written in pyproject.toml, beside [[tool.babel.mappings]]"


def _documented_command() -> list[list[str]]:
    """The one-line update command pyproject.toml documents, as its commands' arguments."""
    text = (REPO / "pyproject.toml").read_text("utf-8")
    tomllib.loads(text)  # the mapping it names is valid TOML
    [line] = [line for line in text.splitlines() if line.startswith("# pybabel extract ")]
    return [shlex.split(part) for part in line.removeprefix("# ").split("&&")]


@pytest.mark.parametrize(
    ("language", "locale"),
    [
        ("zh", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh-SG", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh-Hans-HK", "zh_Hans"),  # a named script wins over the region's usual one
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-MO", "zh_Hant"),
        ("zh-Hant", "zh_Hant"),
        ("zh-Hant-CN", "zh_Hant"),
        ("zh_tw", "zh_Hant"),
        ("en", "en"),
        ("en-GB", "en"),
        ("fr", None),
        ("ja", None),
        ("zh-Latn", None),
        ("yue", None),
        ("xx", None),
    ],
)
def test_a_language_tag_picks_its_catalogue(language, locale):
    assert catalogue_locale(language) == locale
    assert (unshipped_language(language) is None) is (locale is not None)


def test_a_language_with_no_catalogue_gets_english():
    assert translations("fr").gettext("Copy") == "Copy"
    assert translations("zh-CN").gettext("Copy") == "复制"
    assert translations("zh-HK").gettext("Copy") == "複製"
    assert translations("en").ngettext("%(count)s entry", "%(count)s entries", 1) == (
        "%(count)s entry"
    )


def _catalog(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def _messages(catalog) -> dict:
    return {m.id: m for m in catalog if m.id}


def test_the_template_holds_every_message_of_the_code_and_templates(tmp_path, monkeypatch):
    extract, update = _documented_command()
    assert update[:2] == ["pybabel", "update"] and str(TEMPLATE.relative_to(REPO)) in update
    # The documented extraction, written to a temporary file instead of the template.
    output = extract.index("-o") + 1
    assert extract[output] == str(TEMPLATE.relative_to(REPO))
    extracted = tmp_path / "messages.pot"
    extract[output] = str(extracted)
    monkeypatch.chdir(REPO)  # the command runs from the root, where its paths start
    CommandLineInterface().run([extract[0], "-q", *extract[1:]])
    assert set(_messages(_catalog(extracted))) == set(_messages(_catalog(TEMPLATE))), (
        f"{TEMPLATE} is out of date: run {UPDATE}"
    )


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_shipped_catalogue_is_complete_and_keeps_the_placeholders(locale):
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    catalog = _catalog(path)
    messages = _messages(catalog)
    assert set(messages) == set(_messages(_catalog(TEMPLATE))), f"{path}: run {UPDATE}"
    for message in messages.values():
        assert not message.fuzzy, f"{path}: {message.id!r} is fuzzy: check it, drop the flag"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if locale == "en":  # the msgids are English: empty strings mean "as written"
            assert not any(strings), f"{path}: {message.id!r}"
            continue
        assert all(strings), f"{path}: {message.id!r} is not translated"
        wanted = set(re.findall(r"%\(\w+\)s", " ".join(ids)))
        for string in strings:
            assert set(re.findall(r"%\(\w+\)s", string)) == wanted, f"{path}: {string!r}"
            # Markup in a message (a link) is kept, tag for tag.
            assert re.findall(r"</?a\b", string) == re.findall(r"</?a\b", ids[0]), string
