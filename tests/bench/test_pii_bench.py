"""The personal-data benchmark's data and scoring (the detector itself: tests/governance)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common import ROOT
from bench.documents_cli import replace_section
from bench.pii_data import Entity, Sample, echr, identifiers_sample
from bench.pii_eval import Prediction, flagged, score

HAS_DATA = (ROOT.parent / "shared" / "data" / "pii_echr_fr").is_dir()


@pytest.mark.skipif(not HAS_DATA, reason="the public data set of ../shared/data is not here")
def test_echr_tokens_become_text_with_entity_offsets() -> None:
    sample = echr("dev")
    names = [sample.text[e.start : e.end] for e in sample.entities if e.label == "PER"]
    assert "Mme Anne-Marie Andersson" in names and "M. S." in names
    assert len(sample.entities) == 177 and "\r" not in sample.text
    assert sample.text.startswith("PROCÉDURE\nL’affaire a été déférée")


def test_generated_identifiers_sit_at_their_offsets() -> None:
    sample = identifiers_sample(5, seed=1)
    kinds = {e.label for e in sample.entities}
    assert kinds == {"IBAN", "AVS", "NIR", "TELEPHONE", "EMAIL", "PLAQUE"}
    assert sum(not e.valid for e in sample.entities) == 15  # IBAN, AVS, NIR with a wrong digit
    for entity in sample.entities:
        value = sample.text[entity.start : entity.end]
        assert value.strip() == value and value and "\n" not in value
    assert identifiers_sample(5, seed=1).text == sample.text  # a fixed seed, the same text


def test_overlap_matching_and_possible_identifiers() -> None:
    sample = Sample("Jean Dupont, CH93 0076, x", [
        Entity(0, 11, "PER"), Entity(13, 22, "IBAN", valid=False)])
    found = [Prediction(5, 11, "PERSONNE"), Prediction(13, 22, "IBAN", valid=False),
             Prediction(24, 25, "PERSONNE")]
    people = score(sample, found, {"PER"}, {"PERSONNE"})
    assert (people.gold, people.found, people.predicted, people.right) == (1, 1, 2, 1)
    assert people.recall == 1.0 and people.precision == 0.5
    assert flagged(sample, found, "IBAN") == (1, 1)
    assert score(sample, found, {"IBAN"}, {"IBAN"}, valid=False).found == 0  # not accepted


def test_the_personal_data_section_is_replaced_in_place(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n## Documents\n\nd\n\n## Reading\n\nr\n", encoding="utf-8")
    replace_section(path, "## Personal data\n\nfirst", heading="Personal data")
    replace_section(path, "## Personal data\n\nsecond", heading="Personal data")
    text = path.read_text(encoding="utf-8")
    assert "first" not in text and text.count("## Personal data") == 1
    assert text.index("## Documents") < text.index("second") < text.index("## Reading")
