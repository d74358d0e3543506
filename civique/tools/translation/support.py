"""Which languages each model translates into well enough, from measurement.

The levels of the embedded model come from `bench/tools_translation.py` (docs/benchmarks.md,
"Translation"): five French administrative paragraphs translated into each language, scored on
the script, the language identified and the glossary terms kept. A model or language not in the
table is "unknown": the page says it was not measured, and runs are allowed.
"""

from __future__ import annotations

from typing import Literal

from civique.errors import N_

Level = Literal["good", "fair", "poor", "unsupported", "unknown"]

# Model id prefix → target language → level. Measured on 2026-11-26 (see docs/benchmarks.md).
SUPPORT: dict[str, dict[str, Level]] = {
    "embedded/qwen2.5-1.5b": {
        "en": "good",
        "de": "good",
        "it": "good",
        "es": "good",
        "pt": "good",
        "ar": "fair",
        "uk": "fair",
        "sq": "poor",
        "ti": "unsupported",
    },
}
LEVEL_LABELS: dict[str, str] = {
    "good": N_("good"),
    "fair": N_("fair: check the translation"),
    "poor": N_("poor: have it checked by a fluent reader"),
    "unsupported": N_("not supported by this model"),
    "unknown": N_("not measured for this model"),
}


def support(model_id: str, language: str) -> Level:
    """How well `model_id` translates into `language` (the longest matching prefix wins)."""
    matches = [prefix for prefix in SUPPORT if model_id.startswith(prefix)]
    if not matches:
        return "unknown"
    return SUPPORT[max(matches, key=len)].get(language, "unknown")
