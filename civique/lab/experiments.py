"""Experiments in five steps, their linked outputs, measurements, coach comments and the board.

Who may do what: the team's members edit their team's experiments, the organisation's
innovation leads manage all of them, the challenge's coaches read and comment on every step;
nobody else of the organisation sees an experiment until it is published (see `showcase`).
Once the challenge is closed, everything is read-only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.documents.models import Collection
from civique.errors import Forbidden, NotFound, UserError
from civique.governance import validation
from civique.lab import challenges, learning
from civique.lab.models import (
    DECISIONS,
    EXPERIMENT_STATUSES,
    MEASURE_UNITS,
    STEPS,
    Challenge,
    Comment,
    Experiment,
    ExperimentOutput,
    LabTeam,
    Measurement,
)
from civique.llm.models import OutputRecord
from civique.orgs.models import Team, TeamMember
from civique.textcheck import clean_text

TEXT_LIMIT = 5000
LABEL_LIMIT = 200
VALUE_LIMIT = Decimal("1000000000")  # a billion: beyond it, a typing slip rather than a figure
PICKER_LIMIT = 50
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "hypotheses": ("irritant", "sufferers", "expected_gain", "metric"),
    "tests": ("protocol", "tools_prompts"),
    "learnings": ("learnings",),
    "decision": ("decision", "rationale"),
}


@dataclass(frozen=True)
class Access:
    """What the user may do with one experiment."""

    experiment: Experiment
    challenge: Challenge
    team: LabTeam
    member: bool
    lead: bool
    coach: bool

    @property
    def can_edit(self) -> bool:
        """Members of the team and leads change it while the challenge is not closed."""
        return (self.member or self.lead) and self.challenge.status != "closed"

    @property
    def can_comment(self) -> bool:
        """Coaches, leads and members comment while the challenge is not closed."""
        return (self.member or self.lead or self.coach) and self.challenge.status != "closed"


def access(session: Session, user: User, experiment_id: int) -> Access:
    """The experiment and the user's rights on it; not found for anyone not allowed to read."""
    found = session.get(Experiment, experiment_id)
    if found is None or found.org_id != user.org_id:
        raise NotFound()
    challenge = challenges.challenge_for(session, user, found.challenge_id)
    team = session.get(LabTeam, found.lab_team_id)
    if team is None:
        raise NotFound()
    member = challenges.is_member(session, user, team)
    lead = challenges.is_lead(user)
    coach = challenges.is_coach(session, user, challenge.id)
    if not (member or lead or coach):
        raise NotFound()
    if member and not lead:
        learning.check_gate(session, user, challenge)
    return Access(found, challenge, team, member, lead, coach)


def _editable(session: Session, user: User, experiment_id: int) -> Access:
    allowed = access(session, user, experiment_id)
    challenges.check_writable(allowed.challenge)
    if not (allowed.member or allowed.lead):
        raise Forbidden()
    return allowed


def team_space(session: Session, user: User, lab_team_id: int) -> tuple[LabTeam, Challenge]:
    """A team's space: its members, leads and coaches (members pass the path's gate first)."""
    team = challenges.lab_team(session, user, lab_team_id)
    challenge = challenges.challenge_for(session, user, team.challenge_id)
    member = challenges.is_member(session, user, team)
    if not (member or challenges.is_lead(user) or challenges.is_coach(session, user, challenge.id)):
        raise NotFound()
    learning.check_gate(session, user, challenge)
    return team, challenge


def create(session: Session, user: User, lab_team_id: int, title: str) -> Experiment:
    """A new experiment of the team (by one of its members or a lead)."""
    team, challenge = team_space(session, user, lab_team_id)
    challenges.check_writable(challenge)
    if not (challenges.is_member(session, user, team) or challenges.is_lead(user)):
        raise Forbidden()
    title = clean_text(title, LABEL_LIMIT, allow_empty=True)
    if not title:
        raise UserError("lab_title_required", 400)
    experiment = Experiment(
        org_id=user.org_id,
        challenge_id=challenge.id,
        lab_team_id=team.id,
        title=title,
        created_by=user.id,
    )
    session.add(experiment)
    session.commit()
    return experiment


def _touch(experiment: Experiment) -> None:
    experiment.updated_at = datetime.now(UTC)


def save_step(
    session: Session, user: User, experiment_id: int, step: str, values: dict[str, str]
) -> Experiment:
    """Save the text fields of one step (hypotheses, tests, learnings or decision)."""
    experiment = _editable(session, user, experiment_id).experiment
    fields = STEP_FIELDS.get(step)
    if fields is None:
        raise UserError("lab_bad_step", 400)
    for name in fields:
        value = clean_text(values.get(name, ""), TEXT_LIMIT, allow_empty=True)
        if name == "decision":
            if value and value not in DECISIONS:
                raise UserError("lab_bad_decision", 400)
            experiment.decision = value or None
        else:
            setattr(experiment, name, value)
    _touch(experiment)
    session.commit()
    return experiment


def set_status(session: Session, user: User, experiment_id: int, status: str) -> Experiment:
    """Mark the experiment draft, in progress or concluded."""
    experiment = _editable(session, user, experiment_id).experiment
    if status not in EXPERIMENT_STATUSES:
        raise UserError("lab_bad_status", 400)
    experiment.status = status
    _touch(experiment)
    session.commit()
    return experiment


def current_step(session: Session, experiment: Experiment) -> str:
    """The furthest step the team wrote something in (the board's column)."""
    if experiment.decision:
        return "decision"
    if experiment.learnings:
        return "learnings"
    measured = select(Measurement.id).where(Measurement.experiment_id == experiment.id)
    if session.scalars(measured).first() is not None:
        return "evidence"
    if experiment.protocol or experiment.tools_prompts or linked_output_ids(session, experiment):
        return "tests"
    return "hypotheses"


# Linked outputs --------------------------------------------------------------------------------


def linked_output_ids(session: Session, experiment: Experiment) -> list[int]:
    """The register outputs linked to an experiment's tests (for the feedback summary)."""
    stmt = select(ExperimentOutput.output_id).where(ExperimentOutput.experiment_id == experiment.id)
    return sorted(session.scalars(stmt))


@dataclass(frozen=True)
class LinkedOutput:
    """What the experiment shows of a linked output (metadata only, never its text)."""

    id: int
    tool: str
    model: str
    created_at: datetime


def linked_outputs(session: Session, experiment: Experiment) -> list[LinkedOutput]:
    """The linked outputs' tool, model and date."""
    stmt = (
        select(OutputRecord)
        .join(ExperimentOutput, ExperimentOutput.output_id == OutputRecord.id)
        .where(ExperimentOutput.experiment_id == experiment.id)
        .order_by(OutputRecord.created_at, OutputRecord.id)
    )
    return [LinkedOutput(r.id, r.tool, r.model_id, r.created_at) for r in session.scalars(stmt)]


def pickable_outputs(session: Session, user: User) -> list[LinkedOutput]:
    """The outputs the user may read and link, newest first (their own, or all for readers)."""
    stmt = select(OutputRecord).where(OutputRecord.org_id == user.org_id)
    if not validation.is_reader(user):
        stmt = stmt.where(OutputRecord.user_id == user.id)
    rows = session.scalars(stmt.order_by(OutputRecord.id.desc()).limit(PICKER_LIMIT))
    return [LinkedOutput(r.id, r.tool, r.model_id, r.created_at) for r in rows]


def link_output(session: Session, user: User, experiment_id: int, output_id: int) -> None:
    """Link an output of the register the user may read."""
    experiment = _editable(session, user, experiment_id).experiment
    record = validation.readable(session, user, output_id)
    if session.get(ExperimentOutput, (experiment.id, record.id)) is None:
        session.add(
            ExperimentOutput(experiment_id=experiment.id, output_id=record.id, added_by=user.id)
        )
        _touch(experiment)
    session.commit()


def unlink_output(session: Session, user: User, experiment_id: int, output_id: int) -> None:
    """Remove a linked output from the experiment."""
    experiment = _editable(session, user, experiment_id).experiment
    row = session.get(ExperimentOutput, (experiment.id, output_id))
    if row is None:
        raise NotFound()
    session.delete(row)
    _touch(experiment)
    session.commit()


# Measurements ----------------------------------------------------------------------------------


def parse_decimal(value: str, unit: str) -> Decimal | None:
    """A typed value ("12,5" or "12.5"), bounded by its unit; None when left empty."""
    value = value.strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise UserError("lab_bad_number", 400, value=value[:40]) from None
    if not number.is_finite() or number < 0 or number >= VALUE_LIMIT:
        raise UserError("lab_number_range", 400, limit=f"{VALUE_LIMIT:,}".replace(",", " "))
    high = {"score5": Decimal(5), "percent": Decimal(100)}.get(unit)
    if high is not None and number > high:
        raise UserError("lab_number_unit", 400, limit=str(high))
    if number.as_tuple().exponent < -4:  # type: ignore[operator]
        raise UserError("lab_number_precision", 400)
    return number


def add_measurement(
    session: Session,
    user: User,
    experiment_id: int,
    label: str,
    unit: str,
    values: tuple[str, str, str],
) -> Measurement:
    """Add one measurement: a value, or a before/after pair (`values`: value, before, after)."""
    experiment = _editable(session, user, experiment_id).experiment
    label = clean_text(label, LABEL_LIMIT, allow_empty=True)
    if not label:
        raise UserError("lab_label_required", 400)
    if unit not in MEASURE_UNITS:
        raise UserError("lab_bad_unit", 400)
    value, before, after = (parse_decimal(v, unit) for v in values)
    pair = before is not None or after is not None
    if (value is None) == (not pair) or (pair and (before is None or after is None)):
        raise UserError("lab_value_or_pair", 400)
    row = Measurement(
        org_id=user.org_id,
        experiment_id=experiment.id,
        label=label,
        unit=unit,
        value=_text(value),
        before_value=_text(before),
        after_value=_text(after),
    )
    session.add(row)
    _touch(experiment)
    session.commit()
    return row


def _text(number: Decimal | None) -> str | None:
    return None if number is None else format(number.normalize(), "f")


def delete_measurement(session: Session, user: User, measurement_id: int) -> int:
    """Remove a measurement; returns its experiment's id."""
    row = session.get(Measurement, measurement_id)
    if row is None or row.org_id != user.org_id:
        raise NotFound()
    experiment = _editable(session, user, row.experiment_id).experiment
    session.delete(row)
    _touch(experiment)
    session.commit()
    return experiment.id


def measurements(session: Session, experiment_id: int) -> list[Measurement]:
    """The experiment's measurements in the order they were added."""
    stmt = select(Measurement).where(Measurement.experiment_id == experiment_id)
    return list(session.scalars(stmt.order_by(Measurement.id)))


def change(row: Measurement) -> Decimal | None:
    """After minus before, for a pair."""
    if row.before_value is None or row.after_value is None:
        return None
    return Decimal(row.after_value) - Decimal(row.before_value)


# Comments --------------------------------------------------------------------------------------


def add_comment(session: Session, user: User, experiment_id: int, step: str, body: str) -> Comment:
    """A comment on one step, by a coach, a lead or a member of the team."""
    allowed = access(session, user, experiment_id)
    challenges.check_writable(allowed.challenge)
    if not allowed.can_comment:
        raise Forbidden()
    if step not in STEPS:
        raise UserError("lab_bad_step", 400)
    text = clean_text(body, TEXT_LIMIT, allow_empty=True)
    if not text:
        raise UserError("empty", 400)
    comment = Comment(
        org_id=user.org_id,
        experiment_id=allowed.experiment.id,
        author_id=user.id,
        step=step,
        body=text,
    )
    session.add(comment)
    session.commit()
    return comment


@dataclass(frozen=True)
class CommentRow:
    """A comment with its author's name."""

    step: str
    author: str
    body: str
    created_at: datetime


def comments(session: Session, experiment_id: int) -> dict[str, list[CommentRow]]:
    """The experiment's comments grouped by step, oldest first."""
    stmt = (
        select(Comment, User.name)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.experiment_id == experiment_id)
        .order_by(Comment.id)
    )
    grouped: dict[str, list[CommentRow]] = {step: [] for step in STEPS}
    for row, name in session.execute(stmt):
        grouped.setdefault(row.step, []).append(
            CommentRow(row.step, name or "—", row.body, row.created_at)
        )
    return grouped


# Lists and the board ---------------------------------------------------------------------------


def team_collections(session: Session, team: LabTeam) -> list[Collection]:
    """The team's shared collections (team scope: every member reads and writes them)."""
    stmt = select(Collection).where(
        Collection.org_id == team.org_id,
        Collection.scope == "team",
        Collection.team_id == team.team_id,
    )
    return list(session.scalars(stmt.order_by(Collection.name)))


def team_experiments(session: Session, team: LabTeam) -> list[Experiment]:
    """A team's experiments, newest first."""
    stmt = select(Experiment).where(Experiment.lab_team_id == team.id)
    return list(session.scalars(stmt.order_by(Experiment.id.desc())))


@dataclass(frozen=True)
class Card:
    """An experiment on the board."""

    id: int
    title: str
    team: str
    lab_team_id: int
    status: str
    step: str
    published: bool
    readable: bool  # whether the viewer may open the experiment's page


@dataclass(frozen=True)
class Board:
    """The board: cards by step, and counts by step and status."""

    columns: dict[str, list[Card]]
    counts: dict[tuple[str, str], int]


def board(session: Session, user: User, challenge_id: int, lab_team_id: int | None = None) -> Board:
    """Every experiment of the challenge by step and status, optionally of one team; for
    participants, coaches and leads."""
    challenge = challenges.challenge_for(session, user, challenge_id)
    lead = challenges.is_lead(user)
    coach = challenges.is_coach(session, user, challenge.id)
    if not (lead or coach or challenges.is_participant(session, user, challenge.id)):
        raise NotFound()
    stmt = (
        select(Experiment, Team.name, LabTeam.team_id)
        .join(LabTeam, LabTeam.id == Experiment.lab_team_id)
        .join(Team, Team.id == LabTeam.team_id)
        .where(Experiment.challenge_id == challenge.id)
    )
    if lab_team_id is not None:
        team = challenges.lab_team(session, user, lab_team_id)
        if team.challenge_id != challenge.id:
            raise NotFound()
        stmt = stmt.where(Experiment.lab_team_id == team.id)
    mine = _my_team_ids(session, user)
    cards = [
        Card(
            e.id,
            e.title,
            name,
            e.lab_team_id,
            e.status,
            current_step(session, e),
            e.published_at is not None,
            lead or coach or team_id in mine,
        )
        for e, name, team_id in session.execute(stmt.order_by(Team.name, Experiment.id))
    ]
    return _board_of(cards)


def _my_team_ids(session: Session, user: User) -> set[int]:
    stmt = select(TeamMember.team_id).where(TeamMember.user_id == user.id)
    return set(session.scalars(stmt))


def _board_of(cards: Iterable[Card]) -> Board:
    columns: dict[str, list[Card]] = {step: [] for step in STEPS}
    counts: dict[tuple[str, str], int] = {}
    for card in cards:
        columns[card.step].append(card)
        counts[(card.step, card.status)] = counts.get((card.step, card.status), 0) + 1
    return Board(columns, counts)


def experiment_count(session: Session, challenge_id: int) -> int:
    """How many experiments the challenge holds."""
    stmt = (
        select(func.count()).select_from(Experiment).where(Experiment.challenge_id == challenge_id)
    )
    return int(session.scalar(stmt) or 0)


def delete_experiment(session: Session, user: User, experiment_id: int) -> int:
    """Delete an experiment (its team or a lead); returns its team's id."""
    allowed = _editable(session, user, experiment_id)
    team_id = allowed.team.id
    # Explicit: SQLite enforces ON DELETE CASCADE only when foreign keys are switched on.
    for model in (Comment, Measurement, ExperimentOutput):
        session.execute(delete(model).where(model.experiment_id == allowed.experiment.id))
    session.delete(allowed.experiment)
    session.commit()
    return team_id
