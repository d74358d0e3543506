"""Lab dashboards at scale: the page `/lab/dashboards` timed end to end (route, figures,
charts, template) on SQLite and PostgreSQL, with the rollups and, as the baseline in the same
run, with the direct queries over the raw tables (the dashboards before the rollups).

`python -m bench --only lab` generates the data set once per database (`bench.lab_data`);
`--lab-reuse PATH_OR_URL` times an already generated one again, which takes seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from bench import lab_data
from bench.common import machine, percentile, table
from civique.db.base import Base
from civique.db.engine import make_engine
from civique.orgs.models import Unit

SYSTEM_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PG_DATABASE = "civique_lab_bench"
INFO = "bench_lab_info"


@dataclass
class Options:
    """Sizes, requests and where the databases are."""

    sizes: lab_data.Sizes = field(default_factory=lab_data.Sizes)
    requests: int = 20
    baseline_requests: int = 5
    sqlite_path: Path | None = None  # None: a temporary file
    pg_url: str | None = f"{SYSTEM_SERVER}/{PG_DATABASE}"  # None: SQLite only
    reuse: tuple[str, ...] = ()  # databases already generated (path or URL)
    sqlite: bool = True


@dataclass
class Timing:
    """Milliseconds of the requests of one filter set."""

    name: str
    times: list[float]
    bytes: int

    @property
    def p50(self) -> float:
        return percentile(self.times, 50)

    @property
    def p95(self) -> float:
        return percentile(self.times, 95)


@dataclass
class Run:
    """What one database gave."""

    backend: str
    info: dict[str, str]
    rollup_seconds: float
    rollups: list[Timing]
    baseline: list[Timing]


def _write_info(engine: Engine, info: dict[str, str]) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {INFO} (key VARCHAR(40) PRIMARY KEY, "
                          "value VARCHAR(200))"))
        conn.execute(text(f"DELETE FROM {INFO}"))
        conn.execute(text(f"INSERT INTO {INFO} (key, value) VALUES (:k, :v)"),
                     [{"k": k, "v": v} for k, v in info.items()])


def read_info(engine: Engine) -> dict[str, str]:
    """What the generator wrote down (sizes, first Monday, times); empty if not generated."""
    try:
        with engine.connect() as conn:
            return {k: v for k, v in conn.execute(text(f"SELECT key, value FROM {INFO}"))}
    except (OperationalError, ProgrammingError):
        return {}


def generate(engine: Engine, sizes: lab_data.Sizes, today: date | None = None) -> dict[str, str]:
    """Fill an empty database with the synthetic year; returns what was generated."""
    started = time.perf_counter()
    lab_data.create_schema(engine)
    people, lead_id = lab_data.people(engine, sizes)
    first_monday = lab_data.last_monday(today) - timedelta(weeks=sizes.weeks - 1)
    rows = lab_data.batches(people, sizes, first_monday)
    if engine.dialect.name == "postgresql":
        lab_data.load_pg(engine, rows)
    else:
        lab_data.load_sqlite(engine, rows)
    lab_data.move_some_users(engine, people, sizes.seed)
    loaded = time.perf_counter() - started
    indexed = lab_data.create_indexes(engine)
    with engine.connect() as conn:
        counts = {t: conn.scalar(text(f"SELECT count(*) FROM {t}"))
                  for t in ("users", "output_records", "model_calls", "lab_feedback")}
    info = {
        "first_monday": first_monday.isoformat(),
        "weeks": str(sizes.weeks),
        "lead_id": str(lead_id),
        "load_seconds": f"{loaded:.1f}",
        "index_seconds": f"{indexed:.1f}",
        **{f"rows_{t}": str(n) for t, n in counts.items()},
    }
    _write_info(engine, info)
    return info


def filter_sets(engine: Engine, info: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """The filter sets timed: the default page, whole weeks, the year, one unit, one tool."""
    first = date.fromisoformat(info["first_monday"])
    last_sunday = first + timedelta(weeks=int(info["weeks"])) - timedelta(days=1)
    twelve = (last_sunday - timedelta(weeks=12) + timedelta(days=1)).isoformat()
    with engine.connect() as conn:
        unit = conn.scalar(select(Unit.id).order_by(Unit.id).limit(1))  # the biggest unit
    end = last_sunday.isoformat()
    return [
        ("default (last 12 weeks to today)", {}),
        ("12 whole weeks", {"start": twelve, "end": end}),
        ("whole year", {"start": first.isoformat(), "end": end}),
        ("one unit, year", {"start": first.isoformat(), "end": end, "unit_id": str(unit)}),
        ("one tool, 12 weeks", {"start": twelve, "end": end, "tool": "letters"}),
    ]


@contextlib.contextmanager
def _client(url: str, rollups: bool, data_dir: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from civique.app import create_app
    from civique.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="development",
        data_dir=data_dir,
        database_url=url,
        fake_provider_enabled=True,
        embedded_enabled=False,
        embedded_embeddings_enabled=False,
        jobs_in_process=False,
        log_level="WARNING",
        log_json=False,
        lab_rollups=rollups,
    )
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            page = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token, "no CSRF token on the login page"
            response = client.post("/login", follow_redirects=False, data={
                "email": lab_data.LEAD_EMAIL, "password": lab_data.LEAD_PASSWORD,
                "csrf_token": token.group(1), "next": "/"})
            assert response.status_code == 303, response.text
            yield client
    finally:
        app.state.engine.dispose()


def time_pages(url: str, info: dict[str, str], sets: list[tuple[str, dict[str, str]]],
               requests: int, rollups: bool) -> list[Timing]:
    """p50/p95 of `requests` GETs of the page per filter set (one warm-up request each)."""
    out = []
    with tempfile.TemporaryDirectory(prefix="civique-lab-") as tmp, \
            _client(url, rollups, Path(tmp)) as client:
        for name, params in sets:
            response = client.get("/lab/dashboards", params=params)
            assert response.status_code == 200, response.text[:500]
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get("/lab/dashboards", params=params)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            out.append(Timing(name, times, len(response.content)))
            label = "rollups" if rollups else "baseline"
            print(f"    {label}, {name}: p50 {out[-1].p50:.0f} ms, p95 {out[-1].p95:.0f} ms",
                  flush=True)
    return out


def rollup(url: str) -> float:
    """Rebuild the rollups as `civique lab rollup` does; returns seconds."""
    from civique.lab import rollups

    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)  # a database generated before the rollup tables
        started = time.perf_counter()
        with engine.connect() as conn:
            rollups.rebuild(conn)
            conn.commit()
        rollups.vacuum(engine)
        return time.perf_counter() - started
    finally:
        engine.dispose()


def _prepare_pg(url: str, reuse: bool, sizes: lab_data.Sizes) -> dict[str, str]:
    if not reuse:
        name = url.rsplit("/", 1)[1]
        admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    return _prepare(url, reuse, sizes)


def _prepare(url: str, reuse: bool, sizes: lab_data.Sizes) -> dict[str, str]:
    engine = make_engine(url)
    try:
        info = read_info(engine) if reuse else {}
        if not info:
            started = time.perf_counter()
            info = generate(engine, sizes)
            info["generation_seconds"] = f"{time.perf_counter() - started:.1f}"
            _write_info(engine, info)
        return info
    finally:
        engine.dispose()


def _databases(options: Options, tmp: Path) -> list[tuple[str, str, bool]]:
    """(backend, URL, reuse) of each database to time."""
    found: list[tuple[str, str, bool]] = []
    for target in options.reuse:
        url = target if "://" in target else f"sqlite:///{Path(target).resolve()}"
        found.append(("PostgreSQL" if url.startswith("postgresql") else "SQLite", url, True))
    backends = {b for b, _, _ in found}
    if options.sqlite and "SQLite" not in backends:
        path = options.sqlite_path or tmp / "lab.db"
        path.unlink(missing_ok=True)
        found.append(("SQLite", f"sqlite:///{path}", False))
    if options.pg_url and "PostgreSQL" not in backends:
        found.append(("PostgreSQL", options.pg_url, False))
    return sorted(found)


def measure(backend: str, url: str, reuse: bool, options: Options) -> Run:
    """Generate (or reuse), rebuild the rollups, time the page with them and without."""
    print(f"  {backend}: {'reusing' if reuse else 'generating'} {url}", flush=True)
    if backend == "PostgreSQL":
        info = _prepare_pg(url, reuse, options.sizes)
    else:
        info = _prepare(url, reuse, options.sizes)
    seconds = rollup(url)
    print(f"  {backend}: rollups rebuilt in {seconds:.1f} s", flush=True)
    engine = make_engine(url)
    sets = filter_sets(engine, info)
    engine.dispose()
    fast = time_pages(url, info, sets, options.requests, rollups=True)
    slow = time_pages(url, info, sets, options.baseline_requests, rollups=False) \
        if options.baseline_requests else []
    return Run(backend, info, seconds, fast, slow)


def run(options: Options) -> tuple[str, list[Run]]:
    """Every database: a Markdown section and the numbers."""
    load_before = os.getloadavg()
    runs = []
    with tempfile.TemporaryDirectory(prefix="civique-lab-db-") as tmp:
        for backend, url, reuse in _databases(options, Path(tmp)):
            runs.append(measure(backend, url, reuse, options))
    return report(runs, options, load_before, os.getloadavg()), runs


def report(runs: list[Run], options: Options, load_before: tuple[float, ...],
           load_after: tuple[float, ...]) -> str:
    """The "Lab dashboards" section of docs/benchmarks.md."""
    info = machine()
    rows = []
    for r in runs:
        baseline = {t.name: t for t in r.baseline}
        for t in r.rollups:
            b = baseline.get(t.name)
            rows.append([r.backend, t.name, t.p50, t.p95, len(t.times),
                         b.p50 if b else float("nan"), b.p95 if b else float("nan"),
                         len(b.times) if b else 0, f"{t.bytes / 1024:.0f} KiB"])
    sizes = [[r.backend, r.info.get("rows_users", "?"), r.info.get("rows_output_records", "?"),
              r.info.get("rows_model_calls", "?"), r.info.get("rows_lab_feedback", "?"),
              r.info.get("generation_seconds", "?"), r.info.get("index_seconds", "?"),
              f"{r.rollup_seconds:.1f}"] for r in runs]
    return "\n".join([
        "## Lab dashboards",
        "",
        f"`python -m bench --only lab` on {info['date']}, {info['cpu']}, {info['cores']} cores, "
        f"{info['ram']} RAM; load average (1 min) {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after (the machine is shared). The page `/lab/dashboards` is "
        "requested through the application (TestClient: route, figures, charts, template) "
        f"as an innovation lead; {options.requests} requests per filter set after a warm-up. "
        "Baseline, same run, same data: the same page with `lab_rollups=false`, i.e. the "
        "direct GROUP BY queries over the raw tables that the dashboards used before the "
        f"rollups ({options.baseline_requests} requests each).",
        "",
        table(["database", "users", "output records", "model calls", "feedback",
               "generation s", "of which indexes s", "rollup rebuild s"], sizes),
        "",
        table(["database", "filters", "p50 ms", "p95 ms", "requests", "baseline p50 ms",
               "baseline p95 ms", "baseline requests", "page size"], rows),
    ])
