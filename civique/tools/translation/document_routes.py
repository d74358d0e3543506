"""The document translation page: upload a DOCX (or ODT/PDF), get it back translated."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response

from civique.auth.models import User
from civique.errors import UserError, error_message
from civique.i18n import gettext
from civique.orgs.pages import done, page
from civique.tools import forms, service
from civique.tools.registry import Tool
from civique.tools.routes import form_extras
from civique.tools.translation import document
from civique.web.deps import check_csrf, require

router = APIRouter()
ToolUser = Annotated[User, Depends(require("tools.use"))]
Csrf = [Depends(check_csrf)]
_FIELDS = ("source_language", "target_language", "glossary_id", "tone")


def _tool(request: Request, actor: User) -> Tool:
    with request.app.state.sessions() as db:
        return service.usable_tool(db, actor, request.app.state.tools, "translation")


def _page(
    request: Request,
    actor: User,
    values: dict[str, Any] | None = None,
    status: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    tool = _tool(request, actor)
    extras = form_extras(request, tool, actor)
    fields = [f for f in forms.fields_of(tool.input_model) if f.name in _FIELDS]
    return page(
        request,
        "tools/translation_document.html",
        status,
        tool=tool,
        fields=forms.with_choices(fields, extras.choices),
        notes=extras.notes,
        values=values or {},
        errors=errors or {},
        error=error,
        max_bytes=document.MAX_BYTES,
        max_paragraphs=document.MAX_PARAGRAPHS,
    )


@router.get("/tools/translation/document", name="translation_document")
def document_page(request: Request, actor: ToolUser) -> Response:
    """The upload form."""
    return _page(request, actor)


@router.post("/tools/translation/document", dependencies=Csrf)
async def translate_document(
    request: Request, actor: ToolUser, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    """Translate the uploaded document: the DOCX back, or the output page for ODT/PDF text."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k in _FIELDS}
    data = file.file.read(document.MAX_BYTES + 1) if file is not None else b""
    filename = (file.filename or "") if file is not None else ""
    tool = _tool(request, actor)
    try:
        with request.app.state.sessions() as db:
            result = await document.translate_document(
                request.app.state.tool_runner,
                db,
                actor,
                data,
                filename,
                forms.parse_form(tool.input_model, {**values, "text": "…"}),
            )
    except UserError as exc:
        if exc.status == 404:
            raise
        fields = exc.errors if isinstance(exc, service.InvalidInputs) else {}
        return _page(request, actor, values, exc.status, error_message(exc), fields)
    if result.data is None:
        message = gettext(
            "The document's text was translated (%(count)s paragraphs): check it here.",
            count=result.paragraphs,
        )
        if result.source_kind == "docx":
            message += " " + gettext(
                "It must be approved by a validator before it can be exported."
            )
        return done(request, f"/outputs/{result.output_id}", message)
    return Response(
        result.data,
        media_type=document.sniff.DOCX,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(result.filename)}",
            "X-Civique-Output": str(result.output_id),
        },
    )
