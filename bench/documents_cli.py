"""Command-line options of the document benchmarks, and writing their section alone."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.documents import Options

PARTS = ("ingest", "latency", "quality", "answer", "scale")


def _sizes(value: str) -> tuple[int, ...]:
    return tuple(int(v.replace("_", "").replace("k", "000").replace("M", "000000"))
                 for v in value.split(",") if v)


def add_document_options(parser: argparse.ArgumentParser) -> None:
    """Sizes and parts of `--only documents`."""
    group = parser.add_argument_group("documents")
    group.add_argument("--doc-parts", default=",".join(PARTS),
                       help=f"comma-separated parts to run (default: all of {', '.join(PARTS)})")
    group.add_argument("--doc-files", type=int, default=300,
                       help="fiches ingested for throughput (default 300, about 3 min)")
    group.add_argument("--doc-load-files", type=int, default=150,
                       help="fiches ingested while searching (default 150)")
    group.add_argument("--doc-questions", type=int, default=300,
                       help="questions for retrieval quality (default 300 of 562)")
    group.add_argument("--doc-contexts", type=int, default=None,
                       help="answer paragraphs indexed (default: all; gold ones always)")
    group.add_argument("--doc-answers", type=int, default=3,
                       help="grounded answers generated (default 3)")
    group.add_argument("--doc-batch", type=int, default=16,
                       help="chunks per embedding call during ingestion (default 16)")
    group.add_argument("--doc-warm-up", type=int, default=40,
                       help="passages embedded before timing ingestion (default 40)")
    group.add_argument("--scale-sizes", type=_sizes, default=(10_000, 100_000),
                       help="chunk counts for the scale test, e.g. 10k,100k,1M (default 10k,100k)")
    group.add_argument("--scale-no-pg", action="store_true", help="scale test on SQLite only")
    group.add_argument("--scale-no-sqlite", action="store_true",
                       help="scale test on PostgreSQL only")
    group.add_argument("--scale-exact-size", type=int, default=10_000,
                       help="chunks for PostgreSQL 15 without pgvector (0: skip)")


def document_options(args: argparse.Namespace) -> Options:
    """The `Options` of `bench.documents.run` from parsed arguments."""
    from bench.documents import Options

    return Options(
        ingest_files=args.doc_files,
        load_files=args.doc_load_files,
        questions=args.doc_questions,
        contexts=args.doc_contexts,
        answers=args.doc_answers,
        batch=args.doc_batch,
        warm_up=args.doc_warm_up,
        scale_sizes=args.scale_sizes,
        scale_pg=not args.scale_no_pg,
        scale_sqlite=not args.scale_no_sqlite,
        pg_exact_size=args.scale_exact_size,
        parts=tuple(p for p in args.doc_parts.split(",") if p),
    )


def replace_section(path: Path, section: str, reading: str | None = None,
                    heading: str = "Documents") -> None:
    """Put `section` in place of the file's "## <heading>" section (else before "## Reading"),
    and the reading notes (bench/reading.md) in place of the file's "## Reading" to its end."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## (?!#))", re.S | re.M)
    if pattern.search(current + "\n## END"):
        updated = pattern.sub(lambda _: section + "\n\n", current + "\n## END", count=1)
        updated = updated.removesuffix("\n## END")
    elif "\n## Reading" in current:
        updated = current.replace("\n## Reading", "\n" + section + "\n\n## Reading", 1)
    else:
        updated = current.rstrip("\n") + "\n\n" + section + "\n"
    if reading is not None and "\n## Reading" in updated:
        updated = updated[: updated.index("\n## Reading") + 1] + reading.strip() + "\n"
    path.write_text(updated, encoding="utf-8")
