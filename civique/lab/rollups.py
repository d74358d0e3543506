"""Weekly rollups of outputs, model calls and feedback, for the dashboards at scale.

Each closed ISO week of an organisation is summed once into three tables with one row per
person and cell (week, unit, tool, model, user): the minimum-group rule counts distinct people,
so the person must stay in the grain. `lab_rollup_weeks` lists the weeks whose rows are current;
the dashboards read those weeks from the rollups and every other day of the period (the current
week, a period starting or ending mid-week, a week not yet rolled up or invalidated) from the raw
tables, so the figures are exactly those of the raw tables. Feedback on an output of a rolled-up
week, and an erased account, invalidate the weeks concerned (`invalidate`); `refresh` (a
periodic job, and `civique lab rollup`) rolls up whatever closed week is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Integer,
    Select,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from civique.lab.feedback import PROBLEMS
from civique.lab.feedback_models import LabFeedback
from civique.lab.rollup_models import (
    MARK_COLUMNS,
    PROBLEM_COLUMNS,
    LabCallsWeekly,
    LabFeedbackWeekly,
    LabOutputsWeekly,
    LabRollupWeek,
)
from civique.llm.models import ModelCall, OutputRecord

AnySelect = Select[*tuple[Any, ...]]
Ranges = Sequence[tuple[datetime, datetime]]  # [since, until) instants


class week_start(FunctionElement[date]):
    """The Monday (UTC) of a timestamp's ISO week, on SQLite and PostgreSQL."""

    type = Date()
    inherit_cache = True


@compiles(week_start, "sqlite")
def _week_sqlite(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    # 'weekday 0' moves forward to the Sunday ending the ISO week (or stays on a Sunday).
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_pg(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('week', {inner} AT TIME ZONE 'UTC') AS DATE)"


def monday(day: date) -> date:
    """The Monday of a day's ISO week."""
    return day - timedelta(days=day.weekday())


def instant(day: date) -> datetime:
    """Midnight UTC at the start of a day."""
    return datetime.combine(day, time(), UTC)


def in_ranges(column: Any, ranges: Ranges) -> ColumnElement[bool]:
    """`column` within one of the ranges (false for none)."""
    if not ranges:
        return false()
    return or_(*[and_(column >= since, column < until) for since, until in ranges])


# The raw tables summed to the rollups' grain (the rollups are built from these, and the
# dashboards read the days not rolled up through them).


def raw_outputs(org_id: int, ranges: Ranges) -> AnySelect:
    """Outputs per week, unit, tool, model and user."""
    week = week_start(OutputRecord.created_at).label("week")
    keys = (week, OutputRecord.unit_id, OutputRecord.tool, OutputRecord.model_id,
            OutputRecord.user_id)
    return (
        select(*keys, func.count().label("outputs"))
        .where(OutputRecord.org_id == org_id, in_ranges(OutputRecord.created_at, ranges))
        .group_by(*keys)
    )


def raw_calls(org_id: int, ranges: Ranges) -> AnySelect:
    """Calls, tokens and energy per week, tool, model and user."""
    week = week_start(ModelCall.created_at).label("week")
    keys = (week, ModelCall.tool, ModelCall.model_id, ModelCall.user_id)
    return (
        select(
            *keys,
            func.count().label("calls"),
            func.coalesce(func.sum(ModelCall.tokens_in), 0).label("tokens_in"),
            func.coalesce(func.sum(ModelCall.tokens_out), 0).label("tokens_out"),
            func.coalesce(func.sum(ModelCall.energy_wh), 0.0).label("energy_wh"),
        )
        .where(ModelCall.org_id == org_id, in_ranges(ModelCall.created_at, ranges))
        .group_by(*keys)
    )


FEEDBACK_VALUES = ("feedback", "minutes_n", "minutes_sum", "without_n", "without_sum",
                   "satisfaction_n", "satisfaction_sum", *MARK_COLUMNS, *PROBLEM_COLUMNS)


def _count_sum(column: Any) -> list[Any]:
    return [func.count(column), func.coalesce(func.sum(column), 0)]


def raw_feedback(org_id: int, ranges: Ranges) -> AnySelect:
    """Feedback counts and sums per output week, unit, tool, model, author and rater."""
    week = week_start(OutputRecord.created_at).label("week")
    keys = (week, OutputRecord.unit_id, OutputRecord.tool, OutputRecord.model_id,
            OutputRecord.user_id.label("output_user_id"), LabFeedback.user_id)
    marks = [func.sum(case((LabFeedback.satisfaction == m, 1), else_=0)) for m in range(1, 6)]
    problems = [func.sum(case((LabFeedback.problem_flags.op("&")(bit) != 0, 1), else_=0))
                for bit in PROBLEMS.values()]
    values = [
        func.count(),
        *_count_sum(LabFeedback.minutes_saved),
        *_count_sum(LabFeedback.minutes_without_ai),
        *_count_sum(LabFeedback.satisfaction),
        *marks,
        *problems,
    ]
    return (
        select(*keys, *[v.label(n) for v, n in zip(values, FEEDBACK_VALUES, strict=True)])
        .select_from(LabFeedback)
        .join(OutputRecord, OutputRecord.id == LabFeedback.output_id)
        .where(
            LabFeedback.org_id == org_id,
            OutputRecord.org_id == org_id,
            in_ranges(OutputRecord.created_at, ranges),
        )
        .group_by(*keys)
    )


_TARGETS: list[tuple[Any, Any, tuple[str, ...]]] = [
    (LabOutputsWeekly, raw_outputs, ("week", "unit_id", "tool", "model_id", "user_id",
                                     "outputs")),
    (LabCallsWeekly, raw_calls, ("week", "tool", "model_id", "user_id", "calls", "tokens_in",
                                 "tokens_out", "energy_wh")),
    (LabFeedbackWeekly, raw_feedback, ("week", "unit_id", "tool", "model_id", "output_user_id",
                                       "user_id", *FEEDBACK_VALUES)),
]


# Building and keeping the rollups --------------------------------------------------------------


def roll_up(conn: Connection | Session, org_id: int, weeks: Sequence[date]) -> None:
    """(Re)build the rows of these closed weeks (Mondays) of one organisation, and mark them
    current. The caller commits."""
    if not weeks:
        return
    ranges = [(instant(w), instant(w + timedelta(weeks=1))) for w in sorted(set(weeks))]
    for model, raw, columns in _TARGETS:
        conn.execute(delete(model).where(model.org_id == org_id, model.week.in_(weeks)))
        source = raw(org_id, ranges).subquery()
        target = [getattr(model, c) for c in ("org_id", *columns)]
        conn.execute(insert(model).from_select(
            target, select(literal(org_id, Integer), *source.columns)))
    conn.execute(delete(LabRollupWeek).where(LabRollupWeek.org_id == org_id,
                                             LabRollupWeek.week.in_(weeks)))
    conn.execute(insert(LabRollupWeek), [{"org_id": org_id, "week": w, "built_at":
                                          datetime.now(UTC)} for w in sorted(set(weeks))])


def missing_weeks(conn: Connection | Session, org_id: int, today: date) -> list[date]:
    """Closed weeks of an organisation (from its first output or call) not rolled up."""
    first = conn.execute(select(func.min(ModelCall.created_at))
                         .where(ModelCall.org_id == org_id)).scalar()
    if first is None:
        return []
    start = monday(first.date() if isinstance(first, datetime) else date.fromisoformat(
        str(first)[:10]))
    done = set(conn.execute(select(LabRollupWeek.week)
                            .where(LabRollupWeek.org_id == org_id)).scalars())
    current = monday(today)
    count = (current - start).days // 7
    return [w for w in (start + timedelta(weeks=i) for i in range(count)) if w not in done]


def refresh(conn: Connection | Session, today: date | None = None,
            org_ids: Sequence[int] | None = None) -> int:
    """Roll up every closed week missing (new, or invalidated); returns how many weeks."""
    from civique.orgs.models import Organisation

    day = today or datetime.now(UTC).date()
    orgs = org_ids if org_ids is not None else list(
        conn.execute(select(Organisation.id)).scalars())
    done = 0
    for org_id in orgs:
        weeks = missing_weeks(conn, org_id, day)
        for i in range(0, len(weeks), 4):  # a few weeks per statement: bounded memory
            roll_up(conn, org_id, weeks[i : i + 4])
        done += len(weeks)
    return done


def rebuild(conn: Connection | Session, today: date | None = None) -> int:
    """Forget every rollup and build them again (`civique lab rollup --all`)."""
    tables = (LabOutputsWeekly, LabCallsWeekly, LabFeedbackWeekly, LabRollupWeek)
    for model in tables:
        conn.execute(delete(model))
    done = refresh(conn, today)
    for model in tables:  # fresh statistics, or the planner takes the new rows for none
        conn.execute(text(f"ANALYZE {model.__tablename__}"))
    return done


def vacuum(engine: Engine) -> None:
    """VACUUM ANALYZE the rollups on PostgreSQL after a rebuild (autovacuum would, later):
    index-only scans need the visibility map."""
    if engine.dialect.name != "postgresql":
        return
    names = ", ".join(m.__tablename__ for m in (LabOutputsWeekly, LabCallsWeekly,
                                                 LabFeedbackWeekly, LabRollupWeek))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM ANALYZE {names}"))


def invalidate(session: Session, org_id: int, week: date | None = None) -> None:
    """Read this week (None: every week) of the organisation from the raw tables again until
    the next refresh: its rollup rows are out of date. The caller commits."""
    stmt = delete(LabRollupWeek).where(LabRollupWeek.org_id == org_id)
    if week is not None:
        stmt = stmt.where(LabRollupWeek.week == week)
    session.execute(stmt)


def covered(session: Session, org_id: int, start: date, end: date) -> list[date]:
    """The rolled-up weeks lying wholly within [start, end]."""
    rows = session.execute(
        select(LabRollupWeek.week).where(
            LabRollupWeek.org_id == org_id,
            LabRollupWeek.week >= start,
            LabRollupWeek.week <= end - timedelta(days=6),
        )
    )
    return sorted(rows.scalars())


def live_ranges(start: date, end: date, weeks: Sequence[date]) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end] (days, inclusive) outside the given whole weeks."""
    out: list[tuple[datetime, datetime]] = []
    cursor = start
    for w in sorted(weeks):
        if w > cursor:
            out.append((instant(cursor), instant(w)))
        cursor = max(cursor, w + timedelta(weeks=1))
    if cursor <= end:
        out.append((instant(cursor), instant(end + timedelta(days=1))))
    return out
