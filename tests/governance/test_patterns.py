"""Dates of birth, addresses, titled names and case numbers found by their wording."""

from __future__ import annotations

import re

from civique.governance import patterns


def _spans(candidates: object, text: str) -> list[tuple[str, str]]:
    return [(c.kind, text[c.start : c.end]) for c in candidates]  # type: ignore[attr-defined]


def test_dates_of_birth_need_their_keyword() -> None:
    text = ("Mme Favre, née le 12 mars 1985 à Genève, mariée le 4 juin 2010. Date de naissance : "
            "03.04.1990 ; geboren am 1. Mai 1970 ; born on March 3, 1961; né(e) le 1985-07-14. "
            "Séance du 12 mars 2024.")
    assert _spans(patterns.find_dates(text), text) == [
        ("DATE_NAISSANCE", "12 mars 1985"), ("DATE_NAISSANCE", "03.04.1990"),
        ("DATE_NAISSANCE", "1. Mai 1970"), ("DATE_NAISSANCE", "March 3, 1961"),
        ("DATE_NAISSANCE", "1985-07-14")]


def test_ordinary_dates_only_on_request_and_real_ones_only() -> None:
    text = "Décision du 28 mai 1996, reçue le 31.02.1996, née le 1er janvier 1950."
    assert _spans(patterns.find_dates(text, ordinary=True), text) == [
        ("DATE", "28 mai 1996"), ("DATE_NAISSANCE", "1er janvier 1950")]


def test_addresses_in_geneva_and_in_france() -> None:
    text = ("Domicile : rue du Rhône 12, 1204 Genève. Ancienne adresse : 3 bis, avenue du "
            "Général-Leclerc, 92100 Boulogne-Billancourt ; bureau : chemin des Crêts-de-Champel "
            "2A ; Bahnhofstrasse 3, 8001 Zürich ; 12 rue de la Paix.")
    assert _spans(patterns.find_addresses(text), text) == [
        ("ADRESSE", "rue du Rhône 12, 1204 Genève"),
        ("ADRESSE", "3 bis, avenue du Général-Leclerc, 92100 Boulogne-Billancourt"),
        ("ADRESSE", "chemin des Crêts-de-Champel 2A"),
        ("ADRESSE", "Bahnhofstrasse 3, 8001 Zürich"),
        ("ADRESSE", "12 rue de la Paix")]


def test_streets_without_a_number_are_not_addresses() -> None:
    text = "La rue de Lausanne est fermée ; 3 places de parc ; en place depuis 2 ans."
    assert list(patterns.find_addresses(text)) == []


def test_names_after_a_civility_title_leave_the_title_out() -> None:
    text = ("M. Jean Dupont, Mme Anne-Marie Andersson, M. et Mme Robins, Me Favre, M. S., "
            "MM. L.-E. Pettiti, Mr Smith ; Monsieur le Maire et Madame la Présidente.")
    assert [t for _, t in _spans(patterns.find_titled_names(text), text)] == [
        "Jean Dupont", "Anne-Marie Andersson", "Robins", "Favre", "S.", "L.-E. Pettiti",
        "Smith"]
    assert patterns.title_length("M. et Mme Robins") == len("M. et Mme ")
    assert patterns.title_length("Dear Mr Smith") == len("Dear Mr ")
    assert patterns.title_length("Anne Favre") == 0 and patterns.title_length("J.M. Favre") == 0


def test_case_numbers_of_configured_patterns() -> None:
    configured = [("DOSSIER", re.compile(r"\b\d{4}-[A-Z]{2,4}-\d{3,6}\b")),
                  ("PERMIS", re.compile(r"\bAPA \d{5}\b"))]
    text = "Dossier 2024-URB-00123, autorisation APA 12345, article 2024-12."
    assert _spans(patterns.find_case_numbers(text, configured), text) == [
        ("DOSSIER", "2024-URB-00123"), ("PERMIS", "APA 12345")]


def test_lists_of_names_after_a_plural_title() -> None:
    text = "la chambre composée des juges Raimondi, Nicolaou et Bianku ; MM. Martínez et Havers."
    assert [t for _, t in _spans(patterns.find_titled_names(text), text)] == [
        "Raimondi", "Nicolaou", "Bianku", "Martínez", "Havers"]


def test_generic_institutions_are_not_names() -> None:
    assert patterns.entity_kind("LIEU", "le Gouvernement") is None
    assert patterns.entity_kind("ORGANISATION", "Cour") is None
    assert patterns.entity_kind("LIEU", "A") is None
    assert patterns.entity_kind("ORGANISATION", "PROCÉDURE") is None
    assert patterns.entity_kind("ORGANISATION", "DSS") == "ORGANISATION"  # an acronym
    assert patterns.entity_kind("LIEU", "Cour de cassation") == "ORGANISATION"
    assert patterns.entity_kind("LIEU", "Genève") == "LIEU"


def test_names_announced_by_a_case_or_an_introduction() -> None:
    text = ("Dans l'affaire Mellor, puis l'arrêt Chahal c. Royaume-Uni et l'affaire R (Mellor), "
            "un dénommé Heffy a été arrêté ; l'affaire est close. CIRCONSTANCES DE L'AFFAIRE\n"
            "Le requérant, détenu à la maison d'arrêt de Lublin.")
    assert [t for _, t in _spans(patterns.find_cued_names(text), text)] == [
        "Mellor", "Chahal", "Mellor", "Heffy"]
