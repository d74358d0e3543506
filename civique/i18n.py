"""Translations (Babel/gettext): catalogs compiled from .po files at start, locale per request."""

from __future__ import annotations

import contextvars
import gettext as _gettext
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("fr", "en")
TRANSLATIONS_DIR = Path(__file__).parent / "web" / "translations"
_current = contextvars.ContextVar("civique_locale", default="fr")
_catalogs: dict[str, _gettext.NullTranslations] = {}


def load_catalogs(directory: Path = TRANSLATIONS_DIR) -> None:
    """Compile every `<lang>/LC_MESSAGES/*.po` in memory and merge them per language."""
    for lang in LANGUAGES:
        merged: _gettext.NullTranslations = _gettext.NullTranslations()
        for po_path in sorted((directory / lang / "LC_MESSAGES").glob("*.po")):
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
            buffer = BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            translations = _gettext.GNUTranslations(buffer)
            if isinstance(merged, _gettext.GNUTranslations):
                merged.add_fallback(translations)
            else:
                merged = translations
        _catalogs[lang] = merged


def set_locale(lang: str) -> contextvars.Token[str]:
    """Use `lang` for the rest of this request (or task)."""
    return _current.set(lang if lang in LANGUAGES else "fr")


def reset_locale(token: contextvars.Token[str]) -> None:
    """Go back to the language used before `set_locale` gave `token`."""
    _current.reset(token)


def get_locale() -> str:
    """The language of the current request."""
    return _current.get()


def gettext(message: str, **params: object) -> str:
    """Translate `message` into the current language, then fill `%(name)s` parameters."""
    catalog = _catalogs.get(get_locale())
    text = catalog.gettext(message) if catalog else message
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    """Translate with a plural form chosen for `n`."""
    catalog = _catalogs.get(get_locale())
    text = catalog.ngettext(singular, plural, n) if catalog else (singular if n == 1 else plural)
    return text % {"num": n, **params}


def format_datetime(value: datetime, fmt: str = "medium") -> str:
    """A localised date and time."""
    return _format_datetime(value, format=fmt, locale=Locale.parse(get_locale()), tzinfo=None)


def format_date(value: date, fmt: str = "long") -> str:
    """A localised date."""
    return _format_date(value, format=fmt, locale=Locale.parse(get_locale()))


def format_number(value: float) -> str:
    """A localised number."""
    return format_decimal(value, locale=get_locale())


def pick_language(
    query: str | None, cookie: str | None, user_lang: str | None, default: str
) -> str:
    """Query parameter, then cookie, then the user's choice, then the default."""
    for candidate in (query, cookie, user_lang, default):
        if candidate in LANGUAGES:
            return str(candidate)
    return "fr"
