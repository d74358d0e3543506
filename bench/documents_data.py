"""Public French data for the document benchmarks, read in place from ../shared/data (never copied).

- service-public.fr fiches (plain text, one file per fiche and case) for ingestion;
- CNIL and CRPA help-page questions with their answer paragraphs (SQuAD layout) for retrieval;
- synthetic French-like chunks (words drawn from the fiches' vocabulary) for the scale test.
"""

from __future__ import annotations

import json
import random
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.texts import shared_data

PAGE_CHARS = 3000  # one "page" of plain text, for pages/second
FICHES_ZIP = Path("service_public_fiches") / "service_public_fr_fiches_txt_v2.zip"
QUESTION_FILES = ("besoindaide_PIAF.squad.json", "crpa_open_data_faq.squad.json")


@dataclass(frozen=True)
class Question:
    """A question and the index of the paragraph that answers it."""

    text: str
    context: int


def fiches(count: int, seed: int = 7, skip: int = 0, root: Path | None = None) -> list[
    tuple[str, bytes]
]:
    """`count` fiches (name, bytes) drawn at random without replacement, after the first `skip`."""
    with zipfile.ZipFile((root or shared_data()) / FICHES_ZIP) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".txt"))
        random.Random(seed).shuffle(names)
        chosen = names[skip : skip + count]
        return [(Path(n).name, archive.read(n)) for n in chosen]


def question_set(root: Path | None = None) -> tuple[list[str], list[Question]]:
    """The distinct answer paragraphs and every question pointing at its paragraph."""
    contexts: list[str] = []
    index: dict[str, int] = {}
    questions: list[Question] = []
    for name in QUESTION_FILES:
        data = json.loads(((root or shared_data()) / "cnil_faq" / name).read_text("utf-8"))
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"].strip()
                if context not in index:
                    index[context] = len(contexts)
                    contexts.append(context)
                questions += [Question(q["question"].strip(), index[context])
                              for q in paragraph["qas"]]
    return contexts, questions


def sample_questions(questions: list[Question], count: int, seed: int = 11) -> list[Question]:
    """A reproducible random sample of at most `count` questions."""
    if count >= len(questions):
        return list(questions)
    return random.Random(seed).sample(questions, count)


def vocabulary(texts: list[str], size: int = 20000) -> tuple[list[str], list[int]]:
    """The most frequent words of `texts` and their counts (for Zipf-like synthetic text)."""
    counts = Counter(w for t in texts for w in re.findall(r"[^\W\d_]{2,}", t.lower()))
    common = counts.most_common(size)
    return [w for w, _ in common], [c for _, c in common]


class SyntheticText:
    """French-like chunks: words of the real vocabulary at their real frequencies."""

    def __init__(self, words: list[str], weights: list[int], seed: int = 3) -> None:
        self._words = words
        self._cumulative = list(_accumulate(weights))
        self._random = random.Random(seed)

    def chunk(self, words: int = 110) -> str:
        """About `words` words (≈700 characters), in sentences."""
        picked = self._random.choices(self._words, cum_weights=self._cumulative, k=words)
        sentences = [" ".join(picked[i : i + 14]) for i in range(0, words, 14)]
        return " ".join(s[:1].upper() + s[1:] + "." for s in sentences)


def _accumulate(values: list[int]) -> list[int]:
    total = 0
    out = []
    for value in values:
        total += value
        out.append(total)
    return out
