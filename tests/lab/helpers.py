"""Helpers for the Lab's tests: a challenge open today, a team, an experiment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.lab import challenges, experiments
from civique.lab.challenges import ChallengeForm
from civique.lab.models import Challenge, Experiment, LabTeam


def form(**changes: object) -> ChallengeForm:
    """A valid form: a challenge open today, its exploration phase running."""
    day = challenges.today()
    iso = lambda offset: (day + timedelta(days=offset)).isoformat()  # noqa: E731
    dates = {
        "starts_on": iso(-10),
        "ends_on": iso(30),
        "awareness_start": iso(-10),
        "awareness_end": iso(-1),
        "exploration_start": iso(0),
        "exploration_end": iso(20),
        "showcase_start": iso(21),
        "showcase_end": iso(30),
    }
    base = ChallengeForm(title="Défi IA", description="Essayer l'IA.", status="open", dates=dates)
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def open_challenge(db: Session, lead: User, **changes: object) -> Challenge:
    """A challenge created by `lead`, open today."""
    return challenges.create_challenge(db, lead, form(**changes))


def team_with_experiment(
    db: Session, challenge: Challenge, member: User, name: str = "Équipe Alpha"
) -> tuple[LabTeam, Experiment]:
    """A team created by `member` and one experiment of it."""
    team = challenges.create_team(db, member, challenge.id, name, "Nous testons les courriers.")
    return team, experiments.create(db, member, team.id, "Courriers de relance")


def lab_objects(db: Session, tenant: object, marker: str, output_id: int) -> dict[str, int]:
    """One object of each Lab kind in `tenant` (the tenant-isolation matrix's world): an open
    challenge of its lead, a team of its agent with a published experiment that links
    `output_id` and holds a measurement, a learning page and a quiz question."""
    from civique.lab import learning, showcase

    users = tenant.users  # type: ignore[attr-defined]
    lead, agent = users["innovation_lead"], users["agent"]
    challenge = open_challenge(db, lead, title=f"Défi {marker}")
    team, experiment = team_with_experiment(db, challenge, agent, f"Équipe lab {marker}")
    experiments.save_step(
        db, agent, experiment.id, "hypotheses", {"irritant": f"Irritant {marker}"}
    )
    experiments.save_step(db, agent, experiment.id, "decision", {"decision": "extend"})
    measurement = experiments.add_measurement(
        db, agent, experiment.id, f"Mesure {marker}", "minutes", ("3", "", "")
    )
    experiments.link_output(db, agent, experiment.id, output_id)
    showcase.publish(db, agent, experiment.id, True)
    page = learning.add_page(db, lead, challenge.id, f"Page {marker}", "Texte")
    question = learning.add_question(db, lead, challenge.id, f"Question {marker}", ["A", "B"], [0])
    return {
        "challenge": challenge.id,
        "lab_team": team.id,
        "experiment": experiment.id,
        "measurement": measurement.id,
        "page": page.id,
        "question": question.id,
    }
