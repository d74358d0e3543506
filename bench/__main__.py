"""`python -m bench`: run the benchmarks, print Markdown tables, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.common import ROOT, machine, table
from bench.documents_cli import add_document_options, document_options, replace_section
from bench.lab_cli import add_lab_options, lab_options

OUTPUT = ROOT / "docs" / "benchmarks.md"
READING = ROOT / "bench" / "reading.md"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=["embedded", "web", "documents", "pii", "tools",
                                           "translation", "lab"],
                        help="run one benchmark only (documents, pii: its section is replaced "
                        "in the existing file)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs and smaller loads (a smoke test, not for the docs)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="Markdown file to write (default: docs/benchmarks.md)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    add_document_options(parser)
    add_lab_options(parser)
    return parser


def _alone(args: argparse.Namespace, section: str, heading: str,
           reading: str | None = None) -> int:
    """Replace one section of the existing file (a benchmark run alone)."""
    if not args.no_write:
        replace_section(args.output, section, reading, heading=heading)
        print(f"written to {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks (all by default)."""
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    info = machine()
    load_before = os.getloadavg()
    sections = []
    if args.only in (None, "embedded"):
        from bench import embedded

        print("==> Embedded model", flush=True)
        section, _ = embedded.run(runs=1 if args.quick else 3)
        print(section + "\n", flush=True)
        sections.append(section)
    if args.only in (None, "web"):
        from bench import web

        print("==> Web tier with the fake model", flush=True)
        section, _ = web.run(quick=args.quick)
        print(section + "\n", flush=True)
        sections.append(section)
    if args.only in (None, "documents"):
        from bench import documents

        print("==> Documents", flush=True)
        section, _ = documents.run(document_options(args))
        print(section + "\n", flush=True)
        if args.only == "documents":
            reading = READING.read_text(encoding="utf-8") if READING.exists() else None
            return _alone(args, section, "Documents", reading)
        sections.append(section)
    if args.only == "translation":  # about 5 minutes on a quiet machine: only when asked
        from bench import tools_translation

        print("==> Translation", flush=True)
        section = tools_translation.measure()
        print(section + "\n", flush=True)
        return _alone(args, section, "Translation")
    if args.only in (None, "pii"):
        from bench import pii

        print("==> Personal data", flush=True)
        section, _ = pii.run(quick=args.quick)
        print(section + "\n", flush=True)
        if args.only == "pii":
            return _alone(args, section, "Personal data")
        sections.append(section)
    if args.only in (None, "tools"):
        from bench import tools

        print("==> Drafting tools", flush=True)
        section, _ = tools.run(count=2 if args.quick else 8)
        print(section + "\n", flush=True)
        if args.only == "tools":
            return _alone(args, section, "Drafting tools")
        sections.append(section)
    if args.only in (None, "lab"):
        from bench import lab_dashboards

        print("==> Lab dashboards", flush=True)
        section, _ = lab_dashboards.run(lab_options(args))
        print(section + "\n", flush=True)
        if args.only == "lab":
            return _alone(args, section, "Lab dashboards")
        sections.append(section)
    elapsed = time.perf_counter() - started
    document = _document(info, load_before, os.getloadavg(), elapsed, sections)
    if not args.no_write:
        args.output.write_text(document, encoding="utf-8")
        print(f"written to {args.output}")
    return 0


def _document(
    info: dict[str, str],
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    elapsed: float,
    sections: list[str],
) -> str:
    machine_rows = [
        ["date", info["date"]],
        ["CPU", info["cpu"]],
        ["cores", info["cores"]],
        ["RAM", info["ram"]],
        ["system", f"{info['os']}, Python {info['python']}"],
        ["load average (1 min) before / after", f"{load_before[0]:.2f} / {load_after[0]:.2f}"],
        ["bench duration", f"{elapsed / 60:.1f} min"],
    ]
    parts = [
        "# Benchmarks",
        "",
        "Measured by `make bench` (`.venv/bin/python -m bench`); every table compares Civique "
        "with a baseline measured in the same run on the same machine. Traffic goes to "
        "127.0.0.1 only.",
        "",
        table(["machine", ""], machine_rows),
        "",
        *[s + "\n" for s in sections],
    ]
    if READING.exists():
        parts.append(READING.read_text(encoding="utf-8").strip() + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
