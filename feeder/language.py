"""The interface in the site's language: every word a reader sees that is not an article's.

The strings are written in English in the templates and the code (``_("Latest articles")``)
and translated by a gettext catalogue per language, ``feeder/locale/LANG/LC_MESSAGES/
feeder.po``: another language is one more file, not a change of code. Dates are written
the language's way by Babel ("3 Desember 2025 10.15 WIB"). A language without a catalogue
gets the English strings, and its dates in its own words where Babel knows them.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "feeder"


@dataclass(frozen=True)
class Language:
    """A language's strings and ways of writing dates."""

    code: str  # as configured: "id", "en", "id-ID"
    locale: str  # Babel's name: "id", "en"
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def date(self, when: datetime) -> str:
        """ "3 Desember 2025", "December 3, 2025"."""
        return format_date(when, "long", locale=self.locale)

    def moment(self, when: datetime) -> str:
        """ "3 Desember 2025 10.15 WIB": a date with its time and zone, as the language
        writes them (the zone by name where the language has one)."""
        return format_datetime(when, "d MMMM y HH.mm z", tzinfo=when.tzinfo,
                               locale=self.locale)


@cache
def language(code: str) -> Language:
    """The language *code* names ("id", "id-ID", "en"); English strings if it has no
    catalogue. Read once a process: the catalogues are part of the package."""
    base = code.replace("_", "-").split("-")[0].lower() or "en"
    try:
        locale = str(Locale.parse(base))
    except (ValueError, UnknownLocaleError):
        locale = "en"
    return Language(code=code, locale=locale, translations=_catalogue(base))


def languages() -> list[str]:
    """The languages with a catalogue, besides English."""
    root = resources.files("feeder") / "locale"
    return sorted(entry.name for entry in root.iterdir()
                  if (entry / "LC_MESSAGES" / f"{DOMAIN}.po").is_file())


def catalogues() -> list[bytes]:
    """Every catalogue as it is on disk (a change of one changes what pages say)."""
    root = resources.files("feeder") / "locale"
    return [(root / code / "LC_MESSAGES" / f"{DOMAIN}.po").read_bytes() for code in languages()]


def _catalogue(base: str) -> gettext.NullTranslations:
    po = resources.files("feeder") / "locale" / base / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=base, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
