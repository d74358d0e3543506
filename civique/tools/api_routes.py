"""The tools API: `GET /api/v1/tools` and `POST /api/v1/tools/{tool_id}/runs`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response

from civique.auth.models import User
from civique.errors import UserError
from civique.governance import validation
from civique.i18n import gettext
from civique.tools import outputs, service
from civique.tools.registry import Tool
from civique.tools.schemas import FindingOut, RunOut, ToolOut, ToolsOut
from civique.web.deps import DB, AppSettings, api_error_body, require_api

router = APIRouter()
ApiTools = Annotated[User, Depends(require_api("tools.use"))]


def _schema(tool: Tool) -> dict[str, Any]:
    """The input model's JSON schema, titles and descriptions in the caller's language."""
    schema = tool.input_model.model_json_schema()
    for prop in schema.get("properties", {}).values():
        for key in ("title", "description"):
            if isinstance(prop.get(key), str):
                prop[key] = gettext(prop[key])
    return schema


@router.get("/api/v1/tools", tags=["Tools"])
def list_tools(request: Request, actor: ApiTools, db: DB, settings: AppSettings) -> ToolsOut:
    """The tools on in the caller's organisation, with the JSON schema of their inputs."""
    tools = service.enabled_tools(db, actor, request.app.state.tools)
    return ToolsOut(
        tools=[
            ToolOut(
                id=t.id,
                name=gettext(t.name),
                description=gettext(t.description),
                needs_validation=validation.needs_validation(db, settings, actor.org_id, t.id),
                formats=list(t.formats),
                input_schema=_schema(t),
            )
            for t in tools
        ]
    )


@router.post(
    "/api/v1/tools/{tool_id}/runs",
    tags=["Tools"],
    response_model=RunOut,
    responses={404: {"description": "Unknown tool, or switched off"}, 422: {}},
)
async def run_tool(
    request: Request,
    actor: ApiTools,
    settings: AppSettings,
    tool_id: str,
    body: Annotated[dict[str, Any], Body()],
) -> Response | RunOut:
    """Run a tool on the inputs (a JSON object following its schema); the output's id, text,
    checker findings and validation state. 422 names each refused field."""
    runner: service.ToolRunner = request.app.state.tool_runner
    with request.app.state.sessions() as db:
        try:
            plan = await runner.prepare(db, actor, tool_id, body)
        except service.InvalidInputs as exc:
            error = api_error_body(exc)
            error["error"]["fields"] = exc.errors
            return JSONResponse(error, status_code=422)
    last = await runner.run_to_end(actor, plan, channel="api")
    if last.kind != "done" or last.output_id is None:
        raise UserError(last.code or "upstream", 502)
    return await asyncio.to_thread(_run_out, request, actor, settings, last)


def _run_out(
    request: Request, actor: User, settings: AppSettings, last: service.RunEvent
) -> RunOut:
    assert last.output_id is not None
    with request.app.state.sessions() as db:
        current = validation.view(db, settings, actor, last.output_id)
        extras = outputs.output_tool(db, current.record, request.app.state.tools)
        findings = extras.findings if extras else []
        return RunOut(
            output_id=current.record.id,
            status=last.status,
            parts=extras.run.parts_total if extras else 1,
            validation=current.record.validation,
            needs_validation=current.needs,
            text_withheld=current.gated,
            text=None if current.gated else current.text,
            findings=[FindingOut(**vars(f)) for f in findings],
        )
