"""Translation with the embedded model: which target languages it writes, from measurement.

Five short French administrative paragraphs from service-public.fr fiches (`../shared/data/
service_public_fiches/best_fiche.json`), each holding a glossary term, are translated into each
target language with the tool's own prompt (`civique/tools/translation/prompts/`), greedy
decoding, straight through llama-cpp-python. Cheap scores per language (no back-translation,
too slow on 2 cores): the share of letters in the language's script, the share of outputs that
py3langid identifies as the language (Amharic stands in for Tigrinya, which it lacks), and the
glossary adherence rate (`translation.glossary.adherence`). The support table of
`civique/tools/translation/support.py` is derived from this table (`level` column).

Run: `python -m bench --only translation` (about 5 minutes on 2 cores).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, median, table
from civique.llm.types import ChatMessage
from civique.tools.registry import ToolContext
from civique.tools.translation import glossary as glossary_check
from civique.tools.translation import quality
from civique.tools.translation.glossary import Entry, Glossary
from civique.tools.translation.tool import TOOL, TranslationInput

DATA = ROOT.parent / "shared" / "data" / "service_public_fiches" / "best_fiche.json"
TARGETS = ("en", "de", "it", "es", "pt", "ar", "uk", "sq", "ti")
PARAGRAPHS = 5
# Two mandated terms per language (Tigrinya's from a dictionary, not checked by a speaker).
TERMS: dict[str, tuple[str, str]] = {
    "en": ("town hall", "birth certificate"),
    "de": ("Rathaus", "Geburtsurkunde"),
    "it": ("municipio", "atto di nascita"),
    "es": ("ayuntamiento", "acta de nacimiento"),
    "pt": ("câmara municipal", "certidão de nascimento"),
    "ar": ("البلدية", "شهادة الميلاد"),
    "uk": ("мерія", "свідоцтво про народження"),
    "sq": ("bashkia", "certifikata e lindjes"),
    "ti": ("ምምሕዳር ከተማ", "ምስክር ወረቐት ልደት"),
}
_TERM = re.compile(r"\bmairie\b|acte de naissance", re.I)


def glossary() -> Glossary:
    """The benchmark's glossary: "mairie" and "acte de naissance" in every target language."""
    return Glossary(
        tuple(
            entry
            for code, (hall, certificate) in TERMS.items()
            for entry in (
                Entry("mairie", code, hall),
                Entry("acte de naissance", code, certificate),
            )
        )
    )


def paragraphs(count: int = PARAGRAPHS) -> list[str]:
    """Distinct fiche lines of 150 to 330 characters holding a glossary term, one per fiche."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    found: list[str] = []
    fiches: set[str] = set()
    for fiche in data["data"]:
        for paragraph in fiche["paragraphs"]:
            for line in paragraph["context"].split("\n"):
                line = " ".join(line.split())
                if fiche["id"] in fiches or not (150 < len(line) < 330) or not _TERM.search(line):
                    continue
                found.append(line)
                fiches.add(fiche["id"])
    return found[:count]


def messages(text: str, target: str, terms: Glossary) -> list[ChatMessage]:
    """The tool's prompt for this paragraph, glossary included."""
    inputs = TranslationInput.model_validate(
        {"source_language": "fr", "target_language": target, "text": text}
    )
    context = ToolContext(org_name="Commune de Test", extra={"glossary": terms})
    return TOOL.build_messages(inputs, context, TOOL)


def translate(llm: Any, prompt: list[ChatMessage], max_tokens: int) -> str:
    """Greedy decoding, as the embedded provider runs the tools."""
    result = llm.create_chat_completion(
        messages=[{"role": m.role, "content": m.content} for m in prompt],
        max_tokens=max_tokens,
        temperature=0.0,
    )
    return str(result["choices"][0]["message"]["content"]).strip()


def score(source: str, output: str, target: str, terms: Glossary) -> dict[str, float]:
    """Script share, identified (1/0) and glossary adherence of one translation."""
    findings = glossary_check.check(source, output, target, terms)
    return {
        "script": quality.script_share(output, target),
        "identified": 1.0 if quality.is_language(output, target) else 0.0,
        "adherence": glossary_check.adherence(findings, source, target, terms),
    }


def level(script: float, identified: float, adherence: float) -> str:
    """The support level the measures give (the thresholds are ours, stated in the docs)."""
    if script < 0.5 or identified < 0.4:
        return "unsupported"
    if script < 0.9 or identified < 0.8:
        return "poor"
    if adherence < 0.75 or identified < 1.0:
        return "fair"
    return "good"


def run(
    model_path: Path, threads: int = 2, context_tokens: int = 4096
) -> tuple[str, dict[str, Any]]:
    """Translate and score; the Markdown section and the raw numbers."""
    from llama_cpp import Llama  # heavy import, only for this benchmark

    llm = Llama(model_path=str(model_path), n_ctx=context_tokens, n_threads=threads, verbose=False)
    terms, texts = glossary(), paragraphs()
    rows, raw = [], {}
    for target in TARGETS:
        scores, seconds, samples = [], [], []
        for text in texts:
            started = time.perf_counter()
            output = translate(llm, messages(text, target, terms), max_tokens=400)
            seconds.append(time.perf_counter() - started)
            scores.append(score(text, output, target, terms))
            samples.append(output)
        mean = {k: sum(s[k] for s in scores) / len(scores) for k in scores[0]}
        raw[target] = {"scores": scores, "seconds": seconds, "samples": samples}
        rows.append(
            [
                target,
                f"{mean['script']:.2f}",
                f"{mean['identified']:.0%}",
                f"{mean['adherence']:.0%}",
                f"{median(seconds):.1f}",
                level(mean["script"], mean["identified"], mean["adherence"]),
            ]
        )
        print(f"  {target}: {rows[-1][1:]}", flush=True)
    headers = [
        "target",
        "script share",
        "identified",
        "glossary adherence",
        "s / paragraph (median)",
        "level",
    ]
    section = (
        "## Translation\n\n"
        f"Embedded model `{model_path.name}`, {len(texts)} French paragraphs of service-public.fr "
        'fiches (150–330 characters, each with "mairie" or "acte de naissance"), the tool\'s '
        "prompt with a two-term glossary, greedy decoding. Level: unsupported when script share "
        "< 0.5 or identified < 40 %; poor when script < 0.9 or identified < 80 %; fair when "
        "adherence < 75 % or identified < 100 %; else good.\n\n" + table(headers, rows)
    )
    return section, raw


def measure() -> str:
    """Run on the embedded model of the bench settings; the Markdown section."""
    return _measured()[0]


def _measured() -> tuple[str, dict[str, Any]]:
    import tempfile

    from bench.embedded import bench_settings, model_file

    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(Path(tmp))
        return run(
            model_file(settings), settings.embedded_threads, settings.embedded_context_tokens
        )


def main() -> int:
    """Standalone run: print the section and the samples."""
    section, raw = _measured()
    print(section)
    for target, numbers in raw.items():
        print(f"--- {target}: {numbers['samples'][0][:300]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
