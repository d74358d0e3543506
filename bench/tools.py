"""Drafting tools on the embedded model: FALC rule violations and readability before and after
rewriting, and seconds per page.

Texts: paragraphs of service-public.fr fiches (`../shared/data`), headings dropped, cut at a
paragraph boundary near `TEXT_CHARS`. Each text goes through the product's own path: the
plain-language tool's `ToolRunner.prepare` and `run_to_end` (prompt files, gateway, output
record), at the "plain" and "falc" levels. The baseline is the input text itself, scored by the
same checker (`falc.check` with the default jargon list, `readability.kandel_moles`).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from bench.common import machine, table
from bench.documents_data import PAGE_CHARS, fiches
from bench.documents_env import Env, open_env
from civique.llm.models import OutputRecord
from civique.tools.plain_language import falc, readability
from civique.tools.registry import default_registry
from civique.tools.service import ToolRunner

TEXT_CHARS = 700
LEVELS = ("plain", "falc")


@dataclass
class Scored:
    """One text's FALC findings per 100 words and Kandel–Moles score."""

    per_100_words: float
    reading_ease: float
    words: int


@dataclass
class Rewrite:
    """One rewrite of one text at one level."""

    level: str
    before: Scored
    after: Scored
    seconds: float
    input_chars: int
    status: str


def score(text: str) -> Scored:
    """The checker's figures for `text`."""
    summary = falc.summary(falc.check(text), text)
    return Scored(
        float(summary["per_100_words"]), readability.kandel_moles(text), int(summary["words"])
    )


def bench_texts(count: int, seed: int = 5) -> list[str]:
    """`count` fiche excerpts of at least ~400 characters, headings removed."""
    texts: list[str] = []
    for _name, data in fiches(count * 8, seed=seed):
        lines = [re.sub(r"\s+", " ", line).strip() for line in data.decode("utf-8").splitlines()]
        body = [line for line in lines if len(line.split()) >= 8]
        kept: list[str] = []
        for line in body:
            if sum(len(k) for k in kept) + len(line) > TEXT_CHARS and kept:
                break
            kept.append(line)
        text = "\n\n".join(kept)
        if len(text) >= 400:
            texts.append(text)
        if len(texts) == count:
            break
    return texts


async def _rewrite(env: Env, runner: ToolRunner, text: str, level: str) -> Rewrite:
    started = time.perf_counter()
    with env.sessions() as session:
        plan = await runner.prepare(
            session, env.user(session), "plain_language", {"text": text, "level": level}
        )
        actor = env.user(session)
    last = await runner.run_to_end(actor, plan, channel="bench")
    seconds = time.perf_counter() - started
    with env.sessions() as session:
        output = (
            session.scalar(select(OutputRecord.output).where(OutputRecord.id == last.output_id))
            if last.output_id
            else None
        )
    return Rewrite(level, score(text), score(output or ""), seconds, len(text), last.kind)


def run(count: int = 8) -> tuple[str, list[Rewrite]]:
    """Rewrite `count` texts at both levels; the Markdown section and the raw results."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="civique-bench-tools-") as tmp:
        env = open_env(Path(tmp))
        runner = ToolRunner(env.sessions, env.gateway, env.settings, default_registry())
        results: list[Rewrite] = []
        for n, text in enumerate(bench_texts(count), start=1):
            for level in LEVELS:
                result = asyncio.run(_rewrite(env, runner, text, level))
                print(
                    f"  text {n} {level}: {result.before.per_100_words:.1f} → "
                    f"{result.after.per_100_words:.1f} findings/100 words, reading ease "
                    f"{result.before.reading_ease:.0f} → {result.after.reading_ease:.0f}, "
                    f"{result.seconds:.1f} s",
                    flush=True,
                )
                results.append(result)
    return report(results, machine(), load_before, os.getloadavg()), results


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def report(
    results: list[Rewrite],
    info: dict[str, str],
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> str:
    """The section: one row for the input texts (the baseline), one per level."""
    ok = [r for r in results if r.status == "done"]
    first = [r for r in ok if r.level == LEVELS[0]]
    rows: list[list[object]] = [[
        "input text (baseline)", len(first),
        f"{_mean([r.before.per_100_words for r in first]):.1f}",
        f"{_mean([r.before.reading_ease for r in first]):.1f}",
        f"{_mean([float(r.before.words) for r in first]):.0f}", "—", "—",
    ]]
    for level in LEVELS:
        mine = [r for r in ok if r.level == level]
        pages = sum(r.input_chars for r in mine) / PAGE_CHARS
        better = sum(1 for r in mine if r.after.per_100_words < r.before.per_100_words)
        rows.append([
            f"rewritten, level {level}", len(mine),
            f"{_mean([r.after.per_100_words for r in mine]):.1f}",
            f"{_mean([r.after.reading_ease for r in mine]):.1f}",
            f"{_mean([float(r.after.words) for r in mine]):.0f}",
            f"{better}/{len(mine)}",
            f"{sum(r.seconds for r in mine) / pages:.0f}" if pages else "—",
        ])
    failed = len(results) - len(ok)
    return "\n".join([
        "## Drafting tools",
        "",
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores, shared: load "
        f"average {load_before[0]:.2f} before, {load_after[0]:.2f} after), Python "
        f"{info['python']}, by `python -m bench --only tools`.",
        "",
        "### Plain language and FALC on the embedded model",
        "",
        f"{len(first)} excerpts of service-public.fr fiches (~{TEXT_CHARS} characters each, "
        "headings dropped), rewritten by the plain-language tool through the gateway "
        "(Qwen2.5-1.5B Q4_K_M, 2 threads). Findings: `falc.check` with the default jargon list, "
        "per 100 words; reading ease: Kandel–Moles (higher is easier). Seconds per page: a page "
        f"is {PAGE_CHARS:,} characters of input text."
        + (f" {failed} run(s) failed and are left out." if failed else ""),
        "",
        table(
            ["text", "texts", "FALC findings / 100 words", "Kandel–Moles", "words",
             "fewer findings than input", "seconds / page"],
            rows,
        ),
    ])
