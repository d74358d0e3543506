"""Structural checklist of deliberations, Swiss arrêtés and notes, on hand-written texts."""

from __future__ import annotations

import pytest

from civique.tools.deliberation import checklist

pytestmark = pytest.mark.usefixtures("english")

DELIBERATION = """Délibération n° 2027-014 — Tarifs de la cantine scolaire

Date de convocation : 3 mars 2027
Membres en exercice : 23 — Membres présents : 19 — Quorum atteint

Vu le code général des collectivités territoriales, notamment l'article L2121-29 ;
Vu la délibération du 12 juin 2025 fixant les tarifs ;

Considérant la hausse du prix des denrées alimentaires ;

Le conseil municipal, après en avoir délibéré,

DÉCIDE :

Article 1er : Le prix du repas est fixé à 3,80 euros.
Article 2 : La présente délibération entre en vigueur le 1er septembre 2027.

Pour : 17 — Contre : 1 — Abstentions : 1
"""


def _codes(text: str, variant: checklist.Variant) -> list[str]:
    return [f.code for f in checklist.check(text, variant)]


def test_a_complete_deliberation_passes() -> None:
    assert checklist.check(DELIBERATION, "fr_commune") == []


def test_a_bare_draft_lists_every_missing_part() -> None:
    text = "Vu le code.\n\nLe conseil adopte les tarifs."
    assert _codes(text, "fr_commune") == [
        "delib.title", "delib.recital", "delib.decision", "delib.articles", "delib.vote_for",
        "delib.vote_against", "delib.vote_abstention", "delib.quorum",
        "delib.convocation_date"]


def test_articles_without_recital_warn_that_the_decision_is_unjustified() -> None:
    text = DELIBERATION.replace("Considérant la hausse du prix des denrées alimentaires ;\n", "")
    findings = checklist.check(text, "fr_commune")
    assert [(f.code, f.severity) for f in findings] == [
        ("delib.recital", "error"), ("delib.unjustified", "warning")]


def test_article_numbering_gaps_and_duplicates_are_placed() -> None:
    text = DELIBERATION.replace("Article 2 :", "Article 3 : Texte.\nArticle 3 :")
    findings = checklist.check(text, "fr_commune")
    first = text.index("Article 3") + len("Article ")
    second = text.index("Article 3", first) + len("Article ")
    assert [(f.code, f.start, f.end, f.params) for f in findings] == [
        ("delib.number_gap", first, first + 1, {"previous": 1, "number": 3, "expected": 2}),
        ("delib.number_duplicate", second, second + 1, {"number": 3})]
    assert findings[0].paragraph == 6  # 0-based: title, convocation, visas, recital, …
    assert findings[0].render() == "Numbering jumps from 1 to 3: 2 is missing."


def test_case_and_accents_are_ignored_and_unanimity_covers_the_vote() -> None:
    text = DELIBERATION.replace("DÉCIDE", "délibère").replace(
        "Pour : 17 — Contre : 1 — Abstentions : 1", "Adopté à l'unanimité.")
    assert checklist.check(text, "fr_commune") == []


ARRETE = """Arrêté du Conseil d'État sur les horaires d'ouverture des guichets

Le Conseil d'État du canton de Vaud,
vu la loi du 9 mai 2017 sur l'administration,
vu le préavis du Département des institutions,

arrête :

1. Les guichets sont ouverts de 8 h à 17 h.
2. Le présent arrêté entre en vigueur le 1er janvier 2028.
"""


def test_swiss_arrete_complete_and_with_errors() -> None:
    assert checklist.check(ARRETE, "ch_arrete") == []
    no_points = ARRETE.split("arrête :")[0] + "arrête que les guichets ouvrent à 8 h."
    assert _codes(no_points, "ch_arrete") == ["delib.points"]
    assert _codes("Les guichets ouvrent à 8 h.", "ch_arrete") == [
        "delib.visa", "delib.dispositif", "delib.points"]
    gap = ARRETE.replace("2. Le présent", "4. Le présent")
    assert [(f.code, f.params) for f in checklist.check(gap, "ch_arrete")] == [
        ("delib.number_gap", {"previous": 1, "number": 4, "expected": 2})]


NOTE = """Note à l'attention des élus — Extension de la médiathèque

1. Contexte
La médiathèque accueille 30 000 visiteurs par an.

2. Analyse
Les locaux sont trop petits.

3. Options
A. Agrandir le bâtiment. B. Louer un local.

4. Recommandation
Nous recommandons l'option A.
"""


def test_note_sections() -> None:
    assert checklist.check(NOTE, "note") == []
    text = NOTE.replace("2. Analyse", "2. Les chiffres").replace("4. Recommandation", "4. Suite")
    assert _codes(text, "note") == ["note.analysis", "note.recommendation"]
    # A keyword inside a long paragraph is not a heading.
    assert "note.context" in _codes("Le contexte est difficile " + "et long " * 20, "note")


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        checklist.check("text", "en_council")  # type: ignore[arg-type]
