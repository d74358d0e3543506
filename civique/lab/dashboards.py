"""The Lab's dashboards: adoption, usage, time saved, satisfaction, errors and cost.

Pure queries: every figure is aggregated by the database (GROUP BY), filtered by period, unit,
tool and model, and any cell computed from fewer distinct people than the minimum group size is
hidden here (its value is None), so no page or export can show it: the Lab measures uses, not
individuals' productivity. Weeks are ISO weeks (Monday to Sunday, UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, Select, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from civique.auth.models import User
from civique.errors import NotFound, UserError
from civique.lab.feedback import PROBLEMS
from civique.lab.feedback_models import LabFeedback
from civique.llm.models import ModelCall, OutputRecord
from civique.orgs.models import Unit

AnySelect = Select[*tuple[Any, ...]]  # a select of any columns
DEFAULT_WEEKS = 12  # without a period, the last twelve weeks: fast at scale, and recent


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


@dataclass(frozen=True)
class Filters:
    """What the figures are restricted to (dates inclusive, in UTC)."""

    start: date
    end: date
    unit_id: int | None = None
    tool: str | None = None
    model: str | None = None
    # Hook for the challenges: a select of user ids (a challenge's participants) the figures
    # are restricted to.
    users: Select[tuple[int]] | None = None

    def since(self) -> datetime:
        """First instant of the period."""
        return datetime.combine(self.start, time(), UTC)

    def until(self) -> datetime:
        """First instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)


def _date(value: str | None) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError("lab_dashboard_date") from None


def make_filters(
    session: Session,
    actor: User,
    start: str | None = None,
    end: str | None = None,
    unit_id: int | None = None,
    tool: str | None = None,
    model: str | None = None,
    today: date | None = None,
) -> Filters:
    """Checked filters: dates (default: the last twelve weeks), a unit of the actor's org."""
    first, last = _date(start), _date(end)
    last = last or (today or datetime.now(UTC).date())
    first = first or last - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)
    if first > last:
        raise UserError("lab_dashboard_period")
    if unit_id is not None:
        unit = session.get(Unit, unit_id)
        if unit is None or unit.org_id != actor.org_id:
            raise NotFound()
    return Filters(
        first, last, unit_id, (tool or "").strip() or None, (model or "").strip() or None
    )


# Results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekRow:
    """Active people (who made at least one output) in a week, in a unit or in all."""

    week: date
    unit: str | None
    users: int | None  # None: fewer people than the minimum group

    @property
    def label(self) -> str:
        """ISO week, e.g. 2026-W49."""
        year, week, _ = self.week.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class UsageRow:
    """Calls and outputs of a tool with a model, with what the calls cost."""

    tool: str
    model: str
    calls: int | None
    outputs: int | None
    tokens_in: int | None
    tokens_out: int | None
    energy_wh: float | None


@dataclass(frozen=True)
class TimeRow:
    """Minutes saved per tool (None: all tools), from the ratings that gave a number."""

    tool: str | None
    ratings: int | None
    total_minutes: int | None
    mean_minutes: float | None
    mean_without_ai: float | None
    ratings_without_ai: int | None


@dataclass(frozen=True)
class SatisfactionRow:
    """Satisfaction marks of a tool (None: all tools)."""

    tool: str | None
    ratings: int | None
    mean: float | None


@dataclass(frozen=True)
class MarkRow:
    """How many ratings gave this mark."""

    mark: int
    ratings: int | None


@dataclass(frozen=True)
class ErrorRow:
    """Share of a tool and model's feedback reporting each problem (0 to 1)."""

    tool: str
    model: str
    feedback: int | None
    shares: dict[str, float] | None


@dataclass
class Dashboard:
    """Every figure for one set of filters."""

    filters: Filters
    minimum: int
    adoption: list[WeekRow] = field(default_factory=list)
    adoption_by_unit: list[WeekRow] = field(default_factory=list)
    usage: list[UsageRow] = field(default_factory=list)
    time_saved: list[TimeRow] = field(default_factory=list)
    satisfaction: list[SatisfactionRow] = field(default_factory=list)
    distribution: list[MarkRow] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No output at all in the period: the page shows an empty state."""
        return not self.adoption and not self.usage


def _shown(value: Any, users: int, minimum: int) -> Any:
    """The value, or None when fewer than `minimum` distinct people are behind it."""
    return value if users >= minimum else None


# Queries ---------------------------------------------------------------------------------------


def _output_conditions(actor: User, f: Filters) -> list[ColumnElement[bool]]:
    conditions = [
        OutputRecord.org_id == actor.org_id,
        OutputRecord.created_at >= f.since(),
        OutputRecord.created_at < f.until(),
    ]
    if f.unit_id is not None:
        conditions.append(OutputRecord.unit_id == f.unit_id)
    if f.tool:
        conditions.append(OutputRecord.tool == f.tool)
    if f.model:
        conditions.append(OutputRecord.model_id == f.model)
    if f.users is not None:
        conditions.append(OutputRecord.user_id.in_(f.users))
    return conditions


def _by_person(inner: AnySelect, keys: int) -> AnySelect:
    """Roll up an inner query grouped by (keys..., user_id, then aggregates): one row per key
    with the number of people, then for each aggregate its sum and how many people have it
    above zero. Two GROUP BY levels instead of COUNT(DISTINCT): both databases hash them, which
    is much faster on millions of rows. Rows of deleted users (no user id) are no one."""
    sub = inner.subquery()
    columns = list(sub.columns)
    key_cols, person, rest = columns[:keys], columns[keys], columns[keys + 1 :]
    outer: list[Any] = [func.count(person)]
    for column in rest:
        outer += [func.sum(column), func.count(case((column > 0, person)))]
    stmt = select(*key_cols, *outer)
    return stmt.group_by(*key_cols).order_by(*key_cols) if key_cols else stmt


def _unit_names(session: Session, actor: User) -> dict[int | None, str | None]:
    rows = session.execute(select(Unit.id, Unit.name).where(Unit.org_id == actor.org_id))
    return {None: None, **{unit_id: name for unit_id, name in rows}}


def adoption(session: Session, actor: User, f: Filters, minimum: int) -> list[WeekRow]:
    """Active people per ISO week, all units together."""
    week = week_start(OutputRecord.created_at)
    inner = (
        select(week, OutputRecord.user_id)
        .where(*_output_conditions(actor, f))
        .group_by(week, OutputRecord.user_id)
    )
    rows = session.execute(_by_person(inner, 1))
    return [WeekRow(w, None, _shown(n, n, minimum)) for w, n in rows if n]


def adoption_by_unit(session: Session, actor: User, f: Filters, minimum: int) -> list[WeekRow]:
    """Active people per ISO week and unit (the unit the output was made in)."""
    week = week_start(OutputRecord.created_at)
    inner = (
        select(week, OutputRecord.unit_id, OutputRecord.user_id)
        .where(*_output_conditions(actor, f))
        .group_by(week, OutputRecord.unit_id, OutputRecord.user_id)
    )
    names = _unit_names(session, actor)
    rows = [
        WeekRow(w, names.get(unit_id), _shown(n, n, minimum))
        for w, unit_id, n in session.execute(_by_person(inner, 2))
        if n
    ]
    return sorted(rows, key=lambda r: (r.week, r.unit or ""))


def _calls(session: Session, actor: User, f: Filters) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Per (tool, model): people, calls, tokens in and out, energy. Model calls have no unit:
    the unit filter uses the caller's current unit."""
    inner = (
        select(
            ModelCall.tool,
            ModelCall.model_id,
            ModelCall.user_id,
            func.count(),
            func.sum(ModelCall.tokens_in),
            func.sum(ModelCall.tokens_out),
            func.sum(ModelCall.energy_wh),
        )
        .where(
            ModelCall.org_id == actor.org_id,
            ModelCall.created_at >= f.since(),
            ModelCall.created_at < f.until(),
        )
        .group_by(ModelCall.tool, ModelCall.model_id, ModelCall.user_id)
    )
    if f.unit_id is not None:
        inner = inner.join(User, User.id == ModelCall.user_id).where(User.unit_id == f.unit_id)
    if f.tool:
        inner = inner.where(ModelCall.tool == f.tool)
    if f.model:
        inner = inner.where(ModelCall.model_id == f.model)
    if f.users is not None:
        inner = inner.where(ModelCall.user_id.in_(f.users))
    found = {}
    for tool, model, people, calls, _, t_in, _, t_out, _, wh, _ in session.execute(
        _by_person(inner, 2)
    ):
        found[(tool, model)] = (people, calls, t_in, t_out, wh)
    return found


def usage(session: Session, actor: User, f: Filters, minimum: int) -> list[UsageRow]:
    """Calls, outputs and cost per tool and model, most outputs first."""
    inner = (
        select(OutputRecord.tool, OutputRecord.model_id, OutputRecord.user_id, func.count())
        .where(*_output_conditions(actor, f))
        .group_by(OutputRecord.tool, OutputRecord.model_id, OutputRecord.user_id)
    )
    outputs = {(t, m): (people, n) for t, m, people, n, _ in session.execute(_by_person(inner, 2))}
    calls = _calls(session, actor, f)
    rows = []
    for key in sorted(set(outputs) | set(calls)):
        out_people, n_out = outputs.get(key, (0, 0))
        people, n_calls, t_in, t_out, wh = calls.get(key, (0, 0, 0, 0, 0.0))
        rows.append(
            UsageRow(
                tool=key[0],
                model=key[1],
                calls=_shown(int(n_calls or 0), people, minimum),
                outputs=_shown(int(n_out or 0), out_people, minimum),
                tokens_in=_shown(int(t_in or 0), people, minimum),
                tokens_out=_shown(int(t_out or 0), people, minimum),
                energy_wh=_shown(round(float(wh or 0.0), 3), people, minimum),
            )
        )
    rows.sort(key=lambda r: (-(r.outputs or 0), -(r.calls or 0), r.tool, r.model))
    return rows


def _feedback_base(actor: User, f: Filters, *columns: Any) -> AnySelect:
    return (
        select(*columns)
        .select_from(LabFeedback)
        .join(OutputRecord, OutputRecord.id == LabFeedback.output_id)
        .where(LabFeedback.org_id == actor.org_id, *_output_conditions(actor, f))
    )


@dataclass(frozen=True)
class _Stat:
    """How many ratings gave a number, from how many people, and their sum."""

    ratings: int
    people: int
    total: float

    def mean(self, digits: int) -> float | None:
        return round(self.total / self.ratings, digits) if self.ratings else None


@dataclass(frozen=True)
class FeedbackStats:
    """Minutes saved, minutes without AI and satisfaction of one tool (None: all tools)."""

    tool: str | None
    minutes: _Stat
    without: _Stat
    satisfaction: _Stat


def feedback_stats(session: Session, actor: User, f: Filters) -> list[FeedbackStats]:
    """Per tool, then all tools together (the last row): the numbers time saved and
    satisfaction are made of (two queries)."""
    numbers = (LabFeedback.minutes_saved, LabFeedback.minutes_without_ai, LabFeedback.satisfaction)
    aggregates = [agg for col in numbers for agg in (func.count(col), func.sum(col))]
    per_tool = _feedback_base(actor, f, OutputRecord.tool, LabFeedback.user_id, *aggregates)
    per_tool = per_tool.group_by(OutputRecord.tool, LabFeedback.user_id)
    total = _feedback_base(actor, f, LabFeedback.user_id, *aggregates).group_by(LabFeedback.user_id)
    rows = [tuple(r) for r in session.execute(_by_person(per_tool, 1))]
    rows += [(None, *r) for r in session.execute(_by_person(total, 0)) if r[0]]
    out = []
    for tool, _people, *cells in rows:
        stats = [
            _Stat(int(cells[i] or 0), int(cells[i + 1] or 0), float(cells[i + 2] or 0))
            for i in (0, 4, 8)  # (count sum, count people, total sum, total people) each
        ]
        out.append(FeedbackStats(tool, *stats))
    return out


def time_saved(stats: list[FeedbackStats], minimum: int) -> list[TimeRow]:
    """Minutes saved per tool, then all tools together (the last row)."""
    return [
        TimeRow(
            tool=s.tool,
            ratings=_shown(s.minutes.ratings, s.minutes.people, minimum),
            total_minutes=_shown(int(s.minutes.total), s.minutes.people, minimum),
            mean_minutes=_shown(s.minutes.mean(1), s.minutes.people, minimum),
            mean_without_ai=_shown(s.without.mean(1), s.without.people, minimum),
            ratings_without_ai=_shown(s.without.ratings, s.without.people, minimum),
        )
        for s in stats
        if s.minutes.ratings or s.without.ratings
    ]


def satisfaction(stats: list[FeedbackStats], minimum: int) -> list[SatisfactionRow]:
    """Mean satisfaction per tool, then all tools together (the last row)."""
    return [
        SatisfactionRow(
            s.tool,
            _shown(s.satisfaction.ratings, s.satisfaction.people, minimum),
            _shown(s.satisfaction.mean(2), s.satisfaction.people, minimum),
        )
        for s in stats
        if s.satisfaction.ratings
    ]


def distribution(session: Session, actor: User, f: Filters, minimum: int) -> list[MarkRow]:
    """How many ratings gave each mark from 1 to 5 (each mark its own group of people)."""
    inner = (
        _feedback_base(actor, f, LabFeedback.satisfaction, LabFeedback.user_id, func.count())
        .where(LabFeedback.satisfaction.is_not(None))
        .group_by(LabFeedback.satisfaction, LabFeedback.user_id)
    )
    found = {mark: (int(n), people) for mark, people, n, _ in session.execute(_by_person(inner, 1))}
    if not found:
        return []
    return [
        MarkRow(m, _shown(found[m][0], found[m][1], minimum) if m in found else 0)
        for m in range(1, 6)
    ]


def errors(session: Session, actor: User, f: Filters, minimum: int) -> list[ErrorRow]:
    """Per tool and model: how much feedback, and the share of it reporting each problem."""
    counts = [
        func.sum(case((LabFeedback.problem_flags.op("&")(bit) != 0, 1), else_=0))
        for bit in PROBLEMS.values()
    ]
    keys = (OutputRecord.tool, OutputRecord.model_id)
    inner = _feedback_base(actor, f, *keys, LabFeedback.user_id, func.count(), *counts)
    inner = inner.group_by(*keys, LabFeedback.user_id)
    out = []
    for tool, model, people, *cells in session.execute(_by_person(inner, 2)):
        n = int(cells[0] or 0)
        found = [int(c or 0) for c in cells[2::2]]  # each problem's sum (its people skipped)
        shares = {code: round(c / n, 4) for code, c in zip(PROBLEMS, found, strict=True)}
        out.append(
            ErrorRow(tool, model, _shown(n, people, minimum), _shown(shares, people, minimum))
        )
    return out


def dashboard(session: Session, actor: User, f: Filters, minimum: int) -> Dashboard:
    """Every figure for these filters (the actor's organisation only)."""
    stats = feedback_stats(session, actor, f)
    return Dashboard(
        filters=f,
        minimum=minimum,
        adoption=adoption(session, actor, f, minimum),
        adoption_by_unit=adoption_by_unit(session, actor, f, minimum),
        usage=usage(session, actor, f, minimum),
        time_saved=time_saved(stats, minimum),
        satisfaction=satisfaction(stats, minimum),
        distribution=distribution(session, actor, f, minimum),
        errors=errors(session, actor, f, minimum),
    )


def choices(
    session: Session, actor: User, dash: Dashboard | None
) -> tuple[list[Unit], list[str], list[str]]:
    """Units, and the tools and models used in the period, to offer in the filters."""
    units = list(
        session.scalars(select(Unit).where(Unit.org_id == actor.org_id).order_by(Unit.name))
    )
    if dash is None:
        return units, [], []
    f = dash.filters
    tools = {r.tool for r in dash.usage} | ({f.tool} if f.tool else set())
    models = {r.model for r in dash.usage} | ({f.model} if f.model else set())
    return units, sorted(tools), sorted(models)
