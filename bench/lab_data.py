"""Synthetic Lab data for the dashboard benchmark: organisations, units, users, a year of
output records with their model calls, and feedback, bulk-loaded into the product's tables.

Deterministic (one seed): users join over the year and some use Civique far more than others;
weekly volume grows fourfold; each agent has a favourite tool; models have shares per tool and a
new model arrives in the second half. A second organisation adds 5 % noise that no figure of the
first may count. Rows are streamed in batches (never the whole year in memory).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Index, Table, insert, select, text, update

from civique.auth.models import User
from civique.auth.service import create_user
from civique.db.base import Base
from civique.db.engine import make_session_factory
from civique.lab.feedback import PROBLEMS
from civique.lab.feedback_models import LabFeedback
from civique.llm.models import ModelCall, OutputRecord
from civique.orgs.models import Unit
from civique.orgs.service import create_organisation

LEAD_EMAIL = "lead@lab-bench.test"
TOOLS = {"chat": 45, "letters": 15, "plain_language": 10, "translation": 8, "deliberation": 7,
         "minutes": 5, "forms": 4, "consultation": 3, "documents": 3}
MODELS = {"embedded/qwen2.5-1.5b": 50, "albert/albert-large": 30, "vllm/mistral-small": 15,
          "openai/gpt-4o-mini": 5}
NEW_MODEL = "albert/albert-large-2"  # from the second half of the year
BIG_TABLES: tuple[Table, ...] = tuple(
    cast(Table, model.__table__) for model in (OutputRecord, ModelCall, LabFeedback)
)
CALL_COLUMNS = ("id", "org_id", "user_id", "tool", "kind", "model_id", "channel", "status",
                "error", "tokens_in", "tokens_out", "latency_ms", "first_token_ms", "energy_wh",
                "created_at")
OUTPUT_COLUMNS = ("id", "org_id", "user_id", "call_id", "tool", "model_id", "model_version",
                  "prompt_template", "prompt_template_version", "input", "output", "status",
                  "unit_id", "validation", "created_at")
FEEDBACK_COLUMNS = ("id", "org_id", "output_id", "user_id", "helped", "minutes_saved",
                    "minutes_without_ai", "satisfaction", "problems", "problem_flags", "comment",
                    "usage", "updated_at", "created_at")
_INPUT = json.dumps([{"role": "user", "content": "Rédige une réponse au courrier."}])


@dataclass(frozen=True)
class Sizes:
    """How much to generate."""

    users: int = 20_000
    outputs: int = 2_000_000
    feedback: int = 200_000
    units: int = 40
    weeks: int = 52
    seed: int = 7


@dataclass
class Person:
    """A generated agent: id, unit at the time of their outputs, weight, first active week."""

    id: int
    org_id: int
    unit_id: int
    weight: float
    start: int
    tool: str


@dataclass
class Batch:
    """Rows of the three big tables, in column order."""

    calls: list[tuple[Any, ...]]
    outputs: list[tuple[Any, ...]]
    feedback: list[tuple[Any, ...]]


def last_monday(today: date | None = None) -> date:
    """The Monday of the current ISO week: the data's last week is this one."""
    day = today or datetime.now(UTC).date()
    return day - timedelta(days=day.weekday())


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _model(rng: random.Random, week: int, weeks: int) -> str:
    if week >= weeks // 2 and rng.random() < 0.25:
        return NEW_MODEL
    return _weighted(rng, MODELS)


def _org_people(engine: Engine, org_id: int, units: int, users: int, rng: random.Random,
                weeks: int) -> list[Person]:
    """Insert the units and users of one organisation (Core, in one transaction)."""
    with engine.begin() as conn:
        unit_ids = [
            conn.execute(insert(Unit).values(org_id=org_id, name=f"Service {i + 1:02d}",
                                             created_at=datetime.now(UTC))
                         .returning(Unit.id)).scalar_one()
            for i in range(units)
        ]
        sizes = [1 / (i + 1) ** 0.7 for i in range(units)]  # a few big units, many small ones
        rows, people = [], []
        first = (conn.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0) + 1
        for n in range(users):
            unit = rng.choices(unit_ids, sizes)[0]
            rows.append({"id": first + n, "org_id": org_id, "unit_id": unit,
                         "email": f"agent{first + n}@org{org_id}.test", "name": f"Agent {n}",
                         "role": "agent", "active": True, "session_epoch": 0,
                         "created_at": datetime.now(UTC)})
            never = rng.random() < 0.25  # a quarter of the staff never use it
            start = 0 if rng.random() < 0.3 else rng.randrange(max(1, weeks - 6))
            people.append(Person(first + n, org_id, unit, 0.0 if never else
                                 rng.lognormvariate(0, 1.2), start, _weighted(rng, TOOLS)))
        conn.execute(insert(User), rows)
    return people


def people(engine: Engine, sizes: Sizes) -> tuple[list[Person], int]:
    """Both organisations with their units, users and the innovation lead; returns the
    people and the lead's id."""
    from civique.auth.passwords import hash_password

    rng = random.Random(sizes.seed)
    with make_session_factory(engine)() as session:
        orgs = [create_organisation(session, None, slug, name, ["fake/echo"])
                for slug, name in (("canton", "Canton"), ("voisins", "Commune voisine"))]
        lead = create_user(session, orgs[0].id, LEAD_EMAIL, "Innovation lead", "innovation_lead")
        lead.password_hash = hash_password(LEAD_PASSWORD)
        session.commit()
        org_ids, lead_id = [o.id for o in orgs], lead.id
    main = _org_people(engine, org_ids[0], sizes.units, sizes.users, rng, sizes.weeks)
    noise = _org_people(engine, org_ids[1], max(1, sizes.units // 8), max(10, sizes.users // 20),
                        rng, sizes.weeks)
    return main + noise, lead_id


LEAD_PASSWORD = "lab bench lead password"


def _moment(rng: random.Random, monday: date) -> datetime:
    day = rng.choices(range(7), (22, 22, 21, 20, 13, 1, 1))[0]
    return datetime.combine(monday + timedelta(days=day), datetime.min.time(), UTC) + timedelta(
        seconds=rng.randrange(7 * 3600, 19 * 3600))


def _feedback_row(rng: random.Random, fid: int, oid: int, person: Person,
                  at: datetime) -> tuple[Any, ...]:
    helped = rng.random() < 0.72
    minutes = rng.choice((0, 5, 10, 15, 20, 30, 45, 60)) if rng.random() < 0.7 else None
    without = rng.choice((15, 30, 60, 90, 120)) if rng.random() < 0.3 else None
    mark = rng.choices((1, 2, 3, 4, 5), (4, 8, 20, 40, 28))[0] if rng.random() < 0.85 else None
    problems = [p for p, share in zip(PROBLEMS, (0.08, 0.05, 0.06, 0.02, 0.01, 0.03), strict=False)
                if rng.random() < share]
    flags = sum(PROBLEMS[p] for p in problems)
    later = at + timedelta(hours=rng.randrange(1, 72))
    return (fid, person.org_id, oid, person.id, helped, minutes, without, mark,
            json.dumps(problems), flags, "", rng.choice(("as_is", "edited", "discarded", None)),
            later, later)


def _week_counts(sizes: Sizes, total: int) -> list[int]:
    growth = [1 + 3 * k / max(1, sizes.weeks - 1) for k in range(sizes.weeks)]
    scale = total / sum(growth)
    counts = [int(g * scale) for g in growth]
    counts[-1] += total - sum(counts)
    return counts


def batches(people: list[Person], sizes: Sizes, first_monday: date) -> Iterator[Batch]:
    """One batch of rows per week: outputs with their calls, embedding calls, feedback."""
    rng = random.Random(sizes.seed + 1)
    by_org: dict[int, list[Person]] = {}
    for p in people:
        by_org.setdefault(p.org_id, []).append(p)
    orgs = sorted(by_org)
    noise = sizes.outputs // 20
    counts = {orgs[0]: _week_counts(sizes, sizes.outputs - noise),
              orgs[1]: _week_counts(sizes, noise)}
    chosen = set(rng.sample(range(sizes.outputs), min(sizes.feedback, sizes.outputs)))
    next_output, next_call, next_feedback = 1, 1, 1
    for week in range(sizes.weeks):
        monday = first_monday + timedelta(weeks=week)
        batch = Batch([], [], [])
        for org_id in orgs:
            pool = [p for p in by_org[org_id] if p.start <= week and p.weight > 0]
            weights = [p.weight for p in pool]
            for person in rng.choices(pool, weights, k=counts[org_id][week]) if pool else []:
                tool = person.tool if rng.random() < 0.6 else _weighted(rng, TOOLS)
                model, at = _model(rng, week, sizes.weeks), _moment(rng, monday)
                user = None if rng.random() < 0.005 else person.id  # erased accounts
                t_in, t_out = rng.randrange(200, 3000), rng.randrange(100, 800)
                wh = round(0.3 * (t_in + t_out) / 1000, 4)
                batch.calls.append((next_call, org_id, user, tool, "chat", model, "web", "ok",
                                    None, t_in, t_out, rng.randrange(800, 9000), 300, wh, at))
                batch.outputs.append((next_output, org_id, user, next_call, tool, model, "1",
                                      f"{tool}.default", "1", _INPUT, "Réponse.", "ok",
                                      person.unit_id, "not_required", at))
                if next_output - 1 in chosen and user is not None:
                    batch.feedback.append(_feedback_row(rng, next_feedback, next_output,
                                                        person, at))
                    next_feedback += 1
                next_output, next_call = next_output + 1, next_call + 1
                if rng.random() < 0.05:  # a search embedding without an output
                    batch.calls.append((next_call, org_id, user, "documents", "embedding",
                                        "embedded/e5-small", "web", "ok", None, 40, 0, 30,
                                        None, 0.001, at))
                    next_call += 1
        yield batch


def move_some_users(engine: Engine, people: list[Person], seed: int) -> None:
    """2 % of agents moved to another unit after their outputs (calls follow the current one)."""
    rng = random.Random(seed + 2)
    with engine.begin() as conn:
        units = [u for (u,) in conn.execute(select(Unit.id))]
        for person in people:
            if rng.random() < 0.02:
                conn.execute(update(User).where(User.id == person.id)
                             .values(unit_id=rng.choice(units)))


def _indexes() -> list[Index]:
    return [index for table in BIG_TABLES for index in table.indexes]


def create_schema(engine: Engine) -> None:
    """Every table of the product, without the big tables' secondary indexes (built after)."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        for index in _indexes():
            index.drop(conn)


def create_indexes(engine: Engine) -> float:
    """Build the big tables' indexes after the load, then ANALYZE; returns seconds."""
    started = time.perf_counter()
    with engine.begin() as conn:
        for index in _indexes():
            index.create(conn)
        conn.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":  # index-only scans need the visibility map
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM"))
    return time.perf_counter() - started


def load_sqlite(engine: Engine, rows: Iterator[Batch]) -> None:
    """executemany in one transaction per week, through the product's pysqlite3 engine."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        for batch in rows:
            cursor.execute("BEGIN")
            for table, columns, values in _tables(batch, sqlite=True):
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
            cursor.execute("COMMIT")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite DateTime format (naive UTC text).
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _tables(batch: Batch, sqlite: bool) -> Iterator[tuple[str, tuple[str, ...], list[Any]]]:
    calls, outputs, feedback = batch.calls, batch.outputs, batch.feedback
    if sqlite:
        calls = [(*r[:-1], _sqlite_time(r[-1])) for r in calls]
        outputs = [(*r[:-1], _sqlite_time(r[-1])) for r in outputs]
        feedback = [(*r[:-2], _sqlite_time(r[-2]), _sqlite_time(r[-1])) for r in feedback]
    yield "model_calls", CALL_COLUMNS, calls
    yield "output_records", OUTPUT_COLUMNS, outputs
    yield "lab_feedback", FEEDBACK_COLUMNS, feedback


def load_pg(engine: Engine, rows: Iterator[Batch]) -> None:
    """COPY through psycopg, foreign-key triggers off for the load (ids are consistent)."""
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        connection.execute("SET session_replication_role = replica")
        for batch in rows:
            with connection.cursor() as cursor:
                for table, columns, values in _tables(batch, sqlite=False):
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in values:
                            copy.write_row(row)
            connection.commit()
        connection.execute("SET session_replication_role = DEFAULT")
        for table in ("model_calls", "output_records", "lab_feedback"):  # serials after COPY
            connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM {table}))")
        connection.commit()
    finally:
        raw.close()
