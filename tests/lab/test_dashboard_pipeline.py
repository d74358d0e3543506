"""The dashboards' challenge filter and the pipeline and decisions figures, compared with values
worked out by hand (both databases), their CSV and the page."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.service import create_user
from civique.errors import NotFound
from civique.lab import challenges, dashboard_pipeline, dashboards, experiments
from civique.lab.dashboard_pipeline import step_of
from civique.lab.models import Challenge, Experiment, ExperimentOutput, Measurement
from tests.helpers import Tenant, login, make_tenant, password_hash
from tests.lab.helpers import open_challenge
from tests.lab.seed import output


class World:
    """Challenge C1 (open today) with two teams and eight experiments:

    e1 nothing written, draft → hypotheses     e2 a protocol, in progress → tests
    e3 a linked output only, draft → tests      e4 a measurement, in progress → evidence
    e5 learnings, concluded → learnings         e6 generalise, concluded → decision
    e7 stop, concluded → decision               e8 non-AI, in progress → decision
    Challenge C2 (a year ago, outside the default period): e9 extend, concluded.
    Participants of C1: the agent and p2; p3 takes part in nothing. Each made one output today.
    """

    def __init__(self, db: Session, tenant: Tenant) -> None:
        self.db, self.tenant = db, tenant
        lead, agent = tenant.users["innovation_lead"], tenant.users["agent"]
        self.lead = lead
        self.c1 = open_challenge(db, lead, title="Défi 1")
        self.c2 = open_challenge(db, lead, title="Défi 2")
        self.p2 = self._person("p2")
        self.p3 = self._person("p3")
        team_a = challenges.create_team(db, agent, self.c1.id, "Alpha", "")
        team_b = challenges.create_team(db, self.p2, self.c1.id, "Bêta", "")
        team_c = challenges.create_team(db, agent, self.c2.id, "Gamma", "")
        now = datetime.now(UTC)
        self.outputs = [output(db, person, now) for person in (agent, self.p2, self.p3)]
        plan = [
            (team_a, {}, "draft"),
            (team_a, {"protocol": "Moitié avec, moitié sans."}, "in_progress"),
            (team_a, {"link": True}, "draft"),
            (team_b, {"measure": True}, "in_progress"),
            (team_b, {"learnings": "Relire."}, "concluded"),
            (team_b, {"decision": "generalise"}, "concluded"),
            (team_b, {"decision": "stop", "learnings": "Trop d'erreurs."}, "concluded"),
            (team_a, {"decision": "non_ai"}, "in_progress"),
            (team_c, {"decision": "extend"}, "concluded"),
        ]
        self.experiments = [self._experiment(*item) for item in plan]
        self.c2.starts_on, self.c2.ends_on = date(2025, 9, 1), date(2025, 11, 30)
        db.commit()

    def _person(self, name: str) -> object:
        user = create_user(self.db, self.tenant.org.id, f"{name}@alpha.test", name, "agent")
        user.password_hash = password_hash()
        return user

    def _experiment(self, team: object, fields: dict[str, object], status: str) -> Experiment:
        e = Experiment(
            org_id=self.tenant.org.id,
            challenge_id=team.challenge_id,  # type: ignore[attr-defined]
            lab_team_id=team.id,  # type: ignore[attr-defined]
            title="Essai",
            status=status,
        )
        for name in ("protocol", "learnings", "decision"):
            if name in fields:
                setattr(e, name, fields[name])
        self.db.add(e)
        self.db.flush()
        if fields.get("link"):
            self.db.add(ExperimentOutput(experiment_id=e.id, output_id=self.outputs[0].id))
        if fields.get("measure"):
            self.db.add(Measurement(org_id=e.org_id, experiment_id=e.id, label="Temps",
                                    unit="minutes", value="3"))  # fmt: skip
        self.db.flush()
        return e


@pytest.fixture
def world(db: Session, tenant: Tenant) -> World:
    return World(db, tenant)


def _filters(world: World) -> dashboards.Filters:
    return dashboards.make_filters(world.db, world.lead)


def test_pipeline_by_step_and_status(world: World) -> None:
    rows = dashboard_pipeline.pipeline(world.db, world.lead, _filters(world))
    found = {(r.challenge, r.step): r.by_status for r in rows}
    zero = {"draft": 0, "in_progress": 0, "concluded": 0}
    assert found == {  # C2 ran a year ago: outside the last twelve weeks
        ("Défi 1", "hypotheses"): zero | {"draft": 1},
        ("Défi 1", "tests"): zero | {"draft": 1, "in_progress": 1},
        ("Défi 1", "evidence"): zero | {"in_progress": 1},
        ("Défi 1", "learnings"): zero | {"concluded": 1},
        ("Défi 1", "decision"): zero | {"concluded": 2, "in_progress": 1},
    }
    assert sum(r.total for r in rows) == 8


def test_the_database_step_is_the_board_step(world: World) -> None:
    ids = [e.id for e in world.experiments]
    stmt = select(Experiment.id, step_of()).where(Experiment.id.in_(ids))
    in_sql = dict(world.db.execute(stmt).all())
    assert in_sql == {e.id: experiments.current_step(world.db, e) for e in world.experiments}


def test_decisions_per_challenge(world: World) -> None:
    f = replace(_filters(world), start=date(2025, 1, 1))  # both challenges in the period
    rows = {r.challenge: r for r in dashboard_pipeline.decisions(world.db, world.lead, f)}
    assert rows["Défi 1"].by_decision == {"generalise": 1, "extend": 0, "stop": 1, "non_ai": 1}
    assert (rows["Défi 1"].undecided, rows["Défi 1"].total) == (5, 8)
    assert rows["Défi 2"].by_decision == {"generalise": 0, "extend": 1, "stop": 0, "non_ai": 0}
    assert (rows["Défi 2"].undecided, rows["Défi 2"].total) == (0, 1)


def test_challenge_filter_restricts_to_participants(world: World) -> None:
    f, challenge = dashboard_pipeline.with_challenge(
        world.db, world.lead, _filters(world), world.c1.id, period_given=False
    )
    assert challenge is not None and challenge.id == world.c1.id
    assert (f.start, f.end) == (world.c1.starts_on, world.c1.ends_on)
    every = dashboards.adoption(world.db, world.lead, _filters(world), 2)
    of_challenge = dashboards.adoption(world.db, world.lead, f, 2)
    assert [r.users for r in every] == [3]  # the agent, p2 and p3
    assert [r.users for r in of_challenge] == [2]  # p3 is not a participant
    # A typed period is kept.
    typed = replace(_filters(world), start=date(2026, 1, 1))
    kept, _ = dashboard_pipeline.with_challenge(world.db, world.lead, typed, world.c1.id, True)
    assert kept.start == date(2026, 1, 1)
    pipe = dashboard_pipeline.build(world.db, world.lead, f, challenge)
    assert {r.challenge for r in pipe.decisions} == {"Défi 1"} and not pipe.empty


def test_another_organisations_challenge_is_not_found(world: World, db: Session) -> None:
    other = make_tenant(db, "beta")
    theirs = open_challenge(db, other.users["innovation_lead"], title="Défi beta")
    with pytest.raises(NotFound):
        dashboard_pipeline.with_challenge(db, world.lead, _filters(world), theirs.id, False)


def test_empty_pipeline(db: Session, tenant: Tenant) -> None:
    lead = tenant.users["innovation_lead"]
    f = dashboards.make_filters(db, lead)
    pipe = dashboard_pipeline.build(db, lead, f, None)
    assert pipe.empty and pipe.pipeline == []
    assert dashboard_pipeline.charts_of(pipe) == {"pipeline": "", "decisions": ""}


@pytest.fixture
def lead_client(app: FastAPI, world: World) -> TestClient:
    client = TestClient(app)
    login(client, world.lead.email)
    return client


def _csv(client: TestClient, **params: object) -> list[list[str]]:
    response = client.get("/lab/dashboards/export", params={"lang": "en", **params})
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_page_and_csv(lead_client: TestClient, world: World, db: Session) -> None:
    page = lead_client.get("/lab/dashboards", params={"challenge_id": world.c1.id, "lang": "en"})
    assert page.status_code == 200
    for marker in ('id="fig-pipeline"', 'id="fig-decisions"', 'id="chart-pipeline"',
                   "Challenge: Défi 1", "2 registered participants"):  # fmt: skip
        assert marker in page.text
    rows = _csv(lead_client, figure="pipeline", challenge_id=world.c1.id)
    assert rows[0] == ["Challenge", "Step", "Draft", "In progress", "Concluded", "Experiments"]
    assert rows[5] == ["Défi 1", "Decision", "0", "1", "2", "3"]
    rows = _csv(lead_client, figure="decisions", challenge_id=world.c1.id)
    assert rows[1] == ["Défi 1", "1", "0", "1", "1", "5", "8"]
    # The usage figures follow the challenge too: p3's output is left out.
    usage = _csv(lead_client, figure="usage", challenge_id=world.c1.id)
    assert usage[1][:2] == ["chat", "fake/echo"]
    other = make_tenant(db, "gamma")
    theirs = open_challenge(db, other.users["innovation_lead"], title="Défi gamma")
    assert lead_client.get("/lab/dashboards", params={"challenge_id": theirs.id}).status_code == 404
    bad = lead_client.get("/lab/dashboards/export", params={"figure": "pipeline",
                                                            "challenge_id": theirs.id})  # fmt: skip
    assert bad.status_code == 404
    since = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    assert lead_client.get("/lab/dashboards", params={"start": since}).status_code == 200
    assert db.get(Challenge, world.c1.id) is not None
