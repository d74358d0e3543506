"""FALC rule checker on hand-written French texts with known violations (exact codes and places)."""

from __future__ import annotations

import pytest

from civique.tools.plain_language import falc
from civique.tools.text import sentences

pytestmark = pytest.mark.usefixtures("english")


def _found(text: str, **kwargs: object) -> list[tuple[str, str]]:
    return [(f.code, text[f.start : f.end]) for f in falc.check(text, **kwargs)]  # type: ignore[arg-type]


def _at(text: str, piece: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(piece, start + 1)
    return start, start + len(piece)


LETTER = (
    "La CAF vous informe que votre dossier a été transmis au service compétent. "
    "Vous ne recevrez pas de réponse avant trois semaines.\n\n"
    "Les pièces justificatives susmentionnées doivent être envoyées sans délai, cf. art. 4. "
    "Le taux est de 12,5 % et la caisse d'allocations familiales (CAF) verse 3,75 euros. "
    "Lisez le chapitre XIV du CERFA."
)


def test_every_rule_found_in_a_letter_with_its_place_and_paragraph() -> None:
    findings = falc.check(LETTER)
    got = [(f.code, (f.start, f.end), f.paragraph) for f in findings]
    first = "La CAF vous informe que votre dossier a été transmis au service compétent."
    assert got == [
        ("falc.several_ideas", _at(LETTER, first), 0),
        ("falc.abbreviation", _at(LETTER, "CAF"), 0),
        ("falc.passive", _at(LETTER, "été transmis"), 0),
        ("falc.negation", _at(LETTER, "ne recevrez pas"), 0),
        ("falc.number_in_words", _at(LETTER, "trois"), 0),
        ("falc.jargon", _at(LETTER, "pièces justificatives"), 1),
        ("falc.jargon", _at(LETTER, "susmentionnées"), 1),
        ("falc.passive", _at(LETTER, "être envoyées"), 1),
        ("falc.negation", _at(LETTER, "sans"), 1),
        ("falc.abbreviation", _at(LETTER, "cf."), 1),
        ("falc.abbreviation", _at(LETTER, "art."), 1),
        ("falc.percentage", _at(LETTER, "12,5 %"), 1),
        ("falc.complex_number", _at(LETTER, "3,75"), 1),
        ("falc.roman_numeral", _at(LETTER, "XIV"), 1),
        ("falc.abbreviation", _at(LETTER, "CERFA"), 1),
    ]
    jargon = next(f for f in findings if f.code == "falc.jargon")
    assert jargon.params == {"term": "pièces justificatives", "suggestion": "document qui prouve"}
    assert jargon.render() == (
        "“pièces justificatives” is administrative jargon: write “document qui prouve”.")
    assert {f.severity for f in findings if f.code == "falc.percentage"} == {"info"}


def test_a_plain_falc_text_has_no_finding() -> None:
    text = (
        "Vous voulez une aide pour payer votre loyer. Vous remplissez le formulaire. "
        "Vous envoyez le formulaire à la mairie. La mairie vous répond dans 15 jours."
    )
    assert falc.check(text) == []


def test_sentence_length_counts_words_against_the_limit() -> None:
    text = "Un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze "
    text += "seize."
    long = [f for f in falc.check(text, jargon=()) if f.code == "falc.sentence_too_long"]
    expected = [(0, len(text), {"words": 16, "limit": 15})]
    assert [(f.start, f.end, f.params) for f in long] == expected
    assert not [f for f in falc.check(text, max_words=16) if f.code == "falc.sentence_too_long"]


def test_one_idea_per_sentence_heuristic() -> None:
    assert _found("Remplissez le formulaire ; envoyez-le.") == [
        ("falc.several_ideas", "Remplissez le formulaire ; envoyez-le.")]
    assert _found("Votre nom et votre adresse.") == []  # one "et" joins two nouns
    text = "Venez le matin ou le soir et apportez vos papiers."
    assert [f.params for f in falc.check(text)] == [{"connectors": "ou, et"}]
    assert [f.params for f in falc.check("La ville où vous habitez.")] == [{"connectors": "où"}]
    assert _found("Vous n'avez qu'à signer.") == []  # "ne … que" is "only", one idea


def test_acronyms_explained_at_first_use_are_accepted() -> None:
    assert _found("La caisse d'allocations familiales (CAF) paie. La CAF répond.") == []
    assert _found("La CAF (caisse d'allocations familiales) paie. La CAF répond.") == []
    text = "La CAF paie. La caisse d'allocations familiales (CAF) répond. Et l'APL."
    assert [(f.code, f.start) for f in falc.check(text)] == [
        ("falc.abbreviation", text.index("CAF")), ("falc.abbreviation", text.index("APL"))]


def test_dotted_abbreviations_and_titles() -> None:
    text = "M. Dupont et Mme Durand, voir le n° 12, etc."
    assert [c for c, _ in _found(text) if c == "falc.abbreviation"] == ["falc.abbreviation"] * 4
    assert [t for c, t in _found(text) if c == "falc.abbreviation"] == ["M.", "Mme", "n°", "etc."]


def test_capital_headings_and_roman_numerals_are_not_acronyms() -> None:
    assert _found("DÉCISION DU MAIRE\n\nLa mairie répond.") == []
    assert _found("Au XXe siècle, le titre II.") == [
        ("falc.roman_numeral", "XXe"), ("falc.roman_numeral", "II")]


def test_negations() -> None:
    text = "Il n'y a aucun frais. Ne jamais signer. Nous ne savons plus rien. Vous n'avez qu'à lire"
    assert _found(text) == [
        ("falc.negation", "n'y a aucun"), ("falc.negation", "Ne jamais"),
        ("falc.negation", "ne savons plus")]
    assert _found("Venez sans rendez-vous.") == [("falc.negation", "sans")]


def test_passive_voice_and_its_exceptions() -> None:
    text = (
        "Il est né à Lyon. Elle s'est inscrite hier. Le bureau est fermé le lundi. "
        "Votre demande sera examinée. Le dossier est complet. Le formulaire est rempli par "
        "le demandeur. Vous vous êtes trompés. La somme est toujours versée."
    )
    assert _found(text) == [
        ("falc.passive", "sera examinée"), ("falc.passive", "est rempli"),
        ("falc.passive", "est toujours versée")]


def test_numbers_written_in_words() -> None:
    text = (
        "Payez vingt-cinq euros pour deux mille pages. Un dossier, une fois. Un logement neuf. "
        "Neuf mois. Vingt et un jours. Dix pour cent. Cent euros."
    )
    assert _found(text) == [
        ("falc.number_in_words", "vingt-cinq"), ("falc.number_in_words", "deux mille"),
        ("falc.number_in_words", "Neuf"), ("falc.number_in_words", "Vingt et un"),
        ("falc.number_in_words", "Dix"), ("falc.percentage", "pour cent"),
        ("falc.number_in_words", "Cent")]


def test_jargon_plural_feminine_overlap_and_an_organisation_list() -> None:
    text = "Les frais y afférents, nonobstant ladite règle, les usagères."
    assert _found(text) == [
        ("falc.jargon", "y afférents"), ("falc.jargon", "nonobstant"), ("falc.jargon", "ladite"),
        ("falc.jargon", "usagères")]
    own = falc.check("Le guichet unique vous répond.", jargon=["guichet unique"])
    assert [(f.code, f.params["suggestion"]) for f in own] == [("falc.jargon", "")]
    assert own[0].render() == (
        "“guichet unique” is on your organisation's list of words to avoid: use an everyday word.")


def test_summary_counts_per_hundred_words() -> None:
    findings = falc.check(LETTER)
    result = falc.summary(findings, LETTER)
    assert result["words"] == 54 and result["sentences"] == 5 and result["findings"] == 15
    assert result["per_100_words"] == round(100 * 15 / 54, 2)
    assert result["by_code"]["falc.abbreviation"] == 4
    assert falc.summary([], "") == {
        "words": 0, "sentences": 0, "findings": 0, "per_100_words": 0.0, "by_code": {}}


def test_sentence_splitting_keeps_abbreviations_decimals_and_ellipses() -> None:
    text = (
        "Bonjour M. Dupont. Selon l’art. 3, le taux est de 3.5 %. Attendez… puis revenez. "
        "Voir le n° 4. Fin ?\n\nListe :\n- un\n- deux\nJ. Martin."
    )
    assert [s.text for s in sentences(text)] == [
        "Bonjour M. Dupont.", "Selon l’art. 3, le taux est de 3.5 %.",
        "Attendez… puis revenez.", "Voir le n° 4.", "Fin ?", "Liste :", "- un", "- deux",
        "J. Martin."]
    assert all(text[s.start : s.end] == s.text for s in sentences(text))
