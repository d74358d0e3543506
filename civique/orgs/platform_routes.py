"""Platform pages: the organisations (tenants) of the instance, for platform admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import NotFound, UserError
from civique.i18n import gettext
from civique.orgs import service
from civique.orgs.pages import done, failed, page, registry_models
from civique.web.deps import DB, AppSettings, check_csrf, require

router = APIRouter()
PlatformAdmin = Annotated[User, Depends(require("platform.manage_orgs"))]
Csrf = [Depends(check_csrf)]
ShortText = Annotated[str, Form(max_length=1000)]


def _platform_page(
    request: Request, db: Session, actor: User, status: int = 200, **context: Any
) -> Response:
    context.setdefault("form", {"slug": "", "name": "", "admin_email": "", "admin_name": ""})
    context.setdefault("invitation", None)
    return page(
        request,
        "platform/index.html",
        status,
        organisations=service.list_organisations(db, actor),
        sizes=service.organisation_user_counts(db, actor),
        **context,
    )


@router.get("/platform", name="platform")
def platform_page(request: Request, actor: PlatformAdmin, db: DB) -> Response:
    """Every organisation of the instance, with the form to create one."""
    return _platform_page(request, db, actor)


@router.post("/platform/orgs", dependencies=Csrf)
def create_organisation(
    request: Request,
    actor: PlatformAdmin,
    db: DB,
    settings: AppSettings,
    slug: ShortText = "",
    name: ShortText = "",
    admin_email: ShortText = "",
    admin_name: ShortText = "",
) -> Response:
    """Create an organisation and its first administrator; shows the invitation once."""
    form = {"slug": slug, "name": name, "admin_email": admin_email, "admin_name": admin_name}
    models = service.default_model_ids(registry_models(request))
    try:
        org, link = service.create_organisation_with_admin(
            db, settings, actor, (slug, name), (admin_email, admin_name), models
        )
    except UserError as exc:
        status, message = failed(db, exc)
        return _platform_page(request, db, actor, status, form=form, error=message)
    invitation = {"org": org, "email": admin_email.strip().lower(), "link": link}
    return _platform_page(request, db, actor, invitation=invitation)


@router.post("/platform/orgs/{org_id}/active", dependencies=Csrf)
def set_organisation_active(
    request: Request, actor: PlatformAdmin, db: DB, org_id: int, active: ShortText = ""
) -> Response:
    """Suspend (its users can no longer log in or use tokens) or restore an organisation."""
    try:
        org = service.set_organisation_active(db, actor, org_id, active == "1")
    except UserError as exc:
        if isinstance(exc, NotFound):
            raise
        status, message = failed(db, exc)
        return _platform_page(request, db, actor, status, error=message)
    message = (
        gettext("%(name)s is restored.", name=org.name)
        if org.active
        else gettext("%(name)s is suspended.", name=org.name)
    )
    return done(request, "/platform", message)
