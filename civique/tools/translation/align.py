"""Paragraph alignment of a text and its translation, for a side-by-side view.

Paragraphs are separated by blank lines. With as many paragraphs on both sides they pair one to
one; otherwise a length-based dynamic programme in the manner of Gale & Church (1993, "A program
for aligning sentences in bilingual corpora", Computational Linguistics 19(1)) picks the most
likely sequence of 1-1, 1-0, 0-1, 2-1, 1-2 and 2-2 groupings: the cost of pairing lengths l1
and l2 is −log P(match) − log P(|δ|) with δ = (l2 − c·l1) / √(s²·l1), where c is the ratio of
the two texts' total lengths (so a language that writes longer is not penalised) and s² = 6.8,
Gale & Church's variance. The search stays within a band around the diagonal, so long
documents cost time in proportion to their length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from civique.tools.text import Span, paragraphs

# Prior probabilities of each grouping (Gale & Church, table 5).
_MOVES: tuple[tuple[int, int, float], ...] = (
    (1, 1, 0.89), (1, 0, 0.0099 / 2), (0, 1, 0.0099 / 2), (2, 1, 0.089 / 2), (1, 2, 0.089 / 2),
    (2, 2, 0.011),
)
_VARIANCE = 6.8
_BAND = 30  # paragraphs either side of the diagonal the search may wander


@dataclass(frozen=True)
class Pair:
    """Source paragraphs (indices) shown next to the target paragraphs they translate."""

    source: tuple[int, ...]
    target: tuple[int, ...]


def align(source: str, target: str) -> list[Pair]:
    """Group the paragraphs of `source` and `target` that translate each other, in order."""
    left, right = paragraphs(source), paragraphs(target)
    if len(left) == len(right):
        return [Pair((i,), (i,)) for i in range(len(left))]
    return _gale_church([len(p.text) for p in left], [len(p.text) for p in right])


def side_by_side(source: str, target: str) -> list[tuple[str, str]]:
    """The aligned texts: (source paragraphs, target paragraphs), each joined by blank lines."""
    left, right = paragraphs(source), paragraphs(target)
    return [(_join(left, pair.source), _join(right, pair.target)) for pair in align(source, target)]


def _join(spans: list[Span], indices: tuple[int, ...]) -> str:
    return "\n\n".join(spans[i].text for i in indices)


def _cost(l1: int, l2: int, prior: float, ratio: float) -> float:
    """−log of the probability that l1 source and l2 target characters translate each other."""
    if l1 == 0 and l2 == 0:
        return 0.0
    mean = (l1 + l2 / ratio) / 2
    delta = (l2 - ratio * l1) / math.sqrt(_VARIANCE * max(mean, 1.0))
    tail = math.erfc(abs(delta) / math.sqrt(2))  # 2·(1 − Φ(|δ|))
    return -math.log(prior) - math.log(max(tail, 1e-300))


def _gale_church(left: list[int], right: list[int]) -> list[Pair]:
    n, m = len(left), len(right)
    ratio = (sum(right) / sum(left)) if sum(left) and sum(right) else 1.0
    band = _BAND + abs(n - m)
    best: dict[tuple[int, int], tuple[float, tuple[int, int]]] = {(0, 0): (0.0, (0, 0))}
    for i in range(n + 1):
        centre = i * m / n if n else 0
        for j in range(max(0, int(centre) - band), min(m, int(centre) + band) + 1):
            if (i, j) != (0, 0):
                _relax(best, left, right, i, j, ratio)
    return _path(best, n, m)


def _relax(
    best: dict[tuple[int, int], tuple[float, tuple[int, int]]],
    left: list[int], right: list[int], i: int, j: int, ratio: float,
) -> None:
    """The cheapest way to reach (i, j) from a cell already reached."""
    for di, dj, prior in _MOVES:
        before = best.get((i - di, j - dj))
        if before is None:
            continue
        cost = before[0] + _cost(sum(left[i - di : i]), sum(right[j - dj : j]), prior, ratio)
        if (i, j) not in best or cost < best[(i, j)][0]:
            best[(i, j)] = (cost, (di, dj))


def _path(best: dict[tuple[int, int], tuple[float, tuple[int, int]]], n: int, m: int) -> list[Pair]:
    pairs: list[Pair] = []
    i, j = n, m
    while (i, j) != (0, 0):
        di, dj = best[(i, j)][1]
        pairs.append(Pair(tuple(range(i - di, i)), tuple(range(j - dj, j))))
        i, j = i - di, j - dj
    return pairs[::-1]
