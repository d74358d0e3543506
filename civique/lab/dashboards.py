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

from sqlalchemy import Select, case, func, select, text
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import NotFound, UserError
from civique.lab import rollups
from civique.lab.feedback import PROBLEMS
from civique.lab.rollup_models import (
    MARK_COLUMNS,
    PROBLEM_COLUMNS,
    LabCallsWeekly,
    LabFeedbackWeekly,
    LabOutputsWeekly,
)
from civique.lab.rollups import week_start as week_start  # re-exported: its old home
from civique.llm.models import ModelCall, OutputRecord
from civique.orgs.models import Unit

AnySelect = Select[*tuple[Any, ...]]  # a select of any columns
WORK_MEM = "64MB"
DEFAULT_WEEKS = 12  # without a period, the last twelve weeks: fast at scale, and recent


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
    # Read the rolled-up weeks from the rollups (False: everything from the raw tables).
    use_rollups: bool = True

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
    use_rollups: bool = True,
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
        first,
        last,
        unit_id,
        (tool or "").strip() or None,
        (model or "").strip() or None,
        use_rollups=use_rollups,
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


def _parts(session: Session, actor: User, f: Filters) -> tuple[list[date], rollups.Ranges]:
    """The rolled-up weeks of the period, and the instants read from the raw tables."""
    if not f.use_rollups:
        return [], [(f.since(), f.until())]
    weeks = rollups.covered(session, actor.org_id, f.start, f.end)
    return weeks, rollups.live_ranges(f.start, f.end, weeks)


def _restrict(stmt: AnySelect, f: Filters, unit: Any, tool: Any, model: Any,
              user: Any) -> AnySelect:
    """The filters on the given columns (unit None: not filtered by unit here)."""
    if f.unit_id is not None and unit is not None:
        stmt = stmt.where(unit == f.unit_id)
    if f.tool:
        stmt = stmt.where(tool == f.tool)
    if f.model:
        stmt = stmt.where(model == f.model)
    if f.users is not None:
        stmt = stmt.where(user.in_(f.users))
    return stmt


def _union(raw: AnySelect, rolled: AnySelect | None, name: str) -> Any:
    return (raw.union_all(rolled) if rolled is not None else raw).subquery(name)


def _outputs(session: Session, actor: User, f: Filters) -> Any:
    """Outputs per week, unit, tool, model and user over the period, filtered."""
    weeks, ranges = _parts(session, actor, f)
    o = OutputRecord
    raw = _restrict(rollups.raw_outputs(actor.org_id, ranges), f, o.unit_id, o.tool,
                    o.model_id, o.user_id)
    rolled = None
    if weeks:
        r = LabOutputsWeekly
        rolled = _restrict(
            select(r.week, r.unit_id, r.tool, r.model_id, r.user_id, r.outputs)
            .where(r.org_id == actor.org_id, r.week.in_(weeks)),
            f, r.unit_id, r.tool, r.model_id, r.user_id)
    return _union(raw, rolled, "outputs")


def _calls_source(session: Session, actor: User, f: Filters) -> Any:
    """Calls and their cost per week, tool, model and user. Model calls have no unit: the unit
    filter uses the caller's current unit."""
    weeks, ranges = _parts(session, actor, f)
    c = ModelCall
    raw = _restrict(rollups.raw_calls(actor.org_id, ranges), f, None, c.tool, c.model_id,
                    c.user_id)
    if f.unit_id is not None:
        raw = raw.join(User, User.id == c.user_id).where(User.unit_id == f.unit_id)
    rolled = None
    if weeks:
        r = LabCallsWeekly
        rolled = _restrict(
            select(r.week, r.tool, r.model_id, r.user_id, r.calls, r.tokens_in, r.tokens_out,
                   r.energy_wh).where(r.org_id == actor.org_id, r.week.in_(weeks)),
            f, None, r.tool, r.model_id, r.user_id)
        if f.unit_id is not None:
            rolled = rolled.join(User, User.id == r.user_id).where(User.unit_id == f.unit_id)
    return _union(raw, rolled, "calls")


def _feedback(session: Session, actor: User, f: Filters) -> Any:
    """Feedback counts and sums per output week, unit, tool, model, author and rater."""
    weeks, ranges = _parts(session, actor, f)
    o = OutputRecord
    raw = _restrict(rollups.raw_feedback(actor.org_id, ranges), f, o.unit_id, o.tool,
                    o.model_id, o.user_id)
    rolled = None
    if weeks:
        r = LabFeedbackWeekly
        columns = [getattr(r, n) for n in ("week", "unit_id", "tool", "model_id",
                                           "output_user_id", "user_id",
                                           *rollups.FEEDBACK_VALUES)]
        rolled = _restrict(
            select(*columns).where(r.org_id == actor.org_id, r.week.in_(weeks)),
            f, r.unit_id, r.tool, r.model_id, r.output_user_id)
    return _union(raw, rolled, "feedback")


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
    o = _outputs(session, actor, f)
    inner = select(o.c.week, o.c.user_id).group_by(o.c.week, o.c.user_id)
    rows = session.execute(_by_person(inner, 1))
    return [WeekRow(w, None, _shown(n, n, minimum)) for w, n in rows if n]


def adoption_by_unit(session: Session, actor: User, f: Filters, minimum: int) -> list[WeekRow]:
    """Active people per ISO week and unit (the unit the output was made in)."""
    o = _outputs(session, actor, f)
    keys = (o.c.week, o.c.unit_id, o.c.user_id)
    inner = select(*keys).group_by(*keys)
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
    c = _calls_source(session, actor, f)
    keys = (c.c.tool, c.c.model_id, c.c.user_id)
    sums = [func.sum(c.c[n]) for n in ("calls", "tokens_in", "tokens_out", "energy_wh")]
    inner = select(*keys, *sums).group_by(*keys)
    found = {}
    for tool, model, people, calls, _, t_in, _, t_out, _, wh, _ in session.execute(
        _by_person(inner, 2)
    ):
        found[(tool, model)] = (people, calls, t_in, t_out, wh)
    return found


def usage(session: Session, actor: User, f: Filters, minimum: int) -> list[UsageRow]:
    """Calls, outputs and cost per tool and model, most outputs first."""
    o = _outputs(session, actor, f)
    keys = (o.c.tool, o.c.model_id, o.c.user_id)
    inner = select(*keys, func.sum(o.c.outputs)).group_by(*keys)
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
    fb = _feedback(session, actor, f)
    names = ("minutes_n", "minutes_sum", "without_n", "without_sum", "satisfaction_n",
             "satisfaction_sum")
    aggregates = [func.sum(fb.c[n]) for n in names]
    per_tool = select(fb.c.tool, fb.c.user_id, *aggregates).group_by(fb.c.tool, fb.c.user_id)
    total = select(fb.c.user_id, *aggregates).group_by(fb.c.user_id)
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
    fb = _feedback(session, actor, f)
    marks = [func.sum(fb.c[n]) for n in MARK_COLUMNS]
    inner = select(fb.c.user_id, *marks).group_by(fb.c.user_id)
    _people, *cells = session.execute(_by_person(inner, 0)).one()
    found = {
        mark: (int(cells[2 * i] or 0), int(cells[2 * i + 1] or 0))
        for i, mark in enumerate(range(1, 6))
        if cells[2 * i]
    }
    if not found:
        return []
    return [
        MarkRow(m, _shown(found[m][0], found[m][1], minimum) if m in found else 0)
        for m in range(1, 6)
    ]


def errors(session: Session, actor: User, f: Filters, minimum: int) -> list[ErrorRow]:
    """Per tool and model: how much feedback, and the share of it reporting each problem."""
    fb = _feedback(session, actor, f)
    keys = (fb.c.tool, fb.c.model_id, fb.c.user_id)
    counts = [func.sum(fb.c[n]) for n in ("feedback", *PROBLEM_COLUMNS)]
    inner = select(*keys, *counts).group_by(*keys)
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
    if session.get_bind().dialect.name == "postgresql":
        # Hundreds of thousands of (week, person) groups: PostgreSQL's default 4 MB makes the
        # hash aggregates spill to disk; for this transaction only.
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
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
