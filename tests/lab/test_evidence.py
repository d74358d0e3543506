"""The feedback summary of an experiment's linked outputs, worked out by hand (both databases):
the figures, the minimum-group rule (all hidden, or partly), the showcase's CSV and pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.service import create_user
from civique.lab import evidence, experiments, showcase
from civique.lab.models import Experiment, ExperimentOutput
from civique.llm.models import OutputRecord
from tests.helpers import Tenant, login, make_tenant, password_hash
from tests.lab.helpers import open_challenge, team_with_experiment
from tests.lab.seed import output, rate

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)


def _people(db: Session, tenant: Tenant, n: int) -> list[User]:
    found = []
    for i in range(1, n + 1):
        user = create_user(db, tenant.org.id, f"r{i}@alpha.test", f"Rater {i}", "agent")
        user.password_hash = password_hash()
        found.append(user)
    return found


def _world(db: Session, tenant: Tenant) -> tuple[Experiment, list[OutputRecord]]:
    """Six linked outputs o1-o6 (of u1-u6) and their feedback:

    u1 on o1: helped, 10 min, 5, as is      u1 on o2: helped, 15 min, no mark, as is
    u2 on o2: helped, 20 min, 4, edited, tone
    u3 on o3: helped, 30 min, 4, edited
    u4 on o4: not helped, 0 min, 2, discarded, factual error + wrong citation
    u5 on o5: helped, no minutes, 3, no usage                o6: nobody
    u6 rates an output that is not linked (left out).
    """
    lead, agent = tenant.users["innovation_lead"], tenant.users["agent"]
    challenge = open_challenge(db, lead)
    _team, experiment = team_with_experiment(db, challenge, agent)
    u = _people(db, tenant, 6)
    outs = [output(db, person, NOW) for person in u]
    for record in outs:
        db.add(ExperimentOutput(experiment_id=experiment.id, output_id=record.id))
    rate(db, u[0], outs[0], minutes=10, satisfaction=5).usage = "as_is"
    rate(db, u[0], outs[1], minutes=15).usage = "as_is"
    rate(db, u[1], outs[1], minutes=20, satisfaction=4, problems=("tone",)).usage = "edited"
    rate(db, u[2], outs[2], minutes=30, satisfaction=4).usage = "edited"
    row = rate(db, u[3], outs[3], helped=False, minutes=0, satisfaction=2,
               problems=("factual_error", "wrong_citation"))  # fmt: skip
    row.usage = "discarded"
    rate(db, u[4], outs[4], satisfaction=3)
    rate(db, u[5], output(db, u[5], NOW), minutes=60, satisfaction=1)
    db.commit()
    return experiment, outs


def test_summary_with_the_figures_hand_computed(db: Session, tenant: Tenant) -> None:
    experiment, _ = _world(db, tenant)
    s = evidence.summary(db, experiment, 4)
    assert (s.outputs, s.rated_outputs, s.ratings, s.raters) == (6, 5, 6, 5)
    assert s.helped_share == round(5 / 6, 4)
    # Minutes from u1 (10, 15), u2, u3, u4 (a 0 is an answer): 4 people, 5 ratings.
    assert (s.minutes_ratings, s.minutes_total, s.minutes_mean) == (5, 75, 15.0)
    assert (s.satisfaction_ratings, s.satisfaction_mean) == (5, 3.6)  # (5+4+4+2+3)/5
    assert s.problems == {"factual_error": 1, "wrong_citation": 1, "tone": 1, "legal": 0,
                          "bias": 0, "other": 0}  # fmt: skip
    assert s.usage == {"as_is": 2, "edited": 2, "discarded": 1}
    assert not s.hidden and not s.partly_hidden


def test_minimum_group_hides_figures_with_too_few_people(db: Session, tenant: Tenant) -> None:
    experiment, _ = _world(db, tenant)
    # Five raters: enough in all, but only four gave minutes and four a usage.
    s = evidence.summary(db, experiment, 5)
    assert not s.hidden and s.partly_hidden
    assert s.minutes_total is None and s.minutes_mean is None and s.usage is None
    assert s.satisfaction_mean == 3.6 and s.helped_share == round(5 / 6, 4)
    # Six required: counts only, and the figures' lines are not even listed.
    s = evidence.summary(db, experiment, 6)
    assert s.hidden and s.helped_share is None and s.problems is None
    assert s.satisfaction_mean is None
    assert [(f.code, f.value) for f in evidence.figures(s)] == [
        ("outputs", 6), ("rated_outputs", 5), ("ratings", 6), ("raters", 5),
    ]  # fmt: skip


def test_no_feedback_and_no_output(db: Session, tenant: Tenant) -> None:
    lead, agent = tenant.users["innovation_lead"], tenant.users["agent"]
    _team, experiment = team_with_experiment(db, open_challenge(db, lead), agent)
    s = evidence.summary(db, experiment, 5)
    assert (s.outputs, s.ratings, s.raters) == (0, 0, 0) and not s.hidden


def _publish(db: Session, tenant: Tenant, experiment: Experiment) -> None:
    agent = tenant.users["agent"]
    experiments.save_step(db, agent, experiment.id, "hypotheses", {"irritant": "Relances"})
    experiments.save_step(db, agent, experiment.id, "decision", {"decision": "extend"})
    showcase.publish(db, agent, experiment.id, True)


def test_open_data_csv_holds_only_shown_figures(db: Session, tenant: Tenant) -> None:
    experiment, _ = _world(db, tenant)
    _publish(db, tenant, experiment)
    dpo = tenant.users["dpo"]

    def feedback_rows(minimum: int) -> dict[str, tuple[str, str]]:
        data, _ = showcase.open_data_csv(db, dpo, experiment.challenge_id, minimum)
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
        return {r[4]: (r[5], r[6]) for r in rows if r[4].startswith("feedback_")}

    shown = feedback_rows(4)
    assert shown["feedback_ratings"] == ("count", "6")
    assert shown["feedback_minutes_total"] == ("minutes", "75")
    assert shown["feedback_satisfaction_mean"] == ("score5", "3.6")
    assert shown["feedback_helped_share"] == ("percent", "83.3")
    assert shown["feedback_usage_discarded"] == ("count", "1")
    hidden = feedback_rows(6)
    assert set(hidden) == {"feedback_outputs", "feedback_rated_outputs", "feedback_ratings",
                           "feedback_raters"}  # fmt: skip
    assert "Rater" not in showcase.open_data_csv(db, dpo, experiment.challenge_id, 4)[0].decode()
    pdf, _ = showcase.pdf(db, dpo, experiment.id, 4)
    assert pdf.startswith(b"%PDF")


def test_pages_show_the_summary(app: FastAPI, db: Session, tenant: Tenant) -> None:
    experiment, _ = _world(db, tenant)
    app.state.settings.lab_min_group_size = 4
    agent = TestClient(app)
    login(agent, tenant.users["agent"].email)
    page = agent.get(f"/lab/experiments/{experiment.id}?lang=en")
    assert page.status_code == 200
    assert "Feedback on the tested outputs" in page.text
    assert "Minutes saved in all" in page.text and ">75 min<" in page.text
    _publish(db, tenant, experiment)
    result = agent.get(f"/lab/showcase/{experiment.id}?lang=en")
    assert "Mean satisfaction" in result.text and "3.6 /5" in result.text
    listing = agent.get("/lab/showcase?lang=en")
    assert "6 ratings of the tested outputs" in listing.text
    app.state.settings.lab_min_group_size = 6
    page = agent.get(f"/lab/experiments/{experiment.id}?lang=en")
    assert "only the counts are shown" in page.text and ">75 min<" not in page.text
    assert "People who rated" in page.text


def test_other_organisation_feedback_never_counts(db: Session, tenant: Tenant) -> None:
    experiment, outs = _world(db, tenant)
    other = make_tenant(db, "beta")
    stranger = other.users["agent"]
    rate(db, stranger, outs[5], minutes=480, satisfaction=1).org_id = other.org.id
    db.commit()
    # The summary reads the experiment's organisation only.
    assert evidence.summary(db, experiment, 4).ratings == 6
