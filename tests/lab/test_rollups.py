"""The rollups give exactly the figures of the raw tables (both databases): on seeded random
data, for periods cut mid-week, every filter, after late feedback and a moved user."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.service import create_user
from civique.lab import dashboards, feedback, rollups
from civique.lab.rollup_models import LabOutputsWeekly, LabRollupWeek
from civique.orgs.models import Unit
from tests.helpers import Tenant
from tests.lab.seed import call, output, rate

FIRST = date(2026, 10, 5)  # a Monday; six weeks of data
TODAY = date(2026, 11, 18)  # a Wednesday: the current week is not rolled up
TOOLS = ("chat", "letters", "translation")
MODELS = ("fake/echo", "fake/big")
FIGURES = ("adoption", "adoption_by_unit", "usage", "time_saved", "satisfaction",
           "distribution", "errors")


def _seed(db: Session, tenant: Tenant, seed: int = 3) -> list[User]:
    """Three units, 24 agents of uneven activity, six weeks of outputs, calls, feedback."""
    rng = random.Random(seed)
    units = [Unit(org_id=tenant.org.id, name=f"U{i}") for i in range(3)]
    db.add_all(units)
    db.flush()
    people = []
    for i in range(24):
        user = create_user(db, tenant.org.id, f"p{i}@alpha.test", f"p{i}", "agent")
        user.unit_id = units[i % 3].id
        people.append(user)
    db.flush()
    for _ in range(600):
        user = rng.choice(people[: rng.choice((6, 12, 24))])  # the first few are busier
        at = datetime.combine(FIRST, datetime.min.time(), UTC) + timedelta(
            minutes=rng.randrange(0, 45 * 24 * 60))
        record = output(db, user, at, rng.choice(TOOLS), rng.choice(MODELS),
                        tokens=(rng.randrange(1, 99), rng.randrange(1, 99)),
                        energy=rng.choice((0.1, 0.25, 0.5)))
        if rng.random() < 0.05:
            call(db, user, at, "documents", "fake/embed", tokens=(5, 0), energy=0.01)
        if rng.random() < 0.4:
            rate(db, user, record, helped=rng.random() < 0.7,
                 minutes=rng.choice((None, 0, 5, 20)), without=rng.choice((None, 30)),
                 satisfaction=rng.choice((None, 1, 3, 4, 5)),
                 problems=tuple(p for p in ("tone", "legal") if rng.random() < 0.2))
    people[0].unit_id = units[1].id  # moved: calls follow the current unit, outputs stay
    db.commit()
    return people


def _filters(db: Session, tenant: Tenant, people: list[User]) -> list[dict[str, object]]:
    unit = db.scalars(select(Unit).where(Unit.org_id == tenant.org.id)).first()
    assert unit is not None
    year = {"start": FIRST - timedelta(days=3), "end": TODAY}
    return [
        year,
        {"start": date(2026, 10, 8), "end": date(2026, 11, 4)},  # cut on both sides
        {"start": date(2026, 10, 12), "end": date(2026, 10, 25)},  # whole weeks only
        {**year, "unit_id": unit.id},
        {**year, "tool": "letters"},
        {**year, "model": "fake/big"},
        {**year, "users": select(User.id).where(User.id.in_([p.id for p in people[:9]]))},
    ]


def _both(db: Session, lead: User, minimum: int,
          **kw: object) -> tuple[dashboards.Dashboard, dashboards.Dashboard]:
    direct = dashboards.Filters(**kw, use_rollups=False)  # type: ignore[arg-type]
    rolled = dashboards.Filters(**kw, use_rollups=True)  # type: ignore[arg-type]
    return (dashboards.dashboard(db, lead, direct, minimum),
            dashboards.dashboard(db, lead, rolled, minimum))


def _assert_same(db: Session, tenant: Tenant, people: list[User]) -> None:
    lead = tenant.users["innovation_lead"]
    for kw in _filters(db, tenant, people):
        for minimum in (2, 5, 9):
            direct, rolled = _both(db, lead, minimum, **kw)
            for name in FIGURES:
                assert getattr(rolled, name) == getattr(direct, name), (name, kw, minimum)


def test_rollups_give_the_figures_of_the_raw_tables(
    db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    people = _seed(db, tenant)
    stranger = other_tenant.users["agent"]
    rate(db, stranger, output(db, stranger, datetime(2026, 10, 14, tzinfo=UTC)), minutes=999)
    db.commit()
    # Six closed weeks here; the other org from its first output (12 Oct) to last week.
    assert rollups.refresh(db, TODAY) == 6 + 5
    db.commit()
    weeks = set(db.scalars(select(LabRollupWeek.week).where(
        LabRollupWeek.org_id == tenant.org.id)))
    assert weeks == {FIRST + timedelta(weeks=i) for i in range(6)}  # not the current week
    assert db.scalar(select(func.count()).select_from(LabOutputsWeekly)) > 0
    d = dashboards.dashboard(db, tenant.users["innovation_lead"],
                             dashboards.Filters(FIRST, TODAY), 2)
    assert sum(r.users or 0 for r in d.adoption) > 0 and d.time_saved  # not an empty world
    _assert_same(db, tenant, people)


def test_late_feedback_and_refresh_keep_the_figures_exact(db: Session, tenant: Tenant) -> None:
    people = _seed(db, tenant, seed=5)
    rollups.refresh(db, TODAY)
    db.commit()
    old = db.scalars(select(rollups.OutputRecord).where(
        rollups.OutputRecord.user_id == people[3].id).order_by(
        rollups.OutputRecord.created_at)).first()
    assert old is not None
    feedback.give(db, people[3], old.id, {"helped": "yes", "minutes_saved": "45",
                                         "satisfaction": "2", "problems": ["bias"]})
    week = rollups.monday(old.created_at.date())
    assert week not in set(db.scalars(select(LabRollupWeek.week)))  # read live again
    _assert_same(db, tenant, people)
    assert rollups.refresh(db, TODAY) == 1
    db.commit()
    _assert_same(db, tenant, people)


@pytest.mark.parametrize(
    ("start", "end", "weeks", "expected"),
    [
        (date(2026, 10, 8), date(2026, 10, 25), [date(2026, 10, 12), date(2026, 10, 19)],
         [(date(2026, 10, 8), date(2026, 10, 12))]),
        (date(2026, 10, 5), date(2026, 10, 28), [date(2026, 10, 12)],
         [(date(2026, 10, 5), date(2026, 10, 12)), (date(2026, 10, 19), date(2026, 10, 29))]),
        (date(2026, 10, 5), date(2026, 10, 6), [], [(date(2026, 10, 5), date(2026, 10, 7))]),
    ],
)
def test_live_ranges_are_the_days_outside_rolled_up_weeks(
    start: date, end: date, weeks: list[date], expected: list[tuple[date, date]]
) -> None:
    ranges = rollups.live_ranges(start, end, weeks)
    assert ranges == [(rollups.instant(a), rollups.instant(b)) for a, b in expected]
