"""Feedback on an output: the two-click widget (under chat answers and on the output page), its
full page without JavaScript, and the JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import error_message
from civique.i18n import gettext
from civique.lab import feedback
from civique.lab.feedback_models import LabFeedback
from civique.lab.feedback_schemas import FeedbackIn, FeedbackOut
from civique.orgs.pages import page
from civique.web.deps import DB, check_csrf, csrf_token, require, require_api

router = APIRouter()
Member = Annotated[User, Depends(require("chat.use"))]
ApiMember = Annotated[User, Depends(require_api("api.use"))]
Csrf = [Depends(check_csrf)]
Short = Annotated[str, Form(max_length=20)]


def safe_next(value: str, output_id: int) -> str:
    """Where to go back after the form: a path of this site, else the output page."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"/outputs/{output_id}"


def values_of(row: LabFeedback | None, typed: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the form shows: the values as typed after a refusal, else the saved ones."""
    return typed if typed is not None else feedback.form_values(row)


def widget_html(
    request: Request, output_id: int, row: LabFeedback | None, next_url: str = "", **extra: Any
) -> str:
    """The feedback widget alone (htmx swaps, and chat replies when they finish streaming)."""
    template = request.app.state.templates.env.get_template("lab/feedback_widget.html")
    return str(
        template.render(
            output_id=output_id,
            fb=row,
            values=values_of(row, extra.pop("typed", None)),
            csrf_token=csrf_token(request),
            next_url=next_url,
            **extra,
        )
    )


@router.get("/outputs/{output_id}/feedback", name="output_feedback")
def feedback_page(request: Request, actor: Member, db: DB, output_id: int) -> Response:
    """The feedback form on a page of its own (the widget's fallback without JavaScript)."""
    row = feedback.mine(db, actor, output_id)
    return page(request, "lab/feedback.html", output_id=output_id, fb=row, values=values_of(row))


@router.post("/outputs/{output_id}/feedback", dependencies=Csrf)
def give_feedback(
    request: Request,
    actor: Member,
    db: DB,
    output_id: int,
    helped: Short = "",
    minutes_saved: Short = "",
    minutes_without_ai: Short = "",
    satisfaction: Short = "",
    problems: Annotated[list[str] | None, Form(max_length=40)] = None,
    comment: Annotated[str, Form(max_length=4000)] = "",
    usage: Short = "",
    detail: Short = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Save the thumbs (`helped` alone) or the detail form (every field)."""
    changes: dict[str, object] = {"helped": helped}
    if detail:
        changes |= {
            "minutes_saved": minutes_saved,
            "minutes_without_ai": minutes_without_ai,
            "satisfaction": satisfaction,
            "problems": problems or [],
            "comment": comment,
            "usage": usage,
        }
    fragment = bool(request.headers.get("hx-request"))
    try:
        row = feedback.give(db, actor, output_id, changes)
    except feedback.FeedbackError as exc:
        db.rollback()
        return _refused(request, db, actor, output_id, exc, changes, next, fragment)
    if fragment:
        return HTMLResponse(
            widget_html(request, output_id, row, next, saved=True, open=bool(detail))
        )
    request.session["flash"] = gettext("Thank you: your feedback is saved.")
    target = safe_next(next, output_id)
    return RedirectResponse(target if "#" in target else f"{target}#fb{output_id}", 303)


def _refused(
    request: Request,
    db: Session,
    actor: User,
    output_id: int,
    exc: feedback.FeedbackError,
    changes: dict[str, object],
    next_url: str,
    fragment: bool,
) -> Response:
    """The form again with the message next to the field and every value as typed."""
    row = feedback.mine(db, actor, output_id)
    typed = values_of(row) | {k: v for k, v in changes.items() if k in feedback.FIELDS}
    message = error_message(exc)
    if fragment:  # htmx swaps 200 answers only: the refusal is in the fragment
        html = widget_html(
            request,
            output_id,
            row,
            next_url,
            typed=typed,
            fb_error=message,
            fb_error_field=exc.field,
            open=True,
        )
        return HTMLResponse(html)
    return page(
        request,
        "lab/feedback.html",
        400,
        output_id=output_id,
        fb=row,
        values=typed,
        fb_error=message,
        fb_error_field=exc.field,
        next_url=next_url,
    )


def _out(output_id: int, row: LabFeedback | None) -> FeedbackOut:
    if row is None:
        return FeedbackOut(output_id=output_id, given=False)
    return FeedbackOut(
        output_id=output_id,
        given=True,
        helped=row.helped,
        minutes_saved=row.minutes_saved,
        minutes_without_ai=row.minutes_without_ai,
        satisfaction=row.satisfaction,
        problems=list(row.problems or []),
        comment=row.comment,
        usage=row.usage,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.get("/api/v1/outputs/{output_id}/feedback", tags=["Lab"])
def api_feedback(actor: ApiMember, db: DB, output_id: int) -> FeedbackOut:
    """The caller's own feedback on an output they may read."""
    return _out(output_id, feedback.mine(db, actor, output_id))


@router.post("/api/v1/outputs/{output_id}/feedback", tags=["Lab"])
def api_give_feedback(actor: ApiMember, db: DB, output_id: int, body: FeedbackIn) -> FeedbackOut:
    """Give or change one's feedback on an output (fields left out are kept)."""
    changes = body.model_dump(exclude_unset=True)
    return _out(output_id, feedback.give(db, actor, output_id, changes))
