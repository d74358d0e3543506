"""Personal-data detection for French and Swiss text, before text goes to a model that is not
cleared for personal data (docs/governance.md).

presidio's analyzer runs Civique's recognisers (identifiers with their check digits, dates of
birth, addresses, titled names, case numbers) and spaCy's French pipeline (people, places,
organisations). Nothing is loaded at import time: the first `detect` loads the pipeline.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from civique.errors import N_
from civique.governance import identifiers, patterns
from civique.governance.identifiers import Candidate
from civique.settings import Settings

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult

    from civique.governance.engine import Finder

KINDS: tuple[str, ...] = (
    "PERSONNE", "ADRESSE", "LIEU", "ORGANISATION", "TELEPHONE", "EMAIL", "DATE_NAISSANCE",
    "IBAN", "AVS", "NIR", "PASSEPORT", "CARTE_IDENTITE", "PLAQUE", "DOSSIER", "DATE",
)
# What each kind is called in pages (placeholders keep the kind itself).
KIND_LABELS: dict[str, str] = {
    "PERSONNE": N_("person"), "ADRESSE": N_("postal address"), "LIEU": N_("place"),
    "ORGANISATION": N_("organisation"), "TELEPHONE": N_("phone number"),
    "EMAIL": N_("e-mail address"), "DATE_NAISSANCE": N_("date of birth"), "IBAN": N_("IBAN"),
    "AVS": N_("AVS number"), "NIR": N_("social security number (NIR)"),
    "PASSEPORT": N_("passport number"), "CARTE_IDENTITE": N_("identity card number"),
    "PLAQUE": N_("vehicle plate"), "DOSSIER": N_("case number"), "DATE": N_("date"),
}
POSSIBLE_IDENTIFIER = N_("possible identifier: its check digits are wrong")
OVERLAP_CHARS = 300  # pieces of a long text overlap by more than the longest finding


@dataclass(frozen=True)
class Finding:
    """A span of personal data in the analysed text."""

    start: int
    end: int
    kind: str
    text: str
    score: float
    valid: bool = True  # False: shaped like an identifier, but its check digits fail


class Detector:
    """Finds personal data in text; loads spaCy's pipeline on first use, once."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._thresholds = dict(settings.pii_thresholds)
        self._case_patterns = [(p.kind, re.compile(p.pattern)) for p in settings.pii_case_patterns]
        self._analyzer: AnalyzerEngine | None = None
        self._load_lock = threading.Lock()
        # spaCy does not promise that one pipeline may run in two threads at once.
        self._run_lock = threading.Lock()

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every kind this detector may report (built-in, then configured case patterns)."""
        extra = [k for k, _ in self._case_patterns if k not in KINDS]
        return KINDS + tuple(dict.fromkeys(extra))

    def load(self) -> None:
        """Load the spaCy pipeline and build the analyzer now rather than at the first call."""
        self._engine()

    def detect(self, text: str, language: str = "fr") -> list[Finding]:
        """Personal data in `text`, sorted by position, without overlaps (see `resolve`)."""
        if not text.strip():
            return []
        analyzer = self._engine()
        from civique.governance.engine import LANGUAGES

        lang = language if language in LANGUAGES else "fr"  # every language uses the same model
        found: list[tuple[Finding, bool]] = []
        for offset, piece in pieces(text, self._settings.pii_chunk_chars, OVERLAP_CHARS):
            with self._run_lock:
                results = analyzer.analyze(piece, language=lang, score_threshold=0.0)
            found += [_finding(text, offset, r) for r in results]
        kept = [(f, model) for f, model in found if f.score >= self.threshold(f.kind)]
        return resolve([f for f, _ in kept], from_model={f for f, model in kept if model})

    def threshold(self, kind: str) -> float:
        """The lowest score reported for `kind`."""
        return self._thresholds.get(kind, self._settings.pii_min_score)

    def _engine(self) -> AnalyzerEngine:
        with self._load_lock:
            if self._analyzer is None:
                from civique.governance.engine import build_analyzer

                self._analyzer = build_analyzer(self._settings.pii_spacy_model, self._finders())
            return self._analyzer

    def _finders(self) -> list[tuple[Finder, Sequence[str]]]:
        dates = functools.partial(patterns.find_dates, ordinary=self._settings.pii_detect_dates)
        functools.update_wrapper(dates, patterns.find_dates)
        cases = functools.partial(patterns.find_case_numbers, patterns=self._case_patterns)
        functools.update_wrapper(cases, patterns.find_case_numbers)
        case_kinds = list(dict.fromkeys(k for k, _ in self._case_patterns))
        finders: list[tuple[Finder, Sequence[str]]] = [
            (identifiers.find_ibans, ["IBAN"]),
            (identifiers.find_avs, ["AVS"]),
            (identifiers.find_nirs, ["NIR"]),
            (identifiers.find_emails, ["EMAIL"]),
            (identifiers.find_phones, ["TELEPHONE"]),
            (identifiers.find_plates, ["PLAQUE"]),
            (identifiers.find_documents, ["PASSEPORT", "CARTE_IDENTITE"]),
            (dates, ["DATE_NAISSANCE", "DATE"]),
            (patterns.find_addresses, ["ADRESSE"]),
            (patterns.find_titled_names, ["PERSONNE"]),
            (patterns.find_cued_names, ["PERSONNE"]),
        ]
        if case_kinds:  # presidio wants at least one kind per recogniser
            finders.append((cases, case_kinds))
        return finders


def _finding(text: str, offset: int, result: RecognizerResult) -> tuple[Finding, bool]:
    """The result as a finding in the whole text, and whether spaCy (not a pattern) found it."""
    from civique.governance.engine import FROM_MODEL_KEY, VALID_KEY

    start, end = result.start + offset, result.end + offset
    metadata = result.recognition_metadata or {}
    valid = bool(metadata.get(VALID_KEY, True))
    finding = Finding(start, end, result.entity_type, text[start:end], float(result.score), valid)
    return finding, bool(metadata.get(FROM_MODEL_KEY, False))


def pieces(text: str, size: int, overlap: int) -> Iterator[tuple[int, str]]:
    """`text` cut into pieces of at most `size` characters at line or word breaks, each
    overlapping the previous one by about `overlap` characters: (offset, piece)."""
    start = 0
    while True:
        if len(text) - start <= size:
            yield start, text[start:]
            return
        end = _break_before(text, start + size, start + size // 2)
        yield start, text[start:end]
        next_start = _break_before(text, end - overlap, start + 1)
        start = next_start if next_start > start else end


def _break_before(text: str, limit: int, floor: int) -> int:
    """The last line break, else space, at or before `limit` and after `floor` (else `limit`)."""
    for separator in ("\n", " "):
        at = text.rfind(separator, floor, limit)
        if at > floor:
            return at + 1
    return limit


def resolve(findings: Iterable[Finding], from_model: Collection[Finding] = ()) -> list[Finding]:
    """Findings without overlaps: spans of one kind that overlap are joined; then, among
    overlapping spans of different kinds, those of the patterns win over those of the language
    model (`from_model`, whose spans can swallow a plate or an e-mail), then the longest, then
    the highest score."""
    chosen: list[Finding] = []
    starts: list[int] = []

    def rank(f: Finding) -> tuple[bool, int, float, int]:
        return f in from_model, f.start - f.end, -f.score, f.start

    for finding in sorted(_joined(findings), key=rank):
        at = bisect.bisect_left(starts, finding.end)
        if at and chosen[at - 1].end > finding.start:
            continue  # overlaps the chosen span that starts last before its end
        chosen.insert(at, finding)
        starts.insert(at, finding.start)
    return chosen


def _joined(findings: Iterable[Finding]) -> list[Finding]:
    """Overlapping findings of the same kind and verdict joined into one (their union)."""
    joined: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.kind, f.valid, f.start, -f.end)):
        last = joined[-1] if joined else None
        if last and (last.kind, last.valid) == (finding.kind, finding.valid) and (
            finding.start < last.end
        ):
            if finding.end > last.end:
                text = last.text + finding.text[last.end - finding.start :]
                joined[-1] = replace(last, end=finding.end, text=text,
                                     score=max(last.score, finding.score))
            continue
        joined.append(finding)
    return joined


_detectors: dict[str, Detector] = {}
_detectors_lock = threading.Lock()


def get_detector(settings: Settings) -> Detector:
    """The process's detector for these settings, created on first use (thread-safe)."""
    key = settings.model_dump_json(include={n for n in Settings.model_fields
                                            if n.startswith("pii_")})
    with _detectors_lock:
        if key not in _detectors:
            _detectors[key] = Detector(settings)
        return _detectors[key]


__all__ = ["KINDS", "KIND_LABELS", "POSSIBLE_IDENTIFIER", "Candidate", "Detector", "Finding",
           "get_detector", "pieces", "resolve"]
