"""Human validation: the author's output page (final text, submission, exports), the
validators' queue and review page, and the outputs' JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import UserError
from civique.governance import exports, labels, validation
from civique.governance.schemas import (
    DecisionOut,
    OutputOut,
    QueueItem,
    QueueOut,
    ValidateRequest,
)
from civique.i18n import gettext
from civique.lab import feedback as lab_feedback
from civique.orgs.pages import done, failed, page
from civique.settings import Settings
from civique.web.deps import DB, AppSettings, check_csrf, require, require_api

router = APIRouter()
Member = Annotated[User, Depends(require("chat.use"))]
Validator = Annotated[User, Depends(require("outputs.validate"))]
ApiMember = Annotated[User, Depends(require_api("api.use"))]
ApiValidator = Annotated[User, Depends(require_api("outputs.validate"))]
Format = Annotated[str, Query(alias="format", max_length=10)]
Csrf = [Depends(check_csrf)]


def _output_page(
    request: Request,
    db: Session,
    settings: Settings,
    actor: User,
    output_id: int,
    status: int = 200,
    error: str | None = None,
    text: str | None = None,
    proofreading: dict[str, str] | None = None,
) -> Response:
    """The output page (again with the error and the text as typed, when refused), with what
    its tool adds (findings, regeneration, proof-reading) when a drafting tool made it."""
    from civique.tools.outputs import output_tool  # the tools build on governance

    current = validation.view(db, settings, actor, output_id)
    return page(
        request,
        "validation/output.html",
        status,
        view=current,
        error=error,
        typed=current.text if text is None else text,
        formats=list(exports.FORMATS),
        labels=labels,
        tool=output_tool(db, current.record, request.app.state.tools),
        proofreading=proofreading or {},
        feedback={output_id: lab_feedback.mine(db, actor, output_id)},
    )


output_page_response = _output_page


def _review_page(
    request: Request,
    db: Session,
    settings: Settings,
    actor: User,
    output_id: int,
    status: int = 200,
    error: str | None = None,
    comment: str = "",
) -> Response:
    current = validation.view(db, settings, actor, output_id)
    return page(
        request,
        "validation/review.html",
        status,
        view=current,
        error=error,
        comment=comment,
        labels=labels,
    )


def _file(exported: validation.ExportedFile) -> Response:
    return Response(
        exported.data,
        media_type=exported.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# The author's pages ----------------------------------------------------------------------------


@router.get("/outputs/{output_id}", name="output")
def output_page(
    request: Request, actor: Member, db: DB, settings: AppSettings, output_id: int
) -> Response:
    """An output: the AI draft, the editable final text, the sources, validation and exports."""
    return _output_page(request, db, settings, actor, output_id)


@router.post("/outputs/{output_id}/final", dependencies=Csrf)
def save_final(
    request: Request,
    actor: Member,
    db: DB,
    settings: AppSettings,
    output_id: int,
    text: Annotated[str, Form()] = "",
) -> Response:
    """Save the final text (noted in the register)."""
    try:
        changed = validation.edit(db, actor, output_id, text, settings.max_message_chars)
    except UserError as exc:
        if exc.status in (403, 404):
            raise
        status, message = failed(db, exc)
        return _output_page(request, db, settings, actor, output_id, status, message, text)
    notice = gettext("Final text saved.") if changed else gettext("Nothing changed.")
    return done(request, f"/outputs/{output_id}", notice)


@router.post("/outputs/{output_id}/submit", dependencies=Csrf)
def submit_page(
    request: Request, actor: Member, db: DB, settings: AppSettings, output_id: int
) -> Response:
    """Send the output to the organisation's validators."""
    try:
        validation.submit(db, actor, output_id)
    except UserError as exc:
        if exc.status in (403, 404):
            raise
        status, message = failed(db, exc)
        return _output_page(request, db, settings, actor, output_id, status, message)
    return done(request, f"/outputs/{output_id}", gettext("Submitted for validation."))


@router.get("/outputs/{output_id}/export", name="output_export")
def export_page(
    actor: Member, db: DB, settings: AppSettings, output_id: int, fmt: Format = "docx"
) -> Response:
    """Download the output as DOCX, ODT or PDF, with the AI-assistance mention (403 until
    approved when it needs validation)."""
    return _file(validation.export(db, settings, actor, output_id, fmt))


# The validators' pages -------------------------------------------------------------------------


@router.get("/validation", name="validation_queue")
def queue_page(request: Request, actor: Validator, db: DB) -> Response:
    """The outputs awaiting the validator's decision."""
    return page(request, "validation/queue.html", rows=validation.queue(db, actor))


@router.get("/validation/{output_id}", name="validation_review")
def review_page(
    request: Request, actor: Validator, db: DB, settings: AppSettings, output_id: int
) -> Response:
    """The AI draft against the final text, the sources, and the decision form."""
    return _review_page(request, db, settings, actor, output_id)


@router.post("/validation/{output_id}/decide", dependencies=Csrf)
def decide_page(
    request: Request,
    actor: Validator,
    db: DB,
    settings: AppSettings,
    output_id: int,
    decision: Annotated[str, Form(max_length=20)] = "",
    comment: Annotated[str, Form(max_length=validation.COMMENT_MAX_CHARS)] = "",
) -> Response:
    """Approve or reject the output (never one's own)."""
    try:
        record = validation.decide(db, actor, output_id, decision, comment)
    except UserError as exc:
        if exc.status == 404:
            raise
        status, message = failed(db, exc)
        return _review_page(request, db, settings, actor, output_id, status, message, comment)
    notice = (
        gettext("Output #%(id)s approved.", id=output_id)
        if record.validation == "approved"
        else gettext(
            "Output #%(id)s rejected: its author can correct and resubmit it.", id=output_id
        )
    )
    return done(request, "/validation", notice)


# API -------------------------------------------------------------------------------------------


def _output_out(current: validation.OutputView) -> OutputOut:
    record, decision = current.record, current.decision
    return OutputOut(
        id=record.id,
        created_at=record.created_at,
        author=current.author,
        tool=record.tool,
        model=record.model_id,
        model_version=record.model_version,
        validation=record.validation,
        needs_validation=current.needs,
        exportable=not current.gated,
        text_withheld=current.gated,
        decision=DecisionOut(
            decision=decision.kind, by=decision.by, at=decision.at, comment=decision.comment
        )
        if decision
        else None,
        submitted_at=current.submitted_at,
        sources=list(record.sources or []),
        # Until approved, the texts do not leave through the API (see docs/governance.md).
        output=None if current.gated else record.output,
        final_text=None if current.gated else record.final_text,
    )


@router.get("/api/v1/outputs/{output_id}", tags=["Outputs"])
def api_output(actor: ApiMember, db: DB, settings: AppSettings, output_id: int) -> OutputOut:
    """An output's validation state and metadata; its texts once it may leave Civique."""
    return _output_out(validation.view(db, settings, actor, output_id))


@router.post("/api/v1/outputs/{output_id}/submit", tags=["Outputs"])
def api_submit(actor: ApiMember, db: DB, settings: AppSettings, output_id: int) -> OutputOut:
    """Send one's own output to the organisation's validators."""
    validation.submit(db, actor, output_id)
    return _output_out(validation.view(db, settings, actor, output_id))


@router.post("/api/v1/outputs/{output_id}/validate", tags=["Outputs"])
def api_validate(
    actor: ApiValidator, db: DB, settings: AppSettings, output_id: int, body: ValidateRequest
) -> OutputOut:
    """Approve or reject a pending output of someone else (`comment` required to reject)."""
    validation.decide(db, actor, output_id, body.decision, body.comment)
    return _output_out(validation.view(db, settings, actor, output_id))


@router.get("/api/v1/outputs/{output_id}/export", tags=["Outputs"], response_model=None)
def api_export(
    actor: ApiMember, db: DB, settings: AppSettings, output_id: int, fmt: Format = "docx"
) -> Response:
    """The output as a DOCX, ODT or PDF file with the AI-assistance mention (403 until
    approved when it needs validation)."""
    return _file(validation.export(db, settings, actor, output_id, fmt))


@router.get("/api/v1/validation/queue", tags=["Outputs"])
def api_queue(actor: ApiValidator, db: DB) -> QueueOut:
    """The outputs awaiting the caller's decision, oldest first."""
    rows = validation.queue(db, actor)
    return QueueOut(
        items=[
            QueueItem(
                id=r.id,
                tool=r.tool,
                author=r.author,
                created_at=r.created_at,
                submitted_at=r.submitted_at,
            )
            for r in rows
        ]
    )
