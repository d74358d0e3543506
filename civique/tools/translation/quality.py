"""Cheap checks that a translation is in the language asked for: its script and the language
identified by py3langid. Used by the tool's checker and by the benchmark."""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

# The Unicode script names (the first word of a letter's name) each target language writes in.
SCRIPTS: dict[str, str] = {
    "fr": "LATIN",
    "en": "LATIN",
    "de": "LATIN",
    "it": "LATIN",
    "es": "LATIN",
    "pt": "LATIN",
    "sq": "LATIN",
    "ar": "ARABIC",
    "uk": "CYRILLIC",
    "ti": "ETHIOPIC",
}
# py3langid has no Tigrinya model; Amharic is its closest language (same script, related).
LANGID_CODES: dict[str, str] = {"ti": "am"}
MIN_IDENTIFY_CHARS = 40  # below this, py3langid guesses


def script_share(text: str, language: str) -> float:
    """Share of the text's letters written in the script of `language` (0.0 without letters)."""
    wanted = SCRIPTS.get(language, "LATIN")
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if _script(ch) == wanted) / len(letters)


@functools.lru_cache(maxsize=8192)
def _script(ch: str) -> str:
    return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # its model loads on first use

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify(text: str) -> tuple[str | None, float]:
    """The language py3langid finds in `text` and its probability; None for a short text."""
    if len(text.strip()) < MIN_IDENTIFY_CHARS:
        return None, 0.0
    code, probability = _identifier().classify(text)
    return str(code), float(probability)


def is_language(text: str, language: str) -> bool | None:
    """Whether `text` is identified as `language` (None when too short to tell)."""
    code, _ = identify(text)
    if code is None:
        return None
    return code == LANGID_CODES.get(language, language)
