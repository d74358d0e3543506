"""The Lab dashboards benchmark at a tiny size, on SQLite and PostgreSQL: the generator, the
bulk loads, the rollups and the timed page stay working."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench import lab_dashboards, lab_data
from bench.__main__ import _parser
from bench.lab_cli import lab_options
from civique.db.engine import make_engine

TINY = lab_data.Sizes(users=60, outputs=3_000, feedback=300, units=4, weeks=6)


def _url(tmp: Path, backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'lab.db'}"
    return f"{lab_dashboards.SYSTEM_SERVER}/civique_lab_tiny_{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_tiny_run_generates_rolls_up_and_times_the_page(tmp_path: Path, backend: str) -> None:
    url = _url(tmp_path, backend)
    options = lab_dashboards.Options(sizes=TINY, requests=3, baseline_requests=2,
                                     sqlite=False, pg_url=None)
    try:
        if backend == "sqlite":
            options.sqlite, options.sqlite_path = True, tmp_path / "lab.db"
        else:
            options.pg_url = url
        markdown, runs = lab_dashboards.run(options)
        (run,) = runs
        assert int(run.info["rows_output_records"]) == TINY.outputs
        assert int(run.info["rows_model_calls"]) > TINY.outputs  # embeddings without output
        assert 0 < int(run.info["rows_lab_feedback"]) <= TINY.feedback
        assert [t.name for t in run.rollups] == [t.name for t in run.baseline]
        assert all(len(t.times) == 3 and t.p95 >= t.p50 > 0 for t in run.rollups)
        assert markdown.startswith("## Lab dashboards") and "whole year" in markdown
        # A rerun on the same database reuses it: nothing generated again.
        engine = make_engine(url)
        before = lab_dashboards.read_info(engine)
        engine.dispose()
        again = lab_dashboards.Options(sizes=TINY, requests=1, baseline_requests=0,
                                       sqlite=False, pg_url=None, reuse=(url,))
        _, (rerun,) = lab_dashboards.run(again)
        assert rerun.info == before and rerun.baseline == []
    finally:
        if backend == "postgresql":
            admin = create_engine(f"{lab_dashboards.SYSTEM_SERVER}/postgres",
                                  isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                name = url.rsplit("/", 1)[1]
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_lab_options_parse_sizes_and_reuse() -> None:
    args = _parser().parse_args(["--only", "lab", "--lab-outputs", "200k", "--lab-no-pg",
                                 "--lab-reuse", "/tmp/x.db"])
    options = lab_options(args)
    assert options.sizes.outputs == 200_000 and options.pg_url is None
    assert options.reuse == ("/tmp/x.db",)


def test_generator_is_deterministic() -> None:
    people = [lab_data.Person(i, 1, 1, 1.0 + i % 3, 0, "chat") for i in range(1, 30)]
    people += [lab_data.Person(i, 2, 2, 1.0, 0, "letters") for i in range(30, 35)]
    first = [b.outputs for b in lab_data.batches(people, TINY, lab_data.last_monday())]
    second = [b.outputs for b in lab_data.batches(people, TINY, lab_data.last_monday())]
    assert first == second and sum(len(b) for b in first) == TINY.outputs
    weekly = [len(b) for b in first]
    assert weekly[-1] > weekly[0]  # usage grows over the year
