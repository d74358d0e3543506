"""Every user-visible string is translated into French, and the catalog follows the code."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from civique.i18n import TRANSLATIONS_DIR, gettext, load_catalogs, ngettext, set_locale

ROOT = Path(__file__).resolve().parents[2]


def _extracted() -> set[str]:
    method_map = [("civique/**.py", "python"), ("civique/web/templates/**.html", "jinja2")]
    options = {"civique/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords={"_": None, "gettext": None, "N_": None,
                                                  "ngettext": (1, 2)}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _french() -> dict[str, str]:
    translated: dict[str, str] = {}
    for po in (TRANSLATIONS_DIR / "fr" / "LC_MESSAGES").glob("*.po"):
        with po.open("rb") as handle:
            for message in read_po(handle, locale="fr"):
                if message.id and message.string:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    translated[key] = str(message.string)
    return translated


def test_every_message_has_a_french_translation() -> None:
    missing = sorted(_extracted() - set(_french()))
    assert not missing, f"add French translations (scripts/write_po.py): {missing}"


def test_placeholders_survive_translation() -> None:
    import re

    for msgid, text in _french().items():
        assert set(re.findall(r"%\(\w+\)s", msgid)) == set(re.findall(r"%\(\w+\)s", text)), msgid


def test_switching_language() -> None:
    load_catalogs()
    set_locale("fr")
    assert gettext("Log in") == "Se connecter"
    assert gettext("Hello %(name)s", name="Léa") == "Bonjour Léa"
    set_locale("en")
    assert gettext("Log in") == "Log in"
    assert ngettext("%(num)s file", "%(num)s files", 2) == "2 files"
