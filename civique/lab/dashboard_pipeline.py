"""The dashboards' challenge filter, and two figures of the challenges: the experiment pipeline
(experiments by step and status) and the decisions taken, each as a table, a chart and CSV.

These figures count experiments (team work), not people: the minimum-group rule, which protects
individuals' uses, does not apply to them. They follow the challenge filter and the period
(challenges that ran during it); the unit, tool and model filters are about uses, not teams.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, cast

from markupsafe import Markup
from sqlalchemy import Select, case, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from civique.auth.models import User
from civique.errors import N_, NotFound, UserError
from civique.i18n import gettext
from civique.lab import charts
from civique.lab.challenges_labels import DECISION_LABELS, EXPERIMENT_STATUS_LABELS, STEP_LABELS
from civique.lab.dashboard_export import Cell, Table
from civique.lab.dashboards import Filters
from civique.lab.models import (
    DECISIONS,
    EXPERIMENT_STATUSES,
    STEPS,
    Challenge,
    Experiment,
    ExperimentOutput,
    Measurement,
    Participant,
)

FIGURES: dict[str, str] = {
    "pipeline": N_("Experiment pipeline"),
    "decisions": N_("Decisions taken"),
}


# The challenge filter --------------------------------------------------------------------------


def challenge_of(session: Session, actor: User, challenge_id: int) -> Challenge:
    """A challenge of the actor's organisation (any other is not found)."""
    found = session.get(Challenge, challenge_id)
    if found is None or found.org_id != actor.org_id:
        raise NotFound()
    return found


def challenges_of(session: Session, actor: User) -> list[Challenge]:
    """The organisation's challenges, newest first, to offer in the filter."""
    stmt = select(Challenge).where(Challenge.org_id == actor.org_id)
    return list(session.scalars(stmt.order_by(Challenge.starts_on.desc(), Challenge.id.desc())))


def participants(challenge_id: int) -> Select[tuple[int]]:
    """The user ids registered to a challenge (for `Filters.users`)."""
    stmt = select(Participant.user_id).where(Participant.challenge_id == challenge_id)
    return cast("Select[tuple[int]]", stmt)  # what `Filters.users` declares


def with_challenge(
    session: Session,
    actor: User,
    filters: Filters,
    challenge_id: int | None,
    period_given: bool,
) -> tuple[Filters, Challenge | None]:
    """The filters restricted to a challenge's participants; without a period typed, the
    period becomes the challenge's own dates (what it measured, not the last weeks)."""
    if challenge_id is None:
        return filters, None
    challenge = challenge_of(session, actor, challenge_id)
    narrowed = replace(filters, users=participants(challenge.id))
    if not period_given:
        narrowed = replace(narrowed, start=challenge.starts_on, end=challenge.ends_on)
    return narrowed, challenge


# Figures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRow:
    """How many experiments of a challenge are at a step, per status."""

    challenge: str
    step: str
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        """Experiments at this step, whatever their status."""
        return sum(self.by_status.values())


@dataclass(frozen=True)
class DecisionRow:
    """The decisions a challenge's experiments took, and how many have none yet."""

    challenge: str
    by_decision: dict[str, int]
    undecided: int

    @property
    def total(self) -> int:
        """Every experiment of the challenge."""
        return sum(self.by_decision.values()) + self.undecided


@dataclass
class Pipeline:
    """Both figures for one set of filters."""

    challenge: Challenge | None
    pipeline: list[StepRow] = field(default_factory=list)
    decisions: list[DecisionRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No experiment in the challenges shown."""
        return not any(r.total for r in self.decisions)


def _text(column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    return func.coalesce(column, "") != ""


def step_of() -> ColumnElement[str]:
    """The furthest step an experiment's team wrote something in, computed by the database
    (the same rule as `experiments.current_step`, the board's column)."""
    measured = exists().where(Measurement.experiment_id == Experiment.id)
    linked = exists().where(ExperimentOutput.experiment_id == Experiment.id)
    return case(
        (_text(Experiment.decision), "decision"),
        (_text(Experiment.learnings), "learnings"),
        (measured, "evidence"),
        (or_(_text(Experiment.protocol), _text(Experiment.tools_prompts), linked), "tests"),
        else_="hypotheses",
    )


def _scope(actor: User, f: Filters, challenge: Challenge | None) -> list[ColumnElement[bool]]:
    """The challenges shown: the one chosen, or those that ran during the period."""
    if challenge is not None:
        return [Challenge.id == challenge.id]
    return [
        Challenge.org_id == actor.org_id,
        Challenge.starts_on <= f.end,
        Challenge.ends_on >= f.start,
    ]


def _challenges(
    session: Session, actor: User, f: Filters, challenge: Challenge | None
) -> list[tuple[int, str]]:
    stmt = select(Challenge.id, Challenge.title).where(*_scope(actor, f, challenge))
    rows = session.execute(stmt.order_by(Challenge.starts_on.desc(), Challenge.id.desc()))
    return [(cid, title) for cid, title in rows]


def pipeline(
    session: Session, actor: User, f: Filters, challenge: Challenge | None = None
) -> list[StepRow]:
    """Per challenge, every step with its experiments per status (zeros included)."""
    shown = _challenges(session, actor, f, challenge)
    step = step_of()
    stmt = (
        select(Experiment.challenge_id, step, Experiment.status, func.count())
        .join(Challenge, Challenge.id == Experiment.challenge_id)
        .where(*_scope(actor, f, challenge))
        .group_by(Experiment.challenge_id, step, Experiment.status)
    )
    counts = {(cid, s, status): int(n) for cid, s, status, n in session.execute(stmt)}
    return [
        StepRow(title, s, {st: counts.get((cid, s, st), 0) for st in EXPERIMENT_STATUSES})
        for cid, title in shown
        for s in STEPS
    ]


def decisions(
    session: Session, actor: User, f: Filters, challenge: Challenge | None = None
) -> list[DecisionRow]:
    """Per challenge, how many experiments decided each way, and how many not yet."""
    shown = _challenges(session, actor, f, challenge)
    stmt = (
        select(Experiment.challenge_id, Experiment.decision, func.count())
        .join(Challenge, Challenge.id == Experiment.challenge_id)
        .where(*_scope(actor, f, challenge))
        .group_by(Experiment.challenge_id, Experiment.decision)
    )
    counts: dict[tuple[int, str | None], int] = {}
    for cid, decision, n in session.execute(stmt):
        key = (cid, decision if decision in DECISIONS else None)
        counts[key] = counts.get(key, 0) + int(n)
    return [
        DecisionRow(
            title, {d: counts.get((cid, d), 0) for d in DECISIONS}, counts.get((cid, None), 0)
        )
        for cid, title in shown
    ]


def build(session: Session, actor: User, f: Filters, challenge: Challenge | None) -> Pipeline:
    """Both figures."""
    return Pipeline(
        challenge, pipeline(session, actor, f, challenge), decisions(session, actor, f, challenge)
    )


# Tables, charts --------------------------------------------------------------------------------


def _pipeline_table(p: Pipeline) -> Table:
    header = [gettext("Challenge"), gettext("Step")]
    header += [gettext(EXPERIMENT_STATUS_LABELS[s]) for s in EXPERIMENT_STATUSES]
    header.append(gettext("Experiments"))
    rows: list[list[Cell]] = [
        [r.challenge, gettext(STEP_LABELS[r.step]), *r.by_status.values(), r.total]
        for r in p.pipeline
    ]
    return header, rows


def _decisions_table(p: Pipeline) -> Table:
    header = [gettext("Challenge")] + [gettext(DECISION_LABELS[d]) for d in DECISIONS]
    header += [gettext("No decision yet"), gettext("Experiments")]
    rows: list[list[Cell]] = [
        [r.challenge, *r.by_decision.values(), r.undecided, r.total] for r in p.decisions
    ]
    return header, rows


def table(p: Pipeline, figure: str) -> Table:
    """The figure's header and rows."""
    if figure == "pipeline":
        return _pipeline_table(p)
    if figure == "decisions":
        return _decisions_table(p)
    raise UserError("lab_dashboard_figure")


def charts_of(p: Pipeline) -> dict[str, Markup]:
    """The pipeline as bars per step split by status, the decisions as bars (summed over the
    challenges shown; the tables give each challenge). No experiment: no chart."""
    if p.empty:
        return {name: Markup("") for name in FIGURES}
    by_step = {s: [0] * len(EXPERIMENT_STATUSES) for s in STEPS}
    for r in p.pipeline:
        counts = zip(by_step[r.step], r.by_status.values(), strict=True)
        by_step[r.step] = [a + b for a, b in counts]
    by_decision = {d: sum(r.by_decision[d] for r in p.decisions) for d in DECISIONS}
    return {
        "pipeline": charts.stacked_bar_chart(
            "chart-pipeline",
            gettext("Experiments per step, by status"),
            [(gettext(STEP_LABELS[s]), [float(v) for v in by_step[s]]) for s in STEPS],
            [gettext(EXPERIMENT_STATUS_LABELS[s]) for s in EXPERIMENT_STATUSES],
        ),
        "decisions": charts.bar_chart(
            "chart-decisions",
            gettext("Experiments per decision taken"),
            [(gettext(DECISION_LABELS[d]), n) for d, n in by_decision.items()],
        ),
    }


def period_given(start: str | None, end: str | None) -> bool:
    """Whether the lead typed a period (otherwise a chosen challenge sets it)."""
    return bool((start or "").strip() or (end or "").strip())
