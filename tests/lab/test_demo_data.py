"""The demo's past challenge (both databases): what it holds, realistic distributions, labelled
as demo data, a register that still verifies, living dashboards, and a second run that adds
nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.governance.register import verify_register
from civique.lab import dashboard_pipeline, dashboards, demo_data, showcase
from civique.lab.feedback_models import LabFeedback, LabIrritant
from civique.lab.models import Challenge, Experiment, QuizAttempt
from civique.llm.models import ModelCall, OutputRecord
from tests.helpers import Tenant

TODAY = date(2026, 12, 1)


@pytest.fixture
def seeded(db: Session, tenant: Tenant) -> demo_data.Seeded:
    users = tenant.users
    found = demo_data.seed(db, tenant.org.id, users["innovation_lead"], users["validator"], TODAY)
    assert found is not None
    return found


def _count(db: Session, model: type, *where: object) -> int:
    return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_what_the_demo_holds(db: Session, tenant: Tenant, seeded: demo_data.Seeded) -> None:
    assert (seeded.staff, seeded.teams, seeded.experiments) == (42, 24, 40)
    assert (seeded.outputs, seeded.feedback, seeded.published) == (3000, 2000, 8)
    challenge = db.get(Challenge, seeded.challenge_id)
    assert challenge is not None and challenge.status == "closed" and challenge.ends_on < TODAY
    assert _count(db, OutputRecord, OutputRecord.org_id == tenant.org.id) == 3000
    assert _count(db, LabFeedback, LabFeedback.org_id == tenant.org.id) == 2000
    assert _count(db, LabIrritant, LabIrritant.org_id == tenant.org.id) == 6
    passed = db.scalars(select(QuizAttempt.user_id).where(QuizAttempt.passed.is_(True)))
    assert len(set(passed)) >= 35  # most pass, some at the second attempt
    # Every step and status, every decision.
    f = dashboards.make_filters(db, tenant.users["innovation_lead"], today=TODAY)
    pipe = dashboard_pipeline.build(db, tenant.users["innovation_lead"], f, challenge)
    steps = {r.step: r.total for r in pipe.pipeline}
    assert steps == {"hypotheses": 4, "tests": 6, "evidence": 7, "learnings": 6, "decision": 17}
    assert pipe.decisions[0].by_decision == {"generalise": 6, "extend": 5, "stop": 3, "non_ai": 3}
    _labelled_as_demo_and_no_login(db, tenant)


def _labelled_as_demo_and_no_login(db: Session, tenant: Tenant) -> None:
    calls = db.scalars(select(ModelCall.channel).where(ModelCall.org_id == tenant.org.id))
    assert set(calls) == {"demo"}
    texts = db.scalars(select(OutputRecord.output).where(OutputRecord.org_id == tenant.org.id))
    assert all(t.startswith("[Démo]") for t in texts)
    staff = db.scalars(select(User).where(User.email.like(f"%@{demo_data.EMAIL_DOMAIN}"))).all()
    assert len(staff) == 42 and all(u.password_hash is None for u in staff)
    assert len({u.unit_id for u in staff}) >= 5
    _realistic_feedback(db, tenant)


def _realistic_feedback(db: Session, tenant: Tenant) -> None:
    rows = db.execute(
        select(LabFeedback.satisfaction, LabFeedback.minutes_saved, LabFeedback.problem_flags)
        .where(LabFeedback.org_id == tenant.org.id)
    ).all()
    marks = Counter(r[0] for r in rows if r[0] is not None)
    assert sum(marks[m] for m in (3, 4, 5)) / sum(marks.values()) > 0.75
    minutes = [r[1] for r in rows if r[1] is not None]
    assert min(minutes) == 0 and max(minutes) <= 60 and 5 < sum(minutes) / len(minutes) < 25
    with_problems = sum(1 for r in rows if r[2]) / len(rows)
    assert 0.05 < with_problems < 0.3
    tools = set(db.scalars(select(OutputRecord.tool).where(OutputRecord.org_id == tenant.org.id)))
    assert {"chat", "plain_language", "letters"} <= tools


def test_register_verifies_and_dashboards_live(
    db: Session, tenant: Tenant, seeded: demo_data.Seeded
) -> None:
    report = verify_register(db, tenant.org.id)
    assert report.ok and report.entries == 3000
    lead = tenant.users["innovation_lead"]
    f = dashboards.make_filters(db, lead, today=TODAY)
    f, challenge = dashboard_pipeline.with_challenge(db, lead, f, seeded.challenge_id, False)
    dash = dashboards.dashboard(db, lead, f, 5)
    assert not dash.empty and len(dash.adoption) >= 9
    overall = dash.time_saved[-1]
    assert overall.tool is None and overall.total_minutes and overall.total_minutes > 1000
    # The big teams' published results show the feedback figures; the others counts only.
    results = showcase.results(db, lead, seeded.challenge_id, 5)
    assert len(results) == 8
    shown = [r for r in results if not r.feedback.hidden and r.feedback.ratings]
    assert len(shown) >= 3 and all(r.feedback.helped_share is not None for r in shown)
    assert any(r.feedback.hidden for r in results)
    assert challenge is not None
    _second_run_adds_nothing(db, tenant)


def _second_run_adds_nothing(db: Session, tenant: Tenant) -> None:
    users = tenant.users
    again = demo_data.seed(db, tenant.org.id, users["innovation_lead"], users["validator"], TODAY)
    assert again is None
    assert _count(db, OutputRecord) == 3000 and _count(db, Experiment) == 40
    assert _count(db, User, User.email.like(f"%@{demo_data.EMAIL_DOMAIN}")) == 42
    assert _count(db, LabFeedback) == 2000
