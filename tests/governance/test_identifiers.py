"""Identifiers and their check digits: public examples, generated ones, and one-digit errors."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from bench.pii_data import avs_check, iban_check, make_avs, make_iban, make_nir, nir_check, spoiled
from civique.governance import identifiers as ids


def _found(finder: object, text: str) -> list[tuple[str, str, bool]]:
    return [(c.kind, text[c.start : c.end], c.valid) for c in finder(text)]  # type: ignore[operator]


def test_public_iban_examples_pass_and_one_digit_off_fails() -> None:
    assert ids.iban_ok("CH93 0076 2011 6238 5295 7")
    assert ids.iban_ok("FR76 3000 6000 0112 3456 7890 189")
    assert ids.iban_ok("DE89370400440532013000")
    assert ids.iban_ok("GB29 NWBK 6016 1331 9268 19")
    assert not ids.iban_ok("CH93 0076 2011 6238 5295 8")
    assert not ids.iban_ok("CH93 0076 2011 6238 5295")  # too short for Switzerland
    assert not ids.iban_ok("FR76 3000 6000 0112 3456 7890 1890")  # too long for France


def test_avs_and_nir_examples() -> None:
    assert ids.avs_ok("756.9217.0769.85") and ids.avs_ok("7569217076985")
    assert not ids.avs_ok("756.9217.0769.84") and not ids.avs_ok("757.9217.0769.85")
    first13 = "2690549588157"
    assert ids.nir_ok(first13 + nir_check(first13))
    assert not ids.nir_ok(first13 + f"{(int(nir_check(first13)) + 1) % 100:02d}")


def test_corsican_nir_counts_2a_as_19_and_2b_as_18() -> None:
    for department, number in (("2A", "19"), ("2B", "18")):
        first13 = f"18505{department}006084"
        key = 97 - int(first13.replace(department, number)) % 97
        assert ids.nir_ok(f"{first13}{key:02d}")
        assert ids.nir_key(first13) == key


def test_ean13_digit_matches_the_independent_rule() -> None:
    rng = random.Random(5)
    for _ in range(200):
        first12 = "756" + "".join(rng.choice("0123456789") for _ in range(9))
        assert str(ids.ean13_check_digit(first12)) == avs_check(first12)


@given(st.sampled_from(sorted(ids.IBAN_LENGTHS)), st.randoms(use_true_random=False))
def test_generated_iban_of_any_country_passes_and_fails_with_one_digit_changed(
    country: str, rng: random.Random
) -> None:
    bban = "".join(rng.choice("0123456789") for _ in range(ids.IBAN_LENGTHS[country] - 4))
    iban = country + iban_check(country, bban) + bban
    assert ids.iban_ok(iban)
    assert not ids.iban_ok(spoiled(iban, rng))


@given(st.randoms(use_true_random=False))
def test_generated_avs_and_nir_pass_and_fail_with_one_digit_changed(rng: random.Random) -> None:
    avs, nir = make_avs(rng), make_nir(rng)
    assert ids.avs_ok(avs) and ids.nir_ok(nir)
    assert not ids.avs_ok(spoiled(avs, rng))
    assert not ids.nir_ok(spoiled(nir, rng))


@given(st.randoms(use_true_random=False), st.sampled_from(["CH", "FR", "DE"]))
def test_iban_finder_reports_valid_and_possible_ibans(rng: random.Random, country: str) -> None:
    iban = make_iban(rng, country)
    text = f"Compte {iban} AU NOM DE la commune; faux : {spoiled(iban, rng)}."
    found = _found(ids.find_ibans, text)
    assert found[0] == ("IBAN", iban, True)
    assert found[1][0] == "IBAN" and found[1][2] is False and len(found) == 2


def test_iban_finder_stops_at_the_country_length_and_before_words() -> None:
    text = "IBAN CH93 0076 2011 6238 5295 7 12 mois, puis FR7630006000011234567890189."
    assert _found(ids.find_ibans, text) == [
        ("IBAN", "CH93 0076 2011 6238 5295 7", True),
        ("IBAN", "FR7630006000011234567890189", True),
    ]
    assert _found(ids.find_ibans, "LE CODE FR76 EST UN CODE DE PAYS") == []


def test_avs_and_nir_finders() -> None:
    text = "AVS 756.9217.0769.85, 7569217076985, faux 756.9217.0769.84, NIR 2 69 05 49 588 157 80"
    found = _found(ids.find_avs, text)
    assert found == [("AVS", "756.9217.0769.85", True), ("AVS", "7569217076985", True),
                     ("AVS", "756.9217.0769.84", False)]
    (nir,) = _found(ids.find_nirs, text)
    assert nir[:2] == ("NIR", "2 69 05 49 588 157 80") and nir[2] is ids.nir_ok(nir[1])
    assert _found(ids.find_nirs, "n° 1 85 05 2A 006 084 57") == [
        ("NIR", "1 85 05 2A 006 084 57", ids.nir_ok("185052A00608457"))]


def test_phone_numbers_of_france_and_switzerland() -> None:
    text = ("Tél. 06 12 34 56 78, 01.23.45.67.89, 0612345678, +33 6 12 34 56 78, "
            "+33 (0)1 23 45 67 89, 022 327 45 67, +41 22 327 45 67, 0041 79 123 45 67, "
            "+49 30 1234567.")
    phones = [t for _, t, _ in _found(ids.find_phones, text)]
    assert phones == ["06 12 34 56 78", "01.23.45.67.89", "0612345678", "022 327 45 67",
                      "+33 6 12 34 56 78", "+33 (0)1 23 45 67 89", "+41 22 327 45 67",
                      "0041 79 123 45 67", "+49 30 1234567"]


def test_numbers_that_are_not_phones() -> None:
    text = "Crédit de 1 250 000 francs, commande 4500123456, 0612 3456 7890 1234, année 2024."
    assert _found(ids.find_phones, text) == []


def test_emails_and_plates() -> None:
    text = "Écrire à jean.dupont@etat.ge.ch ou l.favre+rh@mairie-lyon.fr (pas à @twitter)."
    assert [t for _, t, _ in _found(ids.find_emails, text)] == [
        "jean.dupont@etat.ge.ch", "l.favre+rh@mairie-lyon.fr"]
    text = "Véhicules AB-123-CD, GE 123456, VD 4521 et ZH123456 ; pas IO-123-UU ni GE-2024."
    assert [t for _, t, _ in _found(ids.find_plates, text)] == [
        "AB-123-CD", "GE 123456", "VD 4521", "ZH123456"]


def test_passport_and_identity_card_numbers_need_a_keyword() -> None:
    text = ("Passeport n° 12AB34567 ; passeport suisse X1234567 ; carte d'identité "
            "880692310285 ; CNI X4RTBPFW4. Commande 12AB34567 sans mot clé.")
    assert _found(ids.find_documents, text) == [
        ("PASSEPORT", "12AB34567", True), ("PASSEPORT", "X1234567", True),
        ("CARTE_IDENTITE", "880692310285", True), ("CARTE_IDENTITE", "X4RTBPFW4", True)]
