"""Personal data: precision and recall per entity type of Civique's detector and of presidio's
predefined recognisers alone (same spaCy French model), on the French ECHR judgments and on
generated identifiers; throughput; load time. Entity-level overlap matching (bench.pii_eval)."""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.common import machine
from bench.pii_data import CHECKED, MAKERS, Sample, echr, identifiers_sample
from bench.pii_eval import Prediction, Span, flagged, score
from civique.governance.pii import Detector
from civique.settings import Settings

# presidio's entity names in Civique's kinds (the others, e.g. NRP, URL, are not compared).
BASELINE_KINDS = {"PERSON": "PERSONNE", "LOCATION": "LIEU", "ORGANIZATION": "ORGANISATION",
                  "DATE_TIME": "DATE", "EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "TELEPHONE",
                  "IBAN_CODE": "IBAN"}
# (row, gold labels for recall, gold labels a prediction may match, predicted kinds)
ECHR_ROWS: tuple[tuple[str, set[str], set[str] | None, set[str]], ...] = (
    ("PER → PERSONNE", {"PER"}, None, {"PERSONNE"}),
    ("LEGAL_PROFESSIONAL → PERSONNE", {"LEGAL_PROFESSIONAL"}, None, {"PERSONNE"}),
    ("PER + LEGAL_PROFESSIONAL → PERSONNE", {"PER", "LEGAL_PROFESSIONAL"},
     {"PER", "LEGAL_PROFESSIONAL"}, {"PERSONNE"}),
    ("LOC → LIEU, ADRESSE", {"LOC"}, {"LOC"}, {"LIEU", "ADRESSE"}),
    ("ORG → ORGANISATION", {"ORG"}, {"ORG"}, {"ORGANISATION"}),
    ("DATE → DATE, DATE_NAISSANCE (dates on)", {"DATE"}, {"DATE"}, {"DATE", "DATE_NAISSANCE"}),
)
TARGETS = {"checksum recall": 0.95, "person recall": 0.90, "precision": 0.85}

Analyse = Callable[[str], Sequence[Span]]


@dataclass
class Contender:
    """A detector under test: how it analyses a text, and how long it took to load."""

    name: str
    analyse: Analyse
    load_seconds: float


def civique(settings: Settings) -> Contender:
    """Civique's detector with `settings`, loaded and timed."""
    started = time.perf_counter()
    detector = Detector(settings)
    detector.load()
    return Contender("Civique", detector.detect, time.perf_counter() - started)


def baseline(model: str) -> Contender:
    """presidio's AnalyzerEngine with its own spaCy engine on `model` and only its predefined
    recognisers for French (offline suffix list, as in Civique)."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    from civique.governance.engine import offline_suffix_list

    offline_suffix_list()
    started = time.perf_counter()
    nlp = SpacyNlpEngine(models=[{"lang_code": "fr", "model_name": model}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["fr"])
    registry.load_predefined_recognizers(languages=["fr"], nlp_engine=nlp)
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["fr"])
    loaded = time.perf_counter() - started

    def analyse(text: str) -> Sequence[Span]:
        return [Prediction(r.start, r.end, BASELINE_KINDS[r.entity_type])
                for r in engine.analyze(text, language="fr")
                if r.entity_type in BASELINE_KINDS]

    return Contender("presidio predefined (baseline)", analyse, loaded)


def _timed(analyse: Analyse, text: str) -> tuple[Sequence[Span], float]:
    started = time.perf_counter()
    found = analyse(text)
    return found, time.perf_counter() - started


def _echr_rows(sample: Sample, runs: dict[str, Sequence[Span]]) -> list[list[object]]:
    """Per row: gold count, then recall and precision of Civique and of the baseline."""
    rows: list[list[object]] = []
    for name, labels, matching, kinds in ECHR_ROWS:
        row: list[object] = [name, score(sample, [], labels, kinds).gold]
        for key in ("Civique dates" if "DATE" in labels else "Civique", "baseline"):
            row.append(score(sample, runs[key], labels, kinds).recall)
            row.append(score(sample, runs[key], matching, kinds).precision if matching
                       else float("nan"))
        rows.append(row)
    return rows


def run_echr(split: str, contenders: Sequence[Contender],
             dated: Contender) -> dict[str, Any]:
    """Both detectors (and Civique with ordinary dates) on one split; rows and timings."""
    sample = echr(split)
    runs: dict[str, Sequence[Span]] = {}
    seconds: dict[str, float] = {}
    for contender, key in ((contenders[0], "Civique"), (contenders[1], "baseline"),
                           (dated, "Civique dates")):
        runs[key], seconds[key] = _timed(contender.analyse, sample.text)
    others = Counter(s.kind for s in runs["Civique"]
                     if s.kind not in {"PERSONNE", "LIEU", "ADRESSE", "ORGANISATION"})
    return {"sample": sample, "rows": _echr_rows(sample, runs), "seconds": seconds,
            "others": others}


def run_identifiers(contenders: Sequence[Contender], count: int) -> dict[str, Any]:
    """Generated identifiers in French sentences: per kind, recall, precision, and what became
    of the wrong check digits; then the median time of one call per sentence."""
    sample = identifiers_sample(count)
    found = {c.name: c.analyse(sample.text) for c in contenders}
    rows: list[list[object]] = []
    for kind in MAKERS:
        valid = sum(e.label == kind and e.valid for e in sample.entities)
        row: list[object] = [kind, valid]
        for contender in contenders:
            spans = found[contender.name]
            result = score(sample, spans, {kind}, {kind})
            accepted = score(sample, spans, {kind}, {kind}, valid=False).found
            hits, wrong = flagged(sample, spans, kind)
            row += [result.recall, result.precision]
            if contender is contenders[0]:
                row += [f"{hits}/{wrong}" if kind in CHECKED else "—"]
            row += [f"{accepted}/{wrong}" if kind in CHECKED else "—"]
        rows.append(row)
    lines = sample.text.split("\n")[:200]
    per_call = {}
    for contender in contenders:
        times = [_timed(contender.analyse, line)[1] for line in lines]
        per_call[contender.name] = (statistics.median(times), sum(map(len, lines)) / len(lines))
    return {"sample": sample, "rows": rows, "per_call": per_call}


def run(quick: bool = False) -> tuple[str, dict[str, Any]]:
    """Load both detectors, run every part, return the Markdown section and the numbers."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    load_before = os.getloadavg()[0]
    print("  loading Civique's detector…", flush=True)
    ours = civique(settings)
    print("  loading presidio's predefined recognisers…", flush=True)
    theirs = baseline(settings.pii_spacy_model)
    dated = Contender("Civique, dates on", Detector(
        settings.model_copy(update={"pii_detect_dates": True})).detect, 0.0)
    numbers: dict[str, Any] = {"load": {ours.name: ours.load_seconds,
                                        theirs.name: theirs.load_seconds}}
    for split in ("dev",) if quick else ("dev", "train"):
        print(f"  ECHR {split}…", flush=True)
        numbers[f"echr_{split}"] = run_echr(split, (ours, theirs), dated)
    print("  generated identifiers…", flush=True)
    numbers["identifiers"] = run_identifiers((ours, theirs), 10 if quick else 100)
    numbers["load_average"] = (load_before, os.getloadavg()[0])
    from bench.pii_report import section

    return section(numbers, machine()), numbers

