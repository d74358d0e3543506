"""The register of AI-assisted outputs and the audit log: pages for the data-protection officer
(and the audit log for administrators), and the register's JSON API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.db.base import utcnow
from civique.documents.search_view import parse_day
from civique.errors import UserError, error_message
from civique.governance import audit, labels, service
from civique.governance.chain import Report
from civique.governance.schemas import (
    ChainBreak,
    ChainCheck,
    CheckRequest,
    CheckResult,
    RegisterEntry,
    RegisterEventOut,
    RegisterItem,
    RegisterList,
)
from civique.orgs.models import Organisation
from civique.orgs.pages import optional_id, page
from civique.web.deps import DB, AppSettings, check_csrf, require, require_api

router = APIRouter()
Dpo = Annotated[User, Depends(require("register.read"))]
ApiDpo = Annotated[User, Depends(require_api("register.read"))]
AuditReader = Annotated[User, Depends(require("audit.read"))]
Text = Annotated[str, Query(max_length=200)]
PageNumber = Annotated[int, Query(alias="page", ge=1, le=1_000_000)]
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _filters(
    since: str, until: str, unit_id: str, user_id: str, tool: str, model: str, status: str
) -> service.RegisterFilters:
    """The register's filters from the page's query (bad dates and ids refused)."""
    return service.RegisterFilters(
        parse_day(since),
        parse_day(until),
        optional_id(unit_id),
        optional_id(user_id),
        tool.strip(),
        model.strip(),
        status.strip(),
    )


def page_filters(
    since: Text = "",
    until: Text = "",
    unit_id: Text = "",
    user_id: Text = "",
    tool: Text = "",
    model: Text = "",
    status: Text = "",
) -> dict[str, str]:
    """The filter fields as typed, kept to fill the form again."""
    return {
        "since": since,
        "until": until,
        "unit_id": unit_id,
        "user_id": user_id,
        "tool": tool,
        "model": model,
        "status": status,
    }


PageFilters = Annotated[dict[str, str], Depends(page_filters)]


# Pages -----------------------------------------------------------------------------------------


@router.get("/register", name="register")
def register_page(
    request: Request, actor: Dpo, db: DB, form: PageFilters, page_number: PageNumber = 1
) -> Response:
    """The register: filters, a page of outputs, export links and the integrity check."""
    choices = service.filter_choices(db, actor)
    context: dict[str, Any] = {"form": form, "choices": choices, "labels": labels}

    def search() -> tuple[service.Paged, dict[str, str]]:
        filters = _filters(**form)
        return service.search_register(db, actor, filters, page_number), filters.query()

    return _list_page(request, "register/index.html", context, search)


@router.get("/register/export", name="register_export")
def export_page(
    request: Request,
    actor: Dpo,
    db: DB,
    settings: AppSettings,
    form: PageFilters,
    fmt: Annotated[str, Query(alias="format", max_length=10)] = "csv",
) -> Response:
    """Download the filtered register as CSV or JSON (noted in the audit log)."""
    filters = _filters(**form)
    export = service.begin_export(db, actor, filters, fmt, settings.register_export_max_rows)
    return _download(request, db, actor, export)


@router.get("/register/{output_id}", name="register_entry")
def entry_page(request: Request, actor: Dpo, db: DB, output_id: int) -> Response:
    """One output: who, when, what, with which sources, its validation, texts and history."""
    view = service.entry(db, actor, output_id)
    return page(request, "register/entry.html", view=view, labels=labels)


@router.post("/register/verify", name="register_verify", dependencies=[Depends(check_csrf)])
def verify_page(
    request: Request,
    actor: Dpo,
    db: DB,
    expect_head: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    """Check that no entry of the register or of the audit log was altered or removed."""
    result = service.run_check(db, actor, expect_head.strip() or None)
    return page(
        request,
        "register/check.html",
        result=result,
        expect_head=expect_head.strip(),
        describe=labels.describe_break,
    )


@router.get("/audit", name="audit_log")
def audit_page(
    request: Request,
    actor: AuditReader,
    db: DB,
    action: Text = "",
    since: Text = "",
    until: Text = "",
    actor_id: Text = "",
    page_number: PageNumber = 1,
) -> Response:
    """The audit log: logins, account and policy changes, exports and checks."""
    form = {"action": action, "since": since, "until": until, "actor_id": actor_id}
    context: dict[str, Any] = {
        "form": form,
        "actions": audit.ACTIONS,
        "actors": service.audit_actors(db, actor),
        "summary": labels.audit_summary,
    }

    def search() -> tuple[service.Paged, dict[str, str]]:
        filters = service.AuditFilters(
            action.strip(), parse_day(since), parse_day(until), optional_id(actor_id)
        )
        return service.search_audit(db, actor, filters, page_number), filters.query()

    return _list_page(request, "audit/index.html", context, search)


def _list_page(
    request: Request,
    template: str,
    context: dict[str, Any],
    search: Callable[[], tuple[service.Paged, dict[str, str]]],
) -> Response:
    """A filtered list page: the page of rows, or the form again with why the filters were
    refused (a unit or user of another organisation stays a 404)."""
    try:
        found, query = search()
    except UserError as exc:
        if exc.status == 404:
            raise
        return page(request, template, exc.status, error=error_message(exc), found=None, **context)
    return page(
        request,
        template,
        found=found,
        query=urlencode(query),
        page_query=lambda n: urlencode({**query, "page": n}),
        **context,
    )


def _download(
    request: Request, db: Session, actor: User, export: service.Export
) -> StreamingResponse:
    """Stream the export from a session of its own (the request's closes before the body)."""
    sessions = request.app.state.sessions

    def body() -> Iterator[str]:
        with sessions() as session:
            yield from service.export_lines(session, actor, export)

    org = db.get(Organisation, actor.org_id)
    name = f"registre-{org.slug if org else 'civique'}-{utcnow():%Y%m%d-%H%M%S}.{export.fmt}"
    return StreamingResponse(
        body(),
        media_type=MEDIA[export.fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


# API -------------------------------------------------------------------------------------------


def api_filters(
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
    unit_id: Annotated[int | None, Query()] = None,
    user_id: Annotated[int | None, Query()] = None,
    tool: Text = "",
    model: Text = "",
    status: Text = "",
) -> service.RegisterFilters:
    """The register's filters as API query parameters."""
    return service.RegisterFilters(since, until, unit_id, user_id, tool, model, status)


ApiFilters = Annotated[service.RegisterFilters, Depends(api_filters)]


@router.get("/api/v1/register", tags=["Register"])
def api_register(
    actor: ApiDpo, db: DB, filters: ApiFilters, page_number: PageNumber = 1
) -> RegisterList:
    """A page (50 entries) of the register of AI-assisted outputs, newest first."""
    found = service.search_register(db, actor, filters, page_number)
    items = [_item(r) for r in found.rows]
    return RegisterList(items=items, total=found.total, page=found.page, pages=found.pages)


@router.get("/api/v1/register/export", tags=["Register"], response_model=None)
def api_export(
    request: Request,
    actor: ApiDpo,
    db: DB,
    settings: AppSettings,
    filters: ApiFilters,
    fmt: Annotated[str, Query(alias="format", max_length=10)] = "json",
) -> StreamingResponse:
    """The filtered register as CSV or JSON, streamed (noted in the audit log)."""
    export = service.begin_export(db, actor, filters, fmt, settings.register_export_max_rows)
    return _download(request, db, actor, export)


@router.get("/api/v1/register/{output_id}", tags=["Register"])
def api_entry(actor: ApiDpo, db: DB, output_id: int) -> RegisterEntry:
    """One output with its texts, sources, validation, exports and register events."""
    return _entry_out(service.entry(db, actor, output_id))


@router.post("/api/v1/register/verify", tags=["Register"])
def api_verify(actor: ApiDpo, db: DB, body: CheckRequest | None = None) -> CheckResult:
    """Check the register and the audit log (noted in the audit log)."""
    expect = body.expect_head.strip() if body and body.expect_head else None
    result = service.run_check(db, actor, expect)
    return CheckResult(
        ok=result.ok,
        register_chain=_chain_out(result.register),
        audit_chain=_chain_out(result.audit),
    )


def _chain_out(report: Report) -> ChainCheck:
    broken = report.broken
    return ChainCheck(
        entries=report.entries,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        broken=ChainBreak(
            seq=broken.seq, reason=broken.reason, message=labels.describe_break(broken)
        )
        if broken
        else None,
    )


def _item(row: service.RegisterRow) -> RegisterItem:
    return RegisterItem(
        id=row.id,
        created_at=row.created_at,
        user=row.user_name,
        unit=row.unit_name,
        tool=row.tool,
        model=row.model_id,
        model_version=row.model_version,
        validation=row.validation,
    )


def _entry_out(view: service.EntryView) -> RegisterEntry:
    record = view.record
    return RegisterEntry(
        **_item(service.row_of(record, view.user_name, view.unit_name)).model_dump(),
        prompt_template=record.prompt_template,
        prompt_template_version=record.prompt_template_version,
        status=record.status,
        input=record.input,
        output=record.output,
        final_text=record.final_text,
        sources=list(record.sources or []),
        registered=view.created is not None,
        checks=view.checks,
        events=[
            RegisterEventOut(
                seq=e.seq,
                at=e.at,
                kind=e.kind,
                by=e.actor_name,
                hash=e.hash,
                intact=e.intact,
                details=e.details,
            )
            for e in view.events
        ],
    )
