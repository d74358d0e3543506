"""Tool pages: the list, a tool's form (generated from its schema), its run streamed as
server-sent events (or, without script, run then redirected to the output), regeneration,
comparison with the previous version and the FALC proof-reading record."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from civique.auth.models import User
from civique.errors import UserError, error_message
from civique.governance import validation_routes
from civique.i18n import gettext
from civique.orgs.pages import done, failed, page
from civique.tools import forms, outputs, service
from civique.tools.registry import FormExtras, Tool, ToolRegistry
from civique.web.deps import DB, AppSettings, api_error_body, check_csrf, require

router = APIRouter()
ToolUser = Annotated[User, Depends(require("tools.use"))]
Csrf = [Depends(check_csrf)]
# A submit button of this name shows the form again for the values typed (e.g. the fields of
# the letter template just chosen) instead of running the tool.
REFRESH = "_refresh"


def _registry(request: Request) -> ToolRegistry:
    return request.app.state.tools


def _runner(request: Request) -> service.ToolRunner:
    return request.app.state.tool_runner


def _streams(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


@router.get("/tools", name="tools")
def tools_page(request: Request, actor: ToolUser, db: DB) -> Response:
    """The tools on in the organisation, as cards."""
    return page(
        request, "tools/index.html", tools=service.enabled_tools(db, actor, _registry(request))
    )


def form_extras(request: Request, tool: Tool, actor: User) -> FormExtras:
    """The tool's choices and notes for the actor's organisation and default chat model."""
    if tool.form_extras is None:
        return FormExtras()
    with request.app.state.sessions() as db:
        try:
            model = service.chat_model(request.app.state.gateway, db, actor)
        except UserError:
            model = None  # no model: the run will say so
        return tool.form_extras(service.tool_context(db, actor.org_id, actor), model)


def _form_page(
    request: Request,
    actor: User,
    tool: Tool,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
    error: str | None = None,
) -> Response:
    with request.app.state.sessions() as db:
        fields = service.form_fields(db, actor, tool, values)
    extras = form_extras(request, tool, actor)
    return page(
        request,
        "tools/tool.html",
        status,
        tool=tool,
        fields=forms.with_choices(fields, extras.choices),
        notes=extras.notes,
        values=values or {},
        errors=errors or {},
        error=error,
    )


@router.get("/tools/{tool_id}", name="tool")
def tool_page(request: Request, actor: ToolUser, db: DB, tool_id: str) -> Response:
    """A tool's form; query parameters naming its fields preselect them (`?template=refusal`)."""
    tool = service.usable_tool(db, actor, _registry(request), tool_id)
    names = tool.input_model.model_fields
    values = {k: v for k, v in request.query_params.items() if k in names}
    return _form_page(request, actor, tool, values)


def _posted(form: Any) -> dict[str, Any]:
    """The posted values (a field given several times, ticked boxes, as a list)."""
    found: dict[str, Any] = {}
    for key in form:
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        if key not in ("csrf_token", REFRESH) and items:
            found[key] = items if len(items) > 1 else items[0]
    return found


def _refused(
    request: Request, actor: User, tool: Tool, exc: UserError, values: Mapping[str, Any]
) -> Response:
    """A run refused before it started: field errors (422) or a limit, the values kept."""
    fields = exc.errors if isinstance(exc, service.InvalidInputs) else {}
    if _streams(request):
        body = api_error_body(exc)
        body["error"]["fields"] = fields
        return JSONResponse(body, status_code=exc.status)
    return _form_page(request, actor, tool, values, fields, exc.status, error_message(exc))


@router.post("/tools/{tool_id}", dependencies=Csrf)
async def run_tool(request: Request, actor: ToolUser, tool_id: str) -> Response:
    """Run the tool on the posted form: a stream when the page's script asks for one."""
    form = await request.form()
    with request.app.state.sessions() as db:
        tool = service.usable_tool(db, actor, _registry(request), tool_id)
    values = _posted(form)
    if REFRESH in form:
        return _form_page(request, actor, tool, values)
    with request.app.state.sessions() as db:
        try:
            plan = await _runner(request).prepare(
                db, actor, tool_id, forms.parse_form(tool.input_model, values)
            )
        except UserError as exc:
            if exc.status == 404:
                raise
            return _refused(request, actor, tool, exc, values)
    return await _start(
        request,
        actor,
        plan,
        None,
        lambda msg: _form_page(request, actor, tool, values, status=502, error=msg),
    )


@router.post("/outputs/{output_id}/regenerate", dependencies=Csrf)
async def regenerate(request: Request, actor: ToolUser, output_id: int) -> Response:
    """Run the output's tool again with the same inputs: a new output, linked to this one."""
    with request.app.state.sessions() as db:
        plan, previous = await _runner(request).prepare_again(db, actor, output_id)
    return await _start(
        request, actor, plan, previous, lambda msg: done(request, f"/outputs/{output_id}", msg)
    )


async def _start(
    request: Request,
    actor: User,
    plan: service.Plan,
    previous: int | None,
    on_error: Any,
) -> Response:
    runner = _runner(request)
    if _streams(request):

        async def events() -> AsyncIterator[str]:
            async for event in runner.run(actor, plan, previous):
                yield _sse(event)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
    last = await runner.run_to_end(actor, plan, previous)
    if last.kind == "done" and last.output_id is not None:
        return done(request, f"/outputs/{last.output_id}", _done_message(last))
    return on_error(error_message(UserError(last.code)))


def _done_message(event: service.RunEvent) -> str:
    if event.status == "partial":
        return gettext(
            "The model failed before the end: the draft so far is kept. %(reason)s",
            reason=error_message(UserError(event.code)),
        )
    return gettext("Draft ready: check it, edit it, then export it.")


def _sse(event: service.RunEvent) -> str:
    data: dict[str, object]
    if event.kind == "part":
        data = {
            "part": event.part,
            "parts": event.parts,
            "message": gettext("Part %(part)s of %(parts)s", part=event.part, parts=event.parts),
        }
    elif event.kind == "delta":
        data = {"text": event.text, "part": event.part}
    elif event.kind == "queued":
        data = {
            "message": gettext(
                "Waiting for the model: position %(position)s in the queue.",
                position=event.position,
            )
        }
    elif event.kind == "done":
        data = {
            "url": f"/outputs/{event.output_id}",
            "status": event.status,
            "message": _done_message(event),
        }
    else:
        data = {"code": event.code, "message": error_message(UserError(event.code))}
    return f"event: {event.kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get("/outputs/{output_id}/compare", name="output_compare")
def compare_page(request: Request, actor: ToolUser, db: DB, output_id: int) -> Response:
    """The output against the version it regenerated, word by word."""
    comparison = outputs.compare(db, actor, output_id)
    return page(request, "tools/compare.html", comparison=comparison, output_id=output_id)


@router.post("/outputs/{output_id}/proofreading", dependencies=Csrf)
def proofreading(
    request: Request,
    actor: ToolUser,
    db: DB,
    settings: AppSettings,
    output_id: int,
    name: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=400)] = "",
    checked_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Record who proof-read the output (FALC: a person of the audience or a trained
    proof-reader), in what capacity and when."""
    try:
        outputs.record_proofreading(db, actor, output_id, name, role, checked_on)
    except UserError as exc:
        if exc.status in (403, 404):
            raise
        status, message = failed(db, exc)
        typed = {"name": name, "role": role, "checked_on": checked_on}
        return validation_routes.output_page_response(
            request, db, settings, actor, output_id, status, message, proofreading=typed
        )
    return done(request, f"/outputs/{output_id}", gettext("The proof-reading was recorded."))
