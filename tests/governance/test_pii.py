"""The personal-data detector on French sentences: real spaCy model, real presidio analyzer."""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from civique.governance import engine
from civique.governance.pii import KINDS, Detector, Finding, get_detector, pieces, resolve
from civique.settings import DEFAULT_CASE_PATTERNS, CasePattern, Settings

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def detector() -> Detector:
    patterns = [*DEFAULT_CASE_PATTERNS, CasePattern(kind="PERMIS", pattern=r"\bAPA \d{5}\b")]
    found = Detector(_settings(pii_case_patterns=patterns))
    found.load()
    return found


def _kinds(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in findings]


def test_names_places_and_organisations(detector: Detector) -> None:
    text = ("Mme Anne-Marie Favre a rencontré M. Jean Dupont à Lancy, puis elle a écrit à la "
            "Banque cantonale de Genève.")
    found = _kinds(detector.detect(text))
    assert ("PERSONNE", "Anne-Marie Favre") in found and ("PERSONNE", "Jean Dupont") in found
    assert ("LIEU", "Lancy") in found
    assert ("ORGANISATION", "Banque cantonale de Genève") in found


def test_addresses_in_geneva_and_in_france(detector: Detector) -> None:
    text = ("Il habite route de Chêne 45, 1208 Genève, et sa mère 12 rue de la Paix, 75002 "
            "Paris.")
    found = _kinds(detector.detect(text))
    assert ("ADRESSE", "route de Chêne 45, 1208 Genève") in found
    assert ("ADRESSE", "12 rue de la Paix, 75002 Paris") in found


def test_contacts_birth_dates_plates_and_case_numbers(detector: Detector) -> None:
    text = ("Contact : jean.dupont@etat.ge.ch, 022 327 45 67 ou +33 6 12 34 56 78. Né le "
            "12 mars 1985, il a déposé le 3 avril 2024 le dossier 2024-URB-00123 et la demande "
            "APA 12345 pour la voiture GE 123456 (ou AB-123-CD).")
    found = _kinds(detector.detect(text))
    for expected in (("EMAIL", "jean.dupont@etat.ge.ch"), ("TELEPHONE", "022 327 45 67"),
                     ("TELEPHONE", "+33 6 12 34 56 78"), ("DATE_NAISSANCE", "12 mars 1985"),
                     ("DOSSIER", "2024-URB-00123"), ("PERMIS", "APA 12345"),
                     ("PLAQUE", "GE 123456"), ("PLAQUE", "AB-123-CD")):
        assert expected in found
    assert not any("3 avril 2024" in t for _, t in found)  # an ordinary date is not reported


def test_wrong_check_digits_give_a_possible_identifier(detector: Detector) -> None:
    text = ("IBAN CH93 0076 2011 6238 5295 7 ; l'autre CH93 0076 2011 6238 5295 8 ; "
            "AVS 756.9217.0769.84.")
    found = [(f.kind, f.text, f.valid) for f in detector.detect(text)]
    assert found == [("IBAN", "CH93 0076 2011 6238 5295 7", True),
                     ("IBAN", "CH93 0076 2011 6238 5295 8", False),
                     ("AVS", "756.9217.0769.84", False)]
    scores = {f.valid: f.score for f in detector.detect(text)}
    assert scores[False] < scores[True]


def test_mixed_french_and_english(detector: Detector) -> None:
    text = ("Dear Mr Smith, please call me at +41 22 327 45 67. Bien à vous, Marie Curie, "
            "marie.curie@ge.ch.")
    for language in ("fr", "en", "de", "xx"):
        found = _kinds(detector.detect(text, language=language))
        assert ("PERSONNE", "Smith") in found and ("PERSONNE", "Marie Curie") in found
        assert ("TELEPHONE", "+41 22 327 45 67") in found
        assert ("EMAIL", "marie.curie@ge.ch") in found


def test_text_that_is_all_personal_data(detector: Detector) -> None:
    text = "756.9217.0769.85 CH93 0076 2011 6238 5295 7 jean@ge.ch 022 327 45 67"
    found = detector.detect(text)
    assert [f.kind for f in found] == ["AVS", "IBAN", "EMAIL", "TELEPHONE"]
    assert sum(f.end - f.start for f in found) == len(text) - 3


def test_empty_and_blank_text(detector: Detector) -> None:
    assert detector.detect("") == [] and detector.detect(" \n\t ") == []


def test_findings_are_sorted_without_overlaps_and_point_into_the_text(detector: Detector) -> None:
    text = "Mme Anne-Marie Andersson, née le 12 mars 1985, habite rue du Rhône 12, 1204 Genève."
    found = detector.detect(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert all(text[f.start : f.end] == f.text and f.kind in KINDS for f in found)
    assert ("ADRESSE", "rue du Rhône 12, 1204 Genève") in _kinds(found)  # not LIEU "Genève"


def test_long_text_is_analysed_in_pieces(detector: Detector) -> None:
    small = Detector(_settings(pii_chunk_chars=1000))
    line = "M. Jean Dupont, AVS 756.9217.0769.85, habite rue du Rhône 12, 1204 Genève.\n"
    text = line * 300  # 23,000 characters, 23 pieces
    found = small.detect(text)
    assert [f.kind for f in found].count("AVS") == 300
    assert [f.kind for f in found].count("ADRESSE") == 300
    assert all(text[f.start : f.end] == f.text for f in found)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


def test_pieces_cut_at_breaks_and_overlap() -> None:
    text = ("mot " * 1000).strip()
    cut = list(pieces(text, 500, 100))
    assert cut[0][0] == 0 and all(len(p) <= 500 for _, p in cut)
    assert all(text[o : o + len(p)] == p for o, p in cut)
    assert all(b[0] < a[0] + len(a[1]) for a, b in itertools.pairwise(cut))
    assert cut[-1][0] + len(cut[-1][1]) == len(text)
    assert list(pieces("court", 500, 100)) == [(0, "court")]


def test_resolve_joins_same_kind_and_keeps_the_longest() -> None:
    text = "Anne-Marie Andersson, 12 rue de Genève"
    found = resolve([
        Finding(0, 10, "PERSONNE", text[0:10], 0.85), Finding(5, 20, "PERSONNE", text[5:20], 0.8),
        Finding(22, 38, "ADRESSE", text[22:38], 0.75), Finding(32, 38, "LIEU", text[32:38], 0.85),
    ])
    assert _kinds(found) == [("PERSONNE", "Anne-Marie Andersson"), ("ADRESSE", "12 rue de Genève")]
    assert found[0].score == 0.85


def test_patterns_win_over_the_language_model() -> None:
    text = "pour la voiture GE 821125 du requérant"
    loose = Finding(8, 25, "LIEU", text[8:25], 0.85)  # spaCy's "voiture GE 821125"
    plate = Finding(16, 25, "PLAQUE", text[16:25], 0.6)
    assert resolve([loose, plate], from_model={loose}) == [plate]
    assert resolve([loose, plate]) == [loose]  # without the hint, the longest span wins


def test_names_on_separate_lines_stay_apart(detector: Detector) -> None:
    text = "Ont comparu :\npour le Gouvernement\nM. R. Reed, conseil,\nMme A. Jenkins, conseillère."
    found = _kinds(detector.detect(text))
    assert ("PERSONNE", "R. Reed") in found and ("PERSONNE", "A. Jenkins") in found
    assert all("\n" not in t for _, t in found)


def test_thresholds_per_kind() -> None:
    text = "Marie Curie a écrit à la Banque cantonale de Genève depuis Lancy."
    quiet = Detector(_settings(pii_thresholds={"ORGANISATION": 1.5, "LIEU": 0.9}))
    kinds = {f.kind for f in quiet.detect(text)}
    assert kinds == {"PERSONNE"}
    assert quiet.threshold("PERSONNE") == 0.35 and quiet.threshold("LIEU") == 0.9


def test_one_detector_per_process(detector: Detector) -> None:
    settings = _settings()
    assert get_detector(settings) is get_detector(_settings())
    assert get_detector(_settings(pii_detect_dates=True)) is not get_detector(settings)
    assert "PERMIS" in detector.kinds and detector.kinds[: len(KINDS)] == KINDS


def test_threads_share_one_detector(detector: Detector) -> None:
    text = "M. Jean Dupont, AVS 756.9217.0769.85, jean@ge.ch."
    expected = detector.detect(text)
    results: list[list[Finding]] = []
    threads = [threading.Thread(target=lambda: results.append(detector.detect(text)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every attempt to open a connection is recorded and refused."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts


def test_nothing_touches_the_network(no_network: list[object],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import tldextract
    import tldextract.tldextract

    # A fresh process: no pipeline loaded yet, tldextract as it comes (it would fetch its list).
    monkeypatch.setattr(engine, "_pipelines", {})
    monkeypatch.setattr(tldextract.tldextract, "TLD_EXTRACTOR", tldextract.TLDExtract())
    fresh = Detector(_settings())
    found = fresh.detect("Écrire à jean.dupont@etat.ge.ch ou appeler Marie Curie à Genève.")
    assert ("EMAIL", "jean.dupont@etat.ge.ch") in _kinds(found)
    assert tldextract.extract("jean.dupont@etat.ge.ch").suffix == "ch"  # presidio's e-mail check
    assert no_network == []


def test_importing_the_detector_loads_nothing() -> None:
    code = ("import sys, civique.governance.pii as pii, civique.settings as s; "
            "pii.Detector(s.Settings(_env_file=None)); "
            "print(sorted(m for m in ('spacy', 'presidio_analyzer', 'tldextract') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_a_missing_spacy_model_is_refused_not_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_pipelines", {})
    with pytest.raises(RuntimeError, match="never downloads"):
        Detector(_settings(pii_spacy_model="xx_missing_model")).load()


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "pii_echr_fr").is_dir(), reason="../shared/data is not here")
def test_recall_of_people_and_places_on_the_echr_dev_split(detector: Detector) -> None:
    from bench.pii_data import echr
    from bench.pii_eval import recall

    sample = echr("dev", root=SHARED)
    found = detector.detect(sample.text)
    # Measured on 2026-12-03: PER 21/21, PER + judges and lawyers 64/66, LOC 15/17.
    assert recall(sample, found, {"PER"}, {"PERSONNE"}) >= 0.95
    assert recall(sample, found, {"PER", "LEGAL_PROFESSIONAL"}, {"PERSONNE"}) >= 0.95
    assert recall(sample, found, {"LOC"}, {"LIEU", "ADRESSE"}) >= 0.85
