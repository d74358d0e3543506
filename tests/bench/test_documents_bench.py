"""The document benchmarks on tiny sizes: real files, real embedded e5 model, real index code."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import documents
from bench.common import ROOT
from bench.documents_cli import _sizes, replace_section
from bench.documents_data import SyntheticText, question_set

pytestmark = pytest.mark.skipif(
    not (ROOT.parent / "shared" / "data" / "cnil_faq").is_dir(),
    reason="the public data set of ../shared/data is not here",
)


def test_sizes_accept_thousands_and_millions() -> None:
    assert _sizes("10k,100_000,1M") == (10_000, 100_000, 1_000_000)


def test_the_documents_section_is_replaced_in_place(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n## Web\n\nw\n\n## Reading\n\nr\n", encoding="utf-8")
    replace_section(path, "## Documents\n\nfirst")
    replace_section(path, "## Documents\n\nsecond\n\n### Part\n\np", "## Reading\n\nnew")
    text = path.read_text(encoding="utf-8")
    assert text.endswith("## Reading\n\nnew\n") and "\nr\n" not in text
    assert "first" not in text and text.count("## Documents") == 1
    assert text.index("## Web") < text.index("second") < text.index("### Part") < text.index(
        "## Reading")


def test_questions_point_at_their_paragraph() -> None:
    contexts, questions = question_set()
    assert len(questions) == 562 and len(set(contexts)) == len(contexts)
    assert all(0 <= q.context < len(contexts) for q in questions)


def test_synthetic_text_draws_real_words() -> None:
    text = SyntheticText(["demande", "mairie"], [3, 1]).chunk(28)
    assert set(text.lower().replace(".", "").split()) <= {"demande", "mairie"}
    assert text.count(".") == 2


def test_tiny_run_measures_every_part_through_the_product_code() -> None:
    options = documents.Options(
        ingest_files=3, load_files=2, warm_up=2, latency_queries=3, questions=4, contexts=6,
        answers=0,
        scale_sizes=(150,), scale_pg=False, pg_exact_size=0,
        parts=("ingest", "latency", "quality", "scale"),
    )
    markdown, numbers = documents.run(options)
    ingested = numbers["ingest"]["run"]
    assert ingested.ready == 3 and ingested.chunks >= 3
    assert 1 <= ingested.embedding_calls <= ingested.chunks
    assert 0 < ingested.embedding_seconds < ingested.seconds
    assert set(numbers["ingest"]["raw"]) == {8, 16, 32}
    latency = numbers["latency"]
    assert len(latency["idle"]) == 3 and latency["busy"] and latency["load"].ready == 2
    quality = numbers["quality"]
    assert quality["questions"] == 4 and quality["run"].ready == quality["contexts"] == 6
    # The offline fusion at the product's settings reproduces the product's hybrid ranking.
    assert quality["variants"][(60, 50, 0.5, 3)] == quality["scores"]["hybrid"]
    assert all(0 <= r1 <= r5 <= 100 for r1, r5, _ in quality["scores"].values())
    (scale,) = numbers["scale"]
    assert scale.size == 150 and len(scale.hybrid) == len(scale.vector) == 20
    for title in ("Ingestion throughput", "during ingestion", "Retrieval quality", "at scale"):
        assert f"### {title}" in markdown or title in markdown
