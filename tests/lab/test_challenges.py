"""Challenges, teams, the learning path's quiz and gate, experiments, board and showcase
(service layer, on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from civique.errors import UserError
from civique.lab import challenges, experiments, learning, showcase
from civique.lab.models import Challenge
from civique.orgs.models import TeamMember, Unit
from civique.settings import Settings
from tests.governance.outputs import make_output
from tests.helpers import Tenant, make_tenant
from tests.lab.helpers import form, open_challenge, team_with_experiment


def _code(call: object) -> str:
    with pytest.raises(UserError) as caught:
        call()  # type: ignore[operator]
    return caught.value.code


def test_lead_creates_a_challenge_with_a_timeline(db: Session, tenant: Tenant) -> None:
    lead = tenant.users["innovation_lead"]
    challenge = open_challenge(db, lead)
    assert challenges.current_phase(challenge) == "exploration"
    states = [row.state for row in challenges.timeline(challenge)]
    assert states == ["past", "current", "upcoming"]
    # Only leads manage: an agent may not create one.
    assert _code(lambda: challenges.create_challenge(db, tenant.users["agent"], form())) == (
        "forbidden"
    )


def test_bad_dates_are_refused_with_a_reason(db: Session, tenant: Tenant) -> None:
    lead = tenant.users["innovation_lead"]
    day = challenges.today()
    swapped = form()
    swapped.dates["exploration_start"] = (day - timedelta(days=5)).isoformat()  # overlaps
    assert _code(lambda: challenges.create_challenge(db, lead, swapped)) == "lab_phases_order"
    db.rollback()
    garbled = form()
    garbled.dates["ends_on"] = "31/12/2026"
    assert _code(lambda: challenges.create_challenge(db, lead, garbled)) == "lab_bad_date"
    db.rollback()
    assert _code(lambda: challenges.create_challenge(db, lead, form(audience="units"))) == (
        "lab_units_required"
    )


def test_join_rules(db: Session, tenant: Tenant) -> None:
    lead, agent, dpo = (tenant.users[r] for r in ("innovation_lead", "agent", "dpo"))
    unit = Unit(org_id=tenant.org.id, name="Service social")
    db.add(unit)
    db.flush()
    agent.unit_id = unit.id
    db.commit()
    by_unit = open_challenge(db, lead, audience="units", unit_ids=[unit.id])
    challenges.register(db, agent, by_unit.id)
    assert _code(lambda: challenges.register(db, dpo, by_unit.id)) == "lab_join_unit"
    assert by_unit not in challenges.list_challenges(db, dpo)
    assert by_unit in challenges.list_challenges(db, agent)
    closed = open_challenge(db, lead, status="closed", title="Défi clos")
    assert _code(lambda: challenges.register(db, agent, closed.id)) == "lab_join_closed"
    assert _code(lambda: challenges.create_team(db, agent, closed.id, "X", "")) == (
        "lab_join_closed"
    )
    draft = open_challenge(db, lead, status="draft", title="Brouillon")
    assert _code(lambda: challenges.register(db, agent, draft.id)) == "not_found"


def test_teams_are_org_teams_with_a_size_limit(db: Session, tenant: Tenant) -> None:
    lead = tenant.users["innovation_lead"]
    challenge = open_challenge(db, lead, team_size_limit="2")
    team = challenges.create_team(db, tenant.users["agent"], challenge.id, "Équipe A", "")
    assert db.get(TeamMember, (team.team_id, tenant.users["agent"].id)) is not None
    challenges.join_team(db, tenant.users["validator"], team.id)
    assert _code(lambda: challenges.join_team(db, tenant.users["dpo"], team.id)) == (
        "lab_team_full"
    )
    assert _code(
        lambda: challenges.create_team(db, tenant.users["agent"], challenge.id, "Équipe B", "")
    ) == "lab_already_in_team"
    challenges.leave_team(db, tenant.users["validator"], team.id)
    challenges.join_team(db, tenant.users["dpo"], team.id)
    assert [m.name for m in challenges.members(db, team)] == sorted(
        [tenant.users["agent"].name, tenant.users["dpo"].name]
    )


def test_quiz_scoring_is_exact(db: Session, tenant: Tenant) -> None:
    lead, agent = tenant.users["innovation_lead"], tenant.users["agent"]
    challenge = open_challenge(db, lead, pass_mark="80")
    assert learning.load_default(db, lead, challenge.id) == 3
    qs = learning.questions(db, challenge.id)
    assert len(qs) == 5
    right = {q.id: list(q.correct) for q in qs}
    # Four right, one with a correct choice missing: 4/5 = 80 % passes at 80.
    partial = dict(right)
    partial[qs[1].id] = right[qs[1].id][:1]
    result = learning.submit(db, agent, challenge.id, partial)
    assert (result.attempt.right, result.attempt.total, result.percent) == (4, 5, 80)
    assert result.attempt.passed
    assert [m.right for m in result.marked] == [True, False, True, True, True]
    # An extra wrong tick makes a question wrong too: 3/5 fails.
    extra = dict(partial)
    extra[qs[0].id] = [*right[qs[0].id], 0 if 0 not in right[qs[0].id] else 2]
    failed = learning.submit(db, agent, challenge.id, extra)
    assert (failed.attempt.right, failed.attempt.passed) == (3, False)
    assert [a.right for a in learning.attempts(db, agent, challenge.id)] == [3, 4]
    assert learning.percent(2, 3) == 67 and learning.percent(1, 3) == 33
    assert learning.passes(2, 3, 66) and not learning.passes(2, 3, 67)


def test_question_needs_two_to_five_choices_and_a_correct_one(
    db: Session, tenant: Tenant
) -> None:
    lead = tenant.users["innovation_lead"]
    challenge = open_challenge(db, lead)
    assert _code(
        lambda: learning.add_question(db, lead, challenge.id, "Q ?", ["Oui", "", ""], [0])
    ) == "lab_choices_count"
    assert _code(
        lambda: learning.add_question(db, lead, challenge.id, "Q ?", ["Oui", "Non"], [])
    ) == "lab_correct_required"
    # The ticked box follows its row even when an empty row comes before it.
    q = learning.add_question(db, lead, challenge.id, "Q ?", ["", "Oui", "Non"], [2])
    assert (q.choices, q.correct) == (["Oui", "Non"], [1])


def test_the_path_gates_the_team_space(db: Session, tenant: Tenant) -> None:
    lead, agent = tenant.users["innovation_lead"], tenant.users["agent"]
    challenge = open_challenge(db, lead, path_required=True)
    learning.load_default(db, lead, challenge.id)
    team = challenges.create_team(db, agent, challenge.id, "Équipe G", "")
    assert _code(lambda: experiments.team_space(db, agent, team.id)) == "lab_path_required"
    assert _code(lambda: experiments.create(db, agent, team.id, "Essai")) == "lab_path_required"
    experiments.team_space(db, lead, team.id)  # leads are never gated
    answers = {q.id: list(q.correct) for q in learning.questions(db, challenge.id)}
    assert learning.submit(db, agent, challenge.id, answers).attempt.passed
    experiments.create(db, agent, team.id, "Essai")


def test_only_members_edit_coaches_comment_leads_manage(
    db: Session, tenant: Tenant, settings: Settings
) -> None:
    lead, agent, validator, dpo = (
        tenant.users[r] for r in ("innovation_lead", "agent", "validator", "dpo")
    )
    challenge = open_challenge(db, lead)
    challenges.set_coach(db, lead, challenge.id, validator.id, True)
    _team, experiment = team_with_experiment(db, challenge, agent)
    values = {"irritant": "Relances manuelles", "metric": "minutes par courrier"}
    experiments.save_step(db, agent, experiment.id, "hypotheses", values)
    # The coach reads and comments, but does not edit.
    assert experiments.access(db, validator, experiment.id).can_comment
    experiments.add_comment(db, validator, experiment.id, "hypotheses", "Quelle base ?")
    assert _code(
        lambda: experiments.save_step(db, validator, experiment.id, "learnings", {})
    ) == "forbidden"
    # Someone else of the organisation does not even see it.
    assert _code(lambda: experiments.access(db, dpo, experiment.id)) == "not_found"
    # The lead manages it.
    experiments.set_status(db, lead, experiment.id, "in_progress")
    # Another organisation sees nothing.
    other = make_tenant(db, "gamma")
    assert _code(lambda: experiments.access(db, other.users["org_admin"], experiment.id)) == (
        "not_found"
    )
    assert _code(lambda: challenges.challenge_for(db, other.users["agent"], challenge.id)) == (
        "not_found"
    )
    # Outputs: only ones the member may read can be linked.
    mine = make_output(db, settings, tenant, "Relance", role="agent")
    theirs = make_output(db, settings, tenant, "Autre", role="dpo")
    experiments.link_output(db, agent, experiment.id, mine)
    assert _code(lambda: experiments.link_output(db, agent, experiment.id, theirs)) == (
        "not_found"
    )
    assert experiments.linked_output_ids(db, experiment) == [mine]
    assert experiments.comments(db, experiment.id)["hypotheses"][0].body == "Quelle base ?"


def test_measurements_are_typed_and_bounded(db: Session, tenant: Tenant) -> None:
    lead, agent = tenant.users["innovation_lead"], tenant.users["agent"]
    challenge = open_challenge(db, lead)
    _team, experiment = team_with_experiment(db, challenge, agent)
    pair = experiments.add_measurement(
        db, agent, experiment.id, "Temps par courrier", "minutes", ("", "12,5", "4")
    )
    assert (pair.before_value, pair.after_value, str(experiments.change(pair))) == (
        "12.5", "4", "-8.5"
    )
    single = experiments.add_measurement(
        db, agent, experiment.id, "Satisfaction", "score5", ("4.2", "", "")
    )
    assert single.value == "4.2"
    refused = {
        ("minutes", ("-3", "", "")): "lab_number_range",
        ("score5", ("6", "", "")): "lab_number_unit",
        ("percent", ("abc", "", "")): "lab_bad_number",
        ("minutes", ("3", "1", "2")): "lab_value_or_pair",
        ("minutes", ("", "1", "")): "lab_value_or_pair",
        ("furlongs", ("3", "", "")): "lab_bad_unit",
    }
    for (unit, values), code in refused.items():
        assert _code(
            lambda u=unit, v=values: experiments.add_measurement(  # type: ignore[misc]
                db, agent, experiment.id, "X", u, v
            )
        ) == code, (unit, values)
        db.rollback()


def _close(db: Session, lead: object, challenge: Challenge) -> None:
    challenges.update_challenge(db, lead, challenge.id, form(status="closed"))  # type: ignore[arg-type]


def test_a_closed_challenge_is_read_only(db: Session, tenant: Tenant) -> None:
    lead, agent = tenant.users["innovation_lead"], tenant.users["agent"]
    challenge = open_challenge(db, lead)
    team, experiment = team_with_experiment(db, challenge, agent)
    _close(db, lead, challenge)
    assert challenge.closed_at is not None
    calls = [
        lambda: experiments.save_step(db, agent, experiment.id, "learnings", {"learnings": "x"}),
        lambda: experiments.add_comment(db, lead, experiment.id, "tests", "Bravo"),
        lambda: experiments.create(db, agent, team.id, "Encore"),
        lambda: showcase.publish(db, agent, experiment.id, True),
        lambda: challenges.leave_team(db, agent, team.id),
    ]
    for call in calls:
        assert _code(call) == "lab_challenge_closed"
    experiments.access(db, agent, experiment.id)  # still readable


def test_board_groups_experiments_by_step_and_status(db: Session, tenant: Tenant) -> None:
    lead, agent, validator = (tenant.users[r] for r in ("innovation_lead", "agent", "validator"))
    challenge = open_challenge(db, lead)
    team_a, first = team_with_experiment(db, challenge, agent, "Équipe A")
    team_b, second = team_with_experiment(db, challenge, validator, "Équipe B")
    experiments.add_measurement(db, agent, first.id, "Temps", "minutes", ("5", "", ""))
    experiments.save_step(db, validator, second.id, "decision", {"decision": "stop"})
    experiments.set_status(db, validator, second.id, "concluded")
    board = experiments.board(db, lead, challenge.id)
    assert [c.id for c in board.columns["evidence"]] == [first.id]
    assert [c.id for c in board.columns["decision"]] == [second.id]
    assert board.counts == {("evidence", "draft"): 1, ("decision", "concluded"): 1}
    only_b = experiments.board(db, lead, challenge.id, team_b.id)
    assert [c.team for col in only_b.columns.values() for c in col] == ["Équipe B"]
    # A participant sees the board, but opens only their own team's experiments.
    mine = {c.id: c.readable for col in experiments.board(db, agent, challenge.id).columns.values()
            for c in col}
    assert mine == {first.id: True, second.id: False}
    assert _code(lambda: experiments.board(db, tenant.users["dpo"], challenge.id)) == "not_found"
    assert team_a.id != team_b.id


def test_showcase_visibility_and_open_data_csv(
    db: Session, tenant: Tenant, settings: Settings
) -> None:
    lead, agent, dpo = (tenant.users[r] for r in ("innovation_lead", "agent", "dpo"))
    challenge = open_challenge(db, lead)
    _team, experiment = team_with_experiment(db, challenge, agent, "=Équipe")
    assert _code(lambda: showcase.publish(db, agent, experiment.id, True)) == (
        "lab_publish_incomplete"
    )
    experiments.save_step(db, agent, experiment.id, "hypotheses", {"irritant": "Relances"})
    experiments.save_step(
        db, agent, experiment.id, "decision", {"decision": "generalise", "rationale": "Gain net"}
    )
    experiments.add_measurement(db, agent, experiment.id, "Temps", "minutes", ("", "12", "4.5"))
    experiments.link_output(db, agent, experiment.id, make_output(db, settings, tenant, "R"))
    assert _code(lambda: showcase.result(db, dpo, experiment.id)) == "not_found"
    showcase.publish(db, agent, experiment.id, True)
    # The whole organisation sees it (the DPO is in no team); another organisation does not.
    assert [r.experiment.id for r in showcase.results(db, dpo)] == [experiment.id]
    found = showcase.result(db, dpo, experiment.id)
    assert showcase.ai_note(found.outputs) is not None
    other = make_tenant(db, "delta")
    assert showcase.results(db, other.users["agent"]) == []
    data, name = showcase.open_data_csv(db, dpo, challenge.id)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(showcase.CSV_COLUMNS)
    assert rows[1] == [
        "Défi IA", "'=Équipe", "Courriers de relance", "generalise", "Temps", "minutes", "",
        "12", "4.5", "-7.5",
    ]
    assert agent.name not in data.decode("utf-8-sig") and name.endswith(".csv")
    pdf, _ = showcase.pdf(db, dpo, experiment.id)
    assert pdf.startswith(b"%PDF")
