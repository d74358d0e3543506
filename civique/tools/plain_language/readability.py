"""French readability: the Kandel–Moles score and a rule-based French syllable counter.

Kandel, L. & Moles, A. (1958), « Application de l'indice de Flesch à la langue française »,
Cahiers Études de Radio-Télévision 19, 253–274: Flesch's reading-ease formula re-weighted for
French, 207 − 1.015 × (words / sentences) − 73.6 × (syllables / words). Higher is easier; the
bands are Flesch's.
"""

from __future__ import annotations

import re

from civique.errors import N_
from civique.tools.text import fold, sentences, words

_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüœæ")
_NEW_GROUP = frozenset("ïëü")  # a diaeresis always starts a syllable: naïf, Noël, capharnaüm
# (lowest score of the band, code, label): Flesch's bands.
LEVELS: tuple[tuple[float, str, str], ...] = (
    (90, "very_easy", N_("very easy")),
    (80, "easy", N_("easy")),
    (70, "fairly_easy", N_("fairly easy")),
    (60, "standard", N_("standard")),
    (50, "fairly_difficult", N_("fairly difficult")),
    (30, "difficult", N_("difficult")),
    (float("-inf"), "very_difficult", N_("very difficult")),
)


def syllables(word: str) -> int:
    """Spoken syllables of a French word: vowel groups, hiatus around é, silent final e/es.

    Limits: "pays" and "ayant" (y between vowels) count one syllable too few, as does the
    "u"/"ou" glide in "actuel"; a verb's silent "-ent" (ils parlent) counts as a syllable.
    A word without letters (a number) counts as one syllable.
    """
    letters = re.sub(r"[^\w]|\d|_", "", word.lower())
    groups = _vowel_groups(letters)
    if not groups:
        return 1
    count = len(groups)
    if count > 1 and _silent_final_e(letters, groups[-1]):
        count -= 1
    return count


def _vowel_groups(word: str) -> list[tuple[int, int]]:
    """(start, end) of each group of vowels, "qu" and "gu" + vowel counted as consonants."""
    groups: list[tuple[int, int]] = []
    previous_vowel = False
    for index, char in enumerate(word):
        vowel = char in _VOWELS and not _is_glide_u(word, index)
        starts = vowel and (not previous_vowel or char in _NEW_GROUP or _hiatus(word, index))
        if starts:
            groups.append((index, index + 1))
        elif vowel:
            groups[-1] = (groups[-1][0], index + 1)
        previous_vowel = vowel
    return groups


def _hiatus(word: str, index: int) -> bool:
    """Two vowels heard apart: after "é" (réalité, idée) or "é" after a, o, u, e (poésie)."""
    if word[index - 1] == "é":
        return True
    return word[index] == "é" and word[index - 1] in "aoue"


def _is_glide_u(word: str, index: int) -> bool:
    """The silent "u" of "qu" (que, quatre) and of "gu" before a vowel (guerre, guide)."""
    if word[index] != "u" or index == 0:
        return False
    if word[index - 1] == "q":
        return True
    return word[index - 1] == "g" and index + 1 < len(word) and word[index + 1] in _VOWELS


def _silent_final_e(word: str, last: tuple[int, int]) -> bool:
    """A final "e" or "es" standing alone as the last vowel group is mute (table, pommes)."""
    start, end = last
    group = word[start:end]
    return group == "e" and word[end:] in ("", "s")


def words_per_sentence(text: str) -> float:
    """Mean number of words per sentence (0 for a text without words)."""
    count = len(words(text))
    spans = sentences(text)
    return count / len(spans) if spans and count else 0.0


def kandel_moles(text: str) -> float:
    """The Kandel–Moles reading ease of a French text (0 for a text without words)."""
    tokens = words(text)
    spans = sentences(text)
    if not tokens or not spans:
        return 0.0
    total = sum(syllables(fold(token.group())) for token in tokens)
    return 207 - 1.015 * (len(tokens) / len(spans)) - 73.6 * (total / len(tokens))


def level(score: float) -> str:
    """The band of a score: very_easy, easy, fairly_easy, standard, … very_difficult."""
    return next(code for low, code, _label in LEVELS if score >= low)


def level_label(score: float) -> str:
    """The English source label of the band (translate it with gettext at render time)."""
    return next(label for low, _code, label in LEVELS if score >= low)
