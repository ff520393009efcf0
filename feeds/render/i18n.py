"""The site's language: which shipped message catalogue a `site.language` tag picks, and
the catalogues themselves.

Every interface string (the pages, the error pages, the subtitles the builder writes) is an
English msgid in one gettext catalogue, translated once per shipped locale in
`feeds/render/locale/<locale>/LC_MESSAGES/messages.po`. The .po files are read as they are
when a process first needs them: there is no compiled copy to fall out of step with them.
After changing a message, update the catalogues with the one-line command written beside
`[[tool.babel.mappings]]` in pyproject.toml.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from io import BytesIO

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "messages"
FALLBACK = "en"
# (language, script) -> the catalogue's locale. A tag names its script, or its region
# implies one (CLDR's likely subtags: zh-TW is written in Traditional characters, plain zh
# and zh-SG in Simplified ones).
_SHIPPED = {("en", "Latn"): "en", ("zh", "Hans"): "zh_Hans", ("zh", "Hant"): "zh_Hant"}
SHIPPED = tuple(_SHIPPED.values())
# What `feeds check` suggests instead of a language no catalogue is shipped for.
CHOICES = "en, zh-Hans (zh, zh-CN, zh-SG) or zh-Hant (zh-TW, zh-HK, zh-MO)"


@lru_cache(maxsize=64)  # asked for at every page rendered; a site has one language
def catalogue_locale(language: str) -> str | None:
    """The shipped catalogue that a language tag picks ("en", "zh_Hans" or "zh_Hant"), or
    None when none is shipped for it."""
    subtags = language.replace("_", "-").split("-")
    named = [s.title() for s in subtags[1:] if len(s) == 4 and s.isalpha()]
    script = named[0] if named else _likely_script(language)
    return _SHIPPED.get((subtags[0].lower(), script or ""))


def _likely_script(language: str) -> str | None:
    try:
        locale = Locale.parse(language.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return None
    if locale.script:
        return str(locale.script)
    likely = get_global("likely_subtags").get(locale.language, "")  # "en" -> "en_Latn_US"
    return next((part for part in likely.split("_") if len(part) == 4), None)


def translations(language: str) -> Translations:
    """The catalogue for a language tag; English for a language none is shipped for."""
    return _catalogue(catalogue_locale(language) or FALLBACK)


def unshipped_language(language: str) -> str | None:
    """What to tell the user when no catalogue is shipped for `language`, else None."""
    if catalogue_locale(language) is not None:
        return None
    return (
        f"no catalogue is shipped for {language!r}: pages are shown in English;"
        f" use {CHOICES} for pages in one of those"
    )


@lru_cache(maxsize=len(SHIPPED))
def _catalogue(locale: str) -> Translations:
    """A shipped .po file as gettext translations; fuzzy entries are left out, as
    `pybabel compile` leaves them out."""
    source = files("feeds.render") / "locale" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
