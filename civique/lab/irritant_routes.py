"""Irritant diagnostic pages: the ranking with the form to record one, and each irritant's page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import error_message
from civique.i18n import gettext
from civique.lab import irritants
from civique.orgs.pages import done, optional_id, page
from civique.web.deps import DB, check_csrf, require

router = APIRouter()
Member = Annotated[User, Depends(require("chat.use"))]
Csrf = [Depends(check_csrf)]
Number = Annotated[str, Form(max_length=30)]
FIELDS = (
    "title",
    "description",
    "minutes_per_task",
    "tasks_per_month",
    "error_rate",
    "people_affected",
)


def _list_page(
    request: Request,
    db: Session,
    actor: User,
    unit_id: int | None = None,
    status: str = "",
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    error: irritants.IrritantError | None = None,
) -> Response:
    rows = irritants.ranking(db, actor, unit_id, status or None)
    return page(
        request,
        "lab/irritants.html",
        status_code,
        rows=rows,
        units=irritants.units(db, actor) if irritants.is_lead(actor) else [],
        lead=irritants.is_lead(actor),
        statuses=irritants.STATUSES,
        numbers=irritants.NUMBERS,
        chosen_unit=unit_id,
        chosen_status=status,
        typed=typed or {},
        error=error_message(error) if error else None,
        error_field=error.field if error else None,
    )


@router.get("/lab/irritants", name="lab_irritants")
def irritants_page(
    request: Request,
    actor: Member,
    db: DB,
    unit_id: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The irritants the user may see, ranked by potential value, and the form to add one."""
    return _list_page(request, db, actor, optional_id(unit_id), status)


@router.post("/lab/irritants", dependencies=Csrf)
def create_irritant(
    request: Request,
    actor: Member,
    db: DB,
    title: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=20000)] = "",
    minutes_per_task: Number = "",
    tasks_per_month: Number = "",
    error_rate: Number = "",
    people_affected: Number = "",
    unit_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Record an irritant (in the user's unit; a lead picks the unit)."""
    typed = dict(
        zip(
            FIELDS,
            (title, description, minutes_per_task, tasks_per_month, error_rate, people_affected),
            strict=True,
        )
    )
    try:
        row = irritants.create(db, actor, typed, optional_id(unit_id))
    except irritants.IrritantError as exc:
        db.rollback()
        typed["unit_id"] = unit_id
        return _list_page(request, db, actor, status_code=400, typed=typed, error=exc)
    return done(request, f"/lab/irritants#irritant-{row.id}", gettext("Irritant recorded."))


def _irritant_page(
    request: Request,
    db: Session,
    actor: User,
    irritant_id: int,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    error: irritants.IrritantError | None = None,
) -> Response:
    row = irritants.get(db, actor, irritant_id)
    hours, value = irritants.potential_value(
        row.minutes_per_task, row.tasks_per_month, row.error_rate
    )
    shown = typed or {name: str(getattr(row, name)) for name in FIELDS}
    return page(
        request,
        "lab/irritant.html",
        status_code,
        row=row,
        hours=hours,
        value=value,
        typed=shown,
        lead=irritants.is_lead(actor),
        statuses=irritants.STATUSES,
        numbers=irritants.NUMBERS,
        error=error_message(error) if error else None,
        error_field=error.field if error else None,
    )


@router.get("/lab/irritants/{irritant_id}", name="lab_irritant")
def irritant_page(request: Request, actor: Member, db: DB, irritant_id: int) -> Response:
    """An irritant, its value, the form to correct it and (for leads) its status."""
    return _irritant_page(request, db, actor, irritant_id)


@router.post("/lab/irritants/{irritant_id}", dependencies=Csrf)
def update_irritant(
    request: Request,
    actor: Member,
    db: DB,
    irritant_id: int,
    title: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=20000)] = "",
    minutes_per_task: Number = "",
    tasks_per_month: Number = "",
    error_rate: Number = "",
    people_affected: Number = "",
) -> Response:
    """Correct an irritant's description and baseline."""
    typed = dict(
        zip(
            FIELDS,
            (title, description, minutes_per_task, tasks_per_month, error_rate, people_affected),
            strict=True,
        )
    )
    try:
        irritants.update(db, actor, irritant_id, typed)
    except irritants.IrritantError as exc:
        db.rollback()
        return _irritant_page(request, db, actor, irritant_id, 400, typed, exc)
    return done(request, f"/lab/irritants/{irritant_id}", gettext("Irritant saved."))


@router.post("/lab/irritants/{irritant_id}/status", dependencies=Csrf)
def irritant_status(
    request: Request,
    actor: Member,
    db: DB,
    irritant_id: int,
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """An innovation lead's decision on an irritant."""
    try:
        irritants.set_status(db, actor, irritant_id, status)
    except irritants.IrritantError as exc:
        db.rollback()
        return _irritant_page(request, db, actor, irritant_id, 400, error=exc)
    return done(request, f"/lab/irritants/{irritant_id}", gettext("Status saved."))
