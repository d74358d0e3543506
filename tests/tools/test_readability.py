"""Kandel–Moles score and the French syllable counter, on words and texts with known counts."""

from __future__ import annotations

import pytest

from civique.tools.plain_language import readability as r

# Spoken syllables, counted by hand (standard French pronunciation, mute final e).
KNOWN = {
    "table": 1, "tables": 1, "le": 1, "elle": 1, "été": 2, "administration": 5, "beaucoup": 2,
    "oiseau": 2, "aujourd'hui": 3, "naïf": 2, "Noël": 2, "réalité": 4, "poésie": 3, "lycée": 2,
    "yeux": 1, "famille": 2, "mairie": 2, "département": 4, "attestation": 4,
    "justificative": 5, "guerre": 1, "quatre": 1, "qui": 1, "question": 2, "aiguille": 2,
    "ambiguë": 3, "idée": 2, "année": 2, "créée": 2, "rue": 1, "avenue": 3, "vie": 1,
    "partie": 2, "théâtre": 2, "bonjour": 2, "école": 2, "œuvre": 1, "pièce": 1, "demande": 2,
    "allocations": 4, "familiales": 3, "aéroport": 4, "tuée": 2, "réel": 2, "2027": 1,
    "CAF": 1, "Élise": 2,
}


@pytest.mark.parametrize(("word", "count"), sorted(KNOWN.items()))
def test_syllables_of_known_words(word: str, count: int) -> None:
    assert r.syllables(word) == count


def test_documented_limits_stay_as_documented() -> None:
    assert r.syllables("pays") == 1  # spoken pé-i: y between vowels is not split
    assert r.syllables("parlent") == 2  # the verb's mute -ent is counted


def test_kandel_moles_exact_on_a_small_text() -> None:
    text = "Le chat dort. Il fait beau aujourd'hui."
    # 7 words, 2 sentences, 1+1+1+1+1+1+3 = 9 syllables.
    assert r.words_per_sentence(text) == 3.5
    assert r.kandel_moles(text) == pytest.approx(207 - 1.015 * 3.5 - 73.6 * 9 / 7)
    assert r.level(r.kandel_moles(text)) == "very_easy"


def test_long_administrative_sentence_scores_lower_than_a_plain_one() -> None:
    hard = (
        "Conformément aux dispositions réglementaires susmentionnées, l'administration "
        "procédera à l'instruction approfondie de la demande d'allocation personnalisée "
        "dès réception de l'intégralité des pièces justificatives."
    )
    plain = "Nous lisons votre demande. Envoyez tous les papiers. Puis nous vous répondons."
    assert r.kandel_moles(hard) < 30 < 60 < r.kandel_moles(plain)
    assert r.level(r.kandel_moles(hard)) == "very_difficult"


def test_levels_are_flesch_bands() -> None:
    expected = [(95, "very_easy"), (90, "very_easy"), (85, "easy"), (75, "fairly_easy"),
                (65, "standard"), (55, "fairly_difficult"), (40, "difficult"),
                (29.9, "very_difficult"), (-50, "very_difficult")]
    assert [(s, r.level(s)) for s, _ in expected] == expected
    assert r.level_label(65) == "standard"


def test_empty_text_scores_zero() -> None:
    assert r.kandel_moles("") == 0.0
    assert r.words_per_sentence("  \n ") == 0.0
