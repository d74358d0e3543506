"""The organisation's tools page (administrators): each tool on or off, and its validation
rule (the tool's default, always or never)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from civique.auth.models import User
from civique.errors import UserError
from civique.governance.policy import get_policy
from civique.i18n import gettext
from civique.orgs.pages import done, failed, page
from civique.tools import org_settings
from civique.web.deps import DB, AppSettings, check_csrf, require

router = APIRouter()
ToolsAdmin = Annotated[User, Depends(require("tools.manage"))]
Csrf = [Depends(check_csrf)]


def _page(
    request: Request, db: DB, settings: AppSettings, actor: User, status: int = 200, **extra: Any
) -> Response:
    policy = get_policy(db, actor.org_id)
    forced = {
        t
        for t in request.app.state.tools.tools()
        if t.id in settings.validation_tools or policy.requires_validation(t.id)
    }
    return page(
        request,
        "admin/tools.html",
        status,
        rows=org_settings.org_settings(db, actor.org_id, request.app.state.tools),
        forced={t.id for t in forced},
        **extra,
    )


@router.get("/admin/tools", name="admin_tools")
def tools_page(request: Request, actor: ToolsAdmin, db: DB, settings: AppSettings) -> Response:
    """The tools of the instance with the organisation's settings."""
    return _page(request, db, settings, actor)


@router.post("/admin/tools", dependencies=Csrf)
async def save_tools(
    request: Request, actor: ToolsAdmin, db: DB, settings: AppSettings
) -> Response:
    """Save every tool's setting; the change goes to the audit log."""
    form = await request.form()
    enabled = {str(v) for v in form.getlist("enabled")}
    wanted = {
        tool.id: (tool.id in enabled, str(form.get(f"validation-{tool.id}") or "inherit"))
        for tool in request.app.state.tools.tools()
    }
    try:
        org_settings.update_settings(db, actor, wanted, request.app.state.tools)
    except UserError as exc:
        status, message = failed(db, exc)
        return _page(request, db, settings, actor, status, error=message)
    return done(request, "/admin/tools", gettext("The tool settings were saved."))
