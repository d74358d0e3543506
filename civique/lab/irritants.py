"""Irritant diagnostic: units record what wastes their time, with baselines; the Lab ranks them.

Potential value (hours per month, weighted by errors):
    value = minutes_per_task × tasks_per_month / 60 × (1 + error_rate / 100)
Errors add rework and risk: an irritant with 20 % errors weighs 1.2 times its hours.

Any agent of a unit records and edits its unit's irritants; innovation leads (`lab.lead`) see
and edit all of their organisation's and set their status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.db.base import utcnow
from civique.errors import N_, Forbidden, NotFound, UserError
from civique.i18n import gettext
from civique.lab.feedback_models import LabIrritant
from civique.orgs.models import Unit
from civique.textcheck import clean_text

STATUSES: dict[str, str] = {
    "open": N_("Open"),
    "chosen": N_("Chosen as a use case"),
    "non_ai": N_("Solved without AI"),
    "dropped": N_("Dropped"),
}
TITLE_MAX_CHARS = 200
DESCRIPTION_MAX_CHARS = 4000
# (label, lowest, highest) of each whole-number field: a task of a working week at most, and
# volumes an organisation of 100,000 people could have.
NUMBERS: dict[str, tuple[str, int, int]] = {
    "minutes_per_task": (N_("Minutes per task"), 1, 2400),
    "tasks_per_month": (N_("Tasks per month"), 1, 1_000_000),
    "people_affected": (N_("People affected"), 1, 100_000),
}
RANKING_LIMIT = 500


class IrritantError(UserError):
    """A refused irritant, naming the field to point at (the form keeps every value)."""

    def __init__(self, code: str, field: str, **params: object) -> None:
        super().__init__(code, 400, **params)
        self.field = field


@dataclass(frozen=True)
class IrritantInput:
    """The checked fields of an irritant."""

    title: str
    description: str
    minutes_per_task: int
    tasks_per_month: int
    error_rate: float
    people_affected: int


@dataclass(frozen=True)
class Ranked:
    """An irritant with its computed value, as the ranking shows it."""

    irritant: LabIrritant
    unit: str | None
    hours_per_month: float
    value: float


def potential_value(minutes: int, tasks: int, error_rate: float) -> tuple[float, float]:
    """(hours per month, weighted value) of an irritant: see the module docstring."""
    hours = minutes * tasks / 60
    return hours, hours * (1 + error_rate / 100)


def _whole(name: str, value: object) -> int:
    label, low, high = NUMBERS[name]
    text = str(value if value is not None else "").strip().replace("\u202f", "").replace(" ", "")
    if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
        raise IrritantError("lab_irritant_number", name, label=gettext(label), low=low, high=high)
    return int(text)


def _rate(value: object) -> float:
    text = str(value if value is not None else "").strip().replace(",", ".").rstrip("%").strip()
    if not text:
        return 0.0
    try:
        rate = float(text)
    except ValueError:
        raise IrritantError("lab_irritant_rate", "error_rate") from None
    if not 0 <= rate <= 100:  # NaN fails too
        raise IrritantError("lab_irritant_rate", "error_rate")
    return round(rate, 2)


def _text(name: str, value: object, limit: int, allow_empty: bool) -> str:
    try:
        return clean_text(str(value or ""), limit, allow_empty=allow_empty)
    except UserError as exc:
        raise IrritantError(exc.code, name, **exc.params) from None


def parse(form: Mapping[str, object]) -> IrritantInput:
    """Check every field of an irritant (strings from a form, or JSON numbers)."""
    return IrritantInput(
        title=_text("title", form.get("title"), TITLE_MAX_CHARS, False),
        description=_text("description", form.get("description"), DESCRIPTION_MAX_CHARS, True),
        minutes_per_task=_whole("minutes_per_task", form.get("minutes_per_task")),
        tasks_per_month=_whole("tasks_per_month", form.get("tasks_per_month")),
        error_rate=_rate(form.get("error_rate")),
        people_affected=_whole("people_affected", form.get("people_affected")),
    )


def is_lead(actor: User) -> bool:
    """Innovation leads and administrators see every unit's irritants."""
    return can(actor.role, "lab.lead")


def check_unit(session: Session, actor: User, unit_id: int | None) -> int | None:
    """A unit named in a filter or a form: one of the actor's organisation, and for someone
    who is not a lead their own (404 otherwise)."""
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    if unit is None or unit.org_id != actor.org_id:
        raise NotFound()
    if not is_lead(actor) and unit.id != actor.unit_id:
        raise NotFound()
    return unit.id


def _unit_for(session: Session, actor: User, unit_id: int | None) -> int:
    """The unit a new irritant belongs to: the agent's own; a lead chooses one."""
    chosen = check_unit(session, actor, unit_id)
    if not is_lead(actor):
        if actor.unit_id is None:
            raise UserError("lab_irritant_no_unit", 403)
        return actor.unit_id
    chosen = chosen if chosen is not None else actor.unit_id
    if chosen is None:
        raise IrritantError("lab_irritant_unit", "unit_id")
    return chosen


def create(
    session: Session, actor: User, form: Mapping[str, object], unit_id: int | None = None
) -> LabIrritant:
    """Record an irritant in the actor's unit (a lead names the unit)."""
    unit = _unit_for(session, actor, unit_id)
    values = parse(form)
    row = LabIrritant(org_id=actor.org_id, unit_id=unit, created_by=actor.id, **vars(values))
    session.add(row)
    session.commit()
    return row


def get(session: Session, actor: User, irritant_id: int) -> LabIrritant:
    """An irritant the actor may see: their unit's, or any of the organisation's for a lead."""
    row = session.get(LabIrritant, irritant_id)
    if row is None or row.org_id != actor.org_id:
        raise NotFound()
    if not is_lead(actor) and (actor.unit_id is None or row.unit_id != actor.unit_id):
        raise NotFound()
    return row


def update(
    session: Session, actor: User, irritant_id: int, form: Mapping[str, object]
) -> LabIrritant:
    """Change an irritant's description and baseline."""
    row = get(session, actor, irritant_id)
    for name, value in vars(parse(form)).items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.commit()
    return row


def set_status(session: Session, actor: User, irritant_id: int, status: str) -> LabIrritant:
    """An innovation lead's decision: chosen as a use case, solved without AI, dropped, open."""
    if not is_lead(actor):
        raise Forbidden()
    row = get(session, actor, irritant_id)
    if status not in STATUSES:
        raise IrritantError("lab_irritant_status", "status")
    row.status = status
    row.updated_at = utcnow()
    session.commit()
    return row


def ranking(
    session: Session, actor: User, unit_id: int | None = None, status: str | None = None
) -> list[Ranked]:
    """The irritants the actor may see, highest potential value first (computed in SQL)."""
    value = (
        LabIrritant.minutes_per_task
        * LabIrritant.tasks_per_month
        / 60.0
        * (1 + LabIrritant.error_rate / 100.0)
    )
    stmt = (
        select(LabIrritant, Unit.name)
        .outerjoin(Unit, Unit.id == LabIrritant.unit_id)
        .where(LabIrritant.org_id == actor.org_id)
        .order_by(value.desc(), LabIrritant.id)
        .limit(RANKING_LIMIT)
    )
    unit_id = check_unit(session, actor, unit_id)
    if not is_lead(actor):
        if actor.unit_id is None:
            return []
        stmt = stmt.where(LabIrritant.unit_id == actor.unit_id)
    elif unit_id is not None:
        stmt = stmt.where(LabIrritant.unit_id == unit_id)
    if status in STATUSES:
        stmt = stmt.where(LabIrritant.status == status)
    out = []
    for row, unit in session.execute(stmt):
        hours, weighted = potential_value(row.minutes_per_task, row.tasks_per_month, row.error_rate)
        out.append(Ranked(row, unit, hours, weighted))
    return out


def units(session: Session, actor: User) -> list[Unit]:
    """The units of the actor's organisation (leads' filter and unit choice)."""
    return list(
        session.scalars(select(Unit).where(Unit.org_id == actor.org_id).order_by(Unit.name))
    )
