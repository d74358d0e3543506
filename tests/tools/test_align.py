"""Paragraph alignment for the side-by-side view: one to one, splits, merges and omissions."""

from __future__ import annotations

from civique.tools.translation.align import Pair, align, side_by_side


def _text(lengths: list[int]) -> str:
    return "\n\n".join(chr(ord("a") + k % 26) * n for k, n in enumerate(lengths))


def _pairs(source: list[int], target: list[int]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    return [(p.source, p.target) for p in align(_text(source), _text(target))]


def test_same_count_pairs_one_to_one() -> None:
    assert align("Un.\n\nDeux.\n\nTrois.", "One.\n\nTwo is longer here.\n\nThree.") == [
        Pair((0,), (0,)), Pair((1,), (1,)), Pair((2,), (2,))]
    assert align("", "") == []


def test_a_paragraph_split_in_two_by_the_translation() -> None:
    assert _pairs([300, 80, 300], [290, 40, 45, 310]) == [
        ((0,), (0,)), ((1,), (1, 2)), ((2,), (3,))]


def test_two_paragraphs_merged_by_the_translation() -> None:
    assert _pairs([200, 150, 160, 220], [210, 320, 230]) == [
        ((0,), (0,)), ((1, 2), (1,)), ((3,), (2,))]


def test_a_longer_language_with_a_split() -> None:
    # The target writes 1.3 times longer and splits the second paragraph in two.
    assert _pairs([200, 400, 300], [260, 250, 270, 390]) == [
        ((0,), (0,)), ((1,), (1, 2)), ((2,), (3,))]


def test_a_short_leftover_paragraph_is_merged_rather_than_dropped() -> None:
    # Gale & Church: leaving a paragraph out is costly, so a 10-character one joins its neighbour.
    assert _pairs([200, 400, 10, 300], [260, 520, 390]) == [
        ((0,), (0,)), ((1, 2), (1,)), ((3,), (2,))]


def test_one_side_empty() -> None:
    assert _pairs([100, 100], []) == [((0,), ()), ((1,), ())]
    assert _pairs([], [50]) == [((), (0,))]


def test_side_by_side_joins_grouped_paragraphs() -> None:
    source = "Premier.\n\nDeuxième paragraphe, assez long pour deux."
    target = "First.\n\nSecond paragraph,\n\nlong enough for two."
    assert side_by_side(source, target) == [
        ("Premier.", "First."),
        ("Deuxième paragraphe, assez long pour deux.", "Second paragraph,\n\nlong enough for two.")]


def test_long_documents_stay_in_order_and_cover_everything() -> None:
    source = [120 + (k * 37) % 200 for k in range(300)]
    target = [*source[:150], source[150] // 2, source[150] - source[150] // 2, *source[151:]]
    pairs = _pairs(source, target)
    assert [i for p in pairs for i in p[0]] == list(range(300))
    assert [j for p in pairs for j in p[1]] == list(range(301))
    assert ((150,), (150, 151)) in pairs
