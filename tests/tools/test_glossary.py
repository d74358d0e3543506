"""Glossary CSV import (forms, encodings, bad rows) and the glossary check of a translation."""

from __future__ import annotations

import pytest

from civique.errors import UserError
from civique.tools.translation import glossary as g

pytestmark = pytest.mark.usefixtures("english")

LONG = (
    "term,language,translation,note\n"
    "pièce justificative,en,supporting document,\n"
    "mairie,en,town hall,not city hall\n"
    "mairie,de,Rathaus,\n"
)


def _entries(result: g.ParseResult) -> list[tuple[str, str, str, int]]:
    return [(e.term, e.language, e.translation, e.line) for e in result.glossary.entries]


def test_long_form_with_bom_and_notes() -> None:
    result = g.parse_csv(("\ufeff" + LONG).encode())
    assert _entries(result) == [
        ("pièce justificative", "en", "supporting document", 2), ("mairie", "en", "town hall", 3),
        ("mairie", "de", "Rathaus", 4)]
    assert result.glossary.entries[1].note == "not city hall"
    assert result.errors == () and result.duplicates == ()
    assert result.glossary.languages == ("en", "de")


def test_wide_form_semicolon_in_windows_1252() -> None:
    data = "fr;en;de\nmairie;town hall;Rathaus\npréfecture;prefecture;\n".encode("cp1252")
    result = g.parse_csv(data)
    assert _entries(result) == [
        ("mairie", "en", "town hall", 2), ("mairie", "de", "Rathaus", 2),
        ("préfecture", "en", "prefecture", 3)]


def test_tab_delimiter_and_french_header_names() -> None:
    result = g.parse_csv(b"terme\tlangue\ttraduction\nmairie\tit\tmunicipio\n")
    assert _entries(result) == [("mairie", "it", "municipio", 2)]


def test_bad_rows_are_reported_by_line_and_good_rows_kept() -> None:
    data = (
        "term,language,translation\n"
        "mairie,en,town hall\n"
        ",en,nothing\n"             # 3: no term
        "commune,xx,municipality\n"  # 4: unknown language
        "commune,en,\n"             # 5: no translation
        "a,en,b,c\n"                # 6: too many fields
        "\n"                        # 7: blank, skipped silently
        '"conseil\nmunicipal",en,town council\n'  # 8-9: quoted newline, kept (line 9)
        "Mairie,en,town hall\n"     # 10: duplicate of line 2 (case ignored)
        "mairie,en,city hall\n"     # 11: conflict with line 2
        "préfet,fr,préfet\n"        # 12: French is the source language
    ).encode()
    result = g.parse_csv(data)
    assert _entries(result) == [("mairie", "en", "town hall", 2),
                                ("conseil\nmunicipal", "en", "town council", 9)]
    assert [(p.line, p.code) for p in result.errors] == [
        (3, "glossary.row_empty_term"), (4, "glossary.row_language"),
        (5, "glossary.row_empty_translation"), (6, "glossary.row_fields"),
        (12, "glossary.row_language")]
    assert [(p.line, p.code, p.params["first"]) for p in result.duplicates] == [
        (10, "glossary.duplicate", 2), (11, "glossary.conflict", 2)]
    assert result.errors[3].params == {"line": 6, "count": 4, "expected": 3}


@pytest.mark.parametrize(("data", "code"), [
    (b"", "glossary_empty"),
    (b"  \n", "glossary_empty"),
    (b"a,b,c\nx,y,z\n", "glossary_header"),
    (b"en,de\nx,y\n", "glossary_header"),
    (b"term,language,translation\n" + b"x,en,y\n" * 3, "glossary_too_many_rows"),
    (b"\x81\x8d\x8f\x90\x9d", "glossary_encoding"),
])
def test_file_level_problems_are_user_errors(data: bytes, code: str) -> None:
    with pytest.raises(UserError) as caught:
        g.parse_csv(data, max_rows=2)
    assert caught.value.code == code


def test_size_is_bounded() -> None:
    with pytest.raises(UserError) as caught:
        g.parse_csv(LONG.encode(), max_bytes=10)
    assert caught.value.code == "glossary_too_big"
    assert caught.value.params == {"size": len(LONG.encode()), "limit": 10}


GLOSSARY = g.parse_csv(LONG.encode()).glossary


def test_check_finds_a_term_translated_otherwise_at_its_place() -> None:
    source = "Merci de vous rendre à la Mairie.\n\nJoignez vos pièces justificatives."
    translation = "Please go to the city hall.\n\nAttach your supporting documents."
    findings = g.check(source, translation, "en", GLOSSARY)
    start = source.index("Mairie")
    assert [(f.code, f.start, f.end, f.paragraph, f.params) for f in findings] == [
        ("glossary.term", start, start + 6, 0, {"term": "Mairie", "translation": "town hall"})]
    assert findings[0].render() == "“Mairie” must be translated as “town hall” (glossary)."
    assert g.applicable_terms(source, "en", GLOSSARY) == 2
    assert g.adherence(findings, source, "en", GLOSSARY) == 0.5


def test_check_respects_word_boundaries_plurals_and_languages() -> None:
    assert g.check("Les mairies ferment.", "The town halls close.", "en", GLOSSARY) == []
    assert g.check("Les mairies ferment.", "Die Rathäuser schliessen.", "de", GLOSSARY) != []
    assert g.check("Le mairiesque bâtiment.", "Anything.", "en", GLOSSARY) == []  # no boundary
    assert g.check("La mairie.", "Anything.", "es", GLOSSARY) == []  # no Spanish entry
    assert g.adherence([], "Rien ici.", "en", GLOSSARY) == 1.0


def test_language_list() -> None:
    assert list(g.LANGUAGES) == ["fr", "en", "de", "it", "es", "pt", "ar", "uk", "ti", "sq"]
