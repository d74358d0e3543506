"""Command-line options of `--only lab` (sizes, requests, databases to generate or reuse)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bench.documents_cli import _sizes

if TYPE_CHECKING:
    from bench.lab_dashboards import Options


def _count(value: str) -> int:
    return _sizes(value)[0]


def add_lab_options(parser: argparse.ArgumentParser) -> None:
    """Sizes and databases of the Lab dashboards benchmark."""
    group = parser.add_argument_group("lab")
    group.add_argument("--lab-users", type=_count, default=20_000, help="agents (default 20k)")
    group.add_argument("--lab-outputs", type=_count, default=2_000_000,
                       help="output records over the year, each with its call (default 2M)")
    group.add_argument("--lab-feedback", type=_count, default=200_000,
                       help="feedback entries (default 200k)")
    group.add_argument("--lab-requests", type=int, default=20,
                       help="timed requests per filter set with the rollups (default 20)")
    group.add_argument("--lab-baseline-requests", type=int, default=5,
                       help="timed requests per filter set without them (default 5; 0: skip)")
    group.add_argument("--lab-sqlite", type=Path, default=None,
                       help="SQLite file to generate (default: a temporary file)")
    group.add_argument("--lab-pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                       "civique_lab_bench", help="PostgreSQL database to (re)create and fill")
    group.add_argument("--lab-no-pg", action="store_true", help="SQLite only")
    group.add_argument("--lab-no-sqlite", action="store_true", help="PostgreSQL only")
    group.add_argument("--lab-reuse", action="append", default=[], metavar="PATH_OR_URL",
                       help="an already generated database to time again (repeatable)")


def lab_options(args: argparse.Namespace) -> Options:
    """The `Options` of `bench.lab_dashboards.run` from parsed arguments."""
    from bench.lab_dashboards import Options
    from bench.lab_data import Sizes

    return Options(
        sizes=Sizes(users=args.lab_users, outputs=args.lab_outputs, feedback=args.lab_feedback),
        requests=args.lab_requests,
        baseline_requests=args.lab_baseline_requests,
        sqlite_path=args.lab_sqlite,
        pg_url=None if args.lab_no_pg else args.lab_pg,
        reuse=tuple(args.lab_reuse),
        sqlite=not args.lab_no_sqlite,
    )
