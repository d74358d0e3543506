"""Entity-level scoring with overlap matching: a gold entity is found when a prediction of a
kind it maps to overlaps it by at least one character; a prediction is right when it overlaps a
gold entity that maps to its kind."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bench.pii_data import Entity, Sample


class Span(Protocol):
    """A prediction: civique's `Finding`, or a baseline result turned into one."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def valid(self) -> bool: ...


@dataclass(frozen=True)
class Prediction:
    """A baseline's result in Civique's kinds."""

    start: int
    end: int
    kind: str
    valid: bool = True


@dataclass(frozen=True)
class Score:
    """Counts behind precision and recall for one row of a table."""

    gold: int
    found: int  # gold entities found
    predicted: int
    right: int  # predictions that overlap a matching gold entity

    @property
    def recall(self) -> float:
        """Found / gold (NaN without gold entities)."""
        return self.found / self.gold if self.gold else float("nan")

    @property
    def precision(self) -> float:
        """Right / predicted (NaN without predictions)."""
        return self.right / self.predicted if self.predicted else float("nan")


def _overlaps(a: Entity | Span, b: Entity | Span) -> bool:
    return a.start < b.end and b.start < a.end


def _hits(golds: Sequence[Entity], spans: Sequence[Span]) -> int:
    """Golds overlapped by at least one span (both lists are small enough for pairs)."""
    ordered = sorted(spans, key=lambda s: s.start)
    count = 0
    for gold in golds:
        count += any(_overlaps(gold, s) for s in ordered if s.start < gold.end)
    return count


def score(sample: Sample, spans: Iterable[Span], labels: set[str], kinds: set[str],
          valid: bool | None = True) -> Score:
    """Gold entities with a label in `labels` (and validity `valid`, None: any) against
    predictions of `kinds` that claim a valid identifier."""
    golds = [e for e in sample.entities if e.label in labels and valid in (None, e.valid)]
    predicted = [s for s in spans if s.kind in kinds and s.valid]
    right_golds = [e for e in sample.entities if e.label in labels and e.valid]
    right = sum(any(_overlaps(p, g) for g in right_golds) for p in predicted)
    return Score(len(golds), _hits(golds, predicted), len(predicted), right)


def flagged(sample: Sample, spans: Iterable[Span], kind: str) -> tuple[int, int]:
    """Gold identifiers of `kind` with wrong check digits reported as possible identifiers
    (same kind, valid=False), and their count."""
    golds = [e for e in sample.entities if e.label == kind and not e.valid]
    possible = [s for s in spans if s.kind == kind and not s.valid]
    return _hits(golds, possible), len(golds)


def recall(sample: Sample, spans: Iterable[Span], labels: set[str], kinds: set[str]) -> float:
    """Share of the gold entities of `labels` found by predictions of `kinds`."""
    return score(sample, spans, labels, kinds).recall
