"""Organisation pages: logo, and (admin) units, teams, users, models, branding, organisations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import ALL_ROLES, Role
from civique.errors import N_, NotFound, UserError
from civique.i18n import gettext
from civique.orgs import service
from civique.orgs.models import Organisation
from civique.orgs.pages import done, failed, optional_id, page, registry_models
from civique.settings import CLASSIFICATION_ORDER
from civique.web.deps import DB, AppSettings, check_csrf, require

router = APIRouter()
# Any member, charter accepted or not: the charter page itself shows the logo.
Member = Annotated[User, Depends(require("account.manage"))]
OrgAdmin = Annotated[User, Depends(require("org.manage"))]
UsersAdmin = Annotated[User, Depends(require("org.manage_users"))]
ModelsAdmin = Annotated[User, Depends(require("org.manage_models"))]
BrandingAdmin = Annotated[User, Depends(require("org.manage_branding"))]
Csrf = [Depends(check_csrf)]
ShortText = Annotated[str, Form(max_length=1000)]
USERS_SHOWN = 500
KIND_LABELS = {
    "chat": N_("Chat"),
    "embedding": N_("Embeddings"),
    "transcription": N_("Transcription"),
    "rerank": N_("Reranking"),
}


@router.get("/org/logo")
def logo(user: Member, db: DB) -> Response:
    """The logo of the user's own organisation."""
    org = db.get(Organisation, user.org_id)
    if org is None or not org.logo:
        raise NotFound()
    return Response(
        org.logo,
        media_type=org.logo_mime or "application/octet-stream",
        headers={"Cache-Control": "private, max-age=300"},
    )


# Helpers ---------------------------------------------------------------------------------------


def _grantable_roles(actor: User) -> list[Role]:
    """Roles the actor may give: platform admin only by a platform admin."""
    return [r for r in ALL_ROLES if r != Role.PLATFORM_ADMIN or actor.role == Role.PLATFORM_ADMIN]


def _label(labels: dict[str, str], value: str) -> str:
    """The translated label of a known value; an unknown one is shown as it is."""
    return gettext(labels[value]) if value in labels else value


# Overview ------------------------------------------------------------------------------------


@router.get("/admin", name="admin")
def admin_home(request: Request, actor: OrgAdmin, db: DB) -> Response:
    """Administration overview with links to each page."""
    enabled = [m for m in service.list_org_models(db, actor) if m.enabled]
    return page(
        request,
        "admin/index.html",
        counts={
            "users": len(service.list_users(db, actor)),
            "units": len(service.list_units(db, actor)),
            "teams": len(service.list_teams(db, actor)),
            "models": len(enabled),
        },
    )


# Users ---------------------------------------------------------------------------------------


def _users_page(
    request: Request, db: Session, actor: User, status: int = 200, **context: Any
) -> Response:
    query = str(context.pop("q", ""))
    users = service.list_users(db, actor, query, USERS_SHOWN + 1)
    units = service.list_units(db, actor)
    context.setdefault("form", {"name": "", "email": "", "role": Role.AGENT, "unit_id": ""})
    context.setdefault("invitation", None)
    return page(
        request,
        "admin/users.html",
        status,
        users=users[:USERS_SHOWN],
        truncated=len(users) > USERS_SHOWN,
        units=units,
        unit_names={u.id: u.name for u in units},
        roles=_grantable_roles(actor),
        q=query,
        **context,
    )


@router.get("/admin/users", name="admin_users")
def users_page(request: Request, actor: UsersAdmin, db: DB, q: str = "") -> Response:
    """Users of the organisation, with the form to invite one."""
    return _users_page(request, db, actor, q=q[:200])


@router.post("/admin/users", dependencies=Csrf)
def create_user(
    request: Request,
    actor: UsersAdmin,
    db: DB,
    settings: AppSettings,
    name: ShortText = "",
    email: ShortText = "",
    role: ShortText = Role.AGENT,
    unit_id: ShortText = "",
) -> Response:
    """Create an account and show its one-time invitation link once."""
    form = {"name": name, "email": email, "role": role, "unit_id": unit_id}
    try:
        user, link = service.invite_user(
            db, settings, actor, email, name, role, optional_id(unit_id)
        )
    except UserError as exc:
        status, message = failed(db, exc)
        return _users_page(request, db, actor, status, form=form, error=message)
    return _users_page(request, db, actor, invitation={"user": user, "link": link})


def _user_page(
    request: Request, db: Session, actor: User, user_id: int, status: int = 200, **context: Any
) -> Response:
    target = service.org_user(db, actor, user_id)
    context.setdefault("reset_link", None)
    return page(
        request,
        "admin/user.html",
        status,
        target=target,
        units=service.list_units(db, actor),
        roles=_grantable_roles(actor),
        editable=target.role != Role.PLATFORM_ADMIN or actor.role == Role.PLATFORM_ADMIN,
        is_self=target.id == actor.id,
        **context,
    )


@router.get("/admin/users/{user_id}", name="admin_user")
def user_page(request: Request, actor: UsersAdmin, db: DB, user_id: int) -> Response:
    """One user: role, unit, activation, password reset."""
    return _user_page(request, db, actor, user_id)


@router.post("/admin/users/{user_id}/role", dependencies=Csrf)
def change_role(
    request: Request, actor: UsersAdmin, db: DB, user_id: int, role: ShortText = ""
) -> Response:
    """Give the user another role (their sessions end)."""
    try:
        service.change_role(db, actor, user_id, role)
    except UserError as exc:
        status, message = failed(db, exc)
        return _user_page(request, db, actor, user_id, status, error=message)
    return done(request, f"/admin/users/{user_id}", gettext("The role was changed."))


@router.post("/admin/users/{user_id}/unit", dependencies=Csrf)
def move_user(
    request: Request, actor: UsersAdmin, db: DB, user_id: int, unit_id: ShortText = ""
) -> Response:
    """Move the user to another unit (or none)."""
    try:
        service.set_unit(db, actor, user_id, optional_id(unit_id))
    except UserError as exc:
        status, message = failed(db, exc)
        return _user_page(request, db, actor, user_id, status, error=message)
    return done(request, f"/admin/users/{user_id}", gettext("The unit was changed."))


@router.post("/admin/users/{user_id}/active", dependencies=Csrf)
def set_active(
    request: Request, actor: UsersAdmin, db: DB, user_id: int, active: ShortText = ""
) -> Response:
    """Deactivate (ends every session and token at once) or reactivate the user."""
    try:
        user = service.set_active(db, actor, user_id, active == "1")
    except UserError as exc:
        status, message = failed(db, exc)
        return _user_page(request, db, actor, user_id, status, error=message)
    message = (
        gettext("The account was reactivated.")
        if user.active
        else gettext("The account was deactivated.")
    )
    return done(request, f"/admin/users/{user_id}", message)


@router.post("/admin/users/{user_id}/reset", dependencies=Csrf)
def reset_password(
    request: Request, actor: UsersAdmin, db: DB, settings: AppSettings, user_id: int
) -> Response:
    """Issue a one-time password-reset link, shown once."""
    try:
        link = service.reset_link(db, settings, actor, user_id)
    except UserError as exc:
        status, message = failed(db, exc)
        return _user_page(request, db, actor, user_id, status, error=message)
    return _user_page(request, db, actor, user_id, reset_link=link)


# Units ---------------------------------------------------------------------------------------


def _units_page(
    request: Request, db: Session, actor: User, status: int = 200, **context: Any
) -> Response:
    context.setdefault("name", "")
    return page(
        request,
        "admin/units.html",
        status,
        units=service.list_units(db, actor),
        sizes=service.unit_user_counts(db, actor),
        **context,
    )


@router.get("/admin/units", name="admin_units")
def units_page(request: Request, actor: OrgAdmin, db: DB) -> Response:
    """Units (services, departments) of the organisation."""
    return _units_page(request, db, actor)


@router.post("/admin/units", dependencies=Csrf)
def create_unit(request: Request, actor: OrgAdmin, db: DB, name: ShortText = "") -> Response:
    """Add a unit."""
    try:
        unit = service.create_unit(db, actor, name)
    except UserError as exc:
        status, message = failed(db, exc)
        return _units_page(request, db, actor, status, name=name, error=message)
    return done(request, "/admin/units", gettext("Unit %(name)s created.", name=unit.name))


@router.post("/admin/units/{unit_id}/delete", dependencies=Csrf)
def delete_unit(request: Request, actor: OrgAdmin, db: DB, unit_id: int) -> Response:
    """Remove a unit; its users and teams stay, without unit."""
    try:
        service.delete_unit(db, actor, unit_id)
    except UserError as exc:
        if isinstance(exc, NotFound):
            raise
        status, message = failed(db, exc)
        return _units_page(request, db, actor, status, error=message)
    return done(request, "/admin/units", gettext("The unit was deleted."))


# Teams ---------------------------------------------------------------------------------------


def _teams_page(
    request: Request, db: Session, actor: User, status: int = 200, **context: Any
) -> Response:
    units = service.list_units(db, actor)
    context.setdefault("form", {"name": "", "unit_id": ""})
    return page(
        request,
        "admin/teams.html",
        status,
        teams=service.list_teams(db, actor),
        sizes=service.team_sizes(db, actor),
        units=units,
        unit_names={u.id: u.name for u in units},
        **context,
    )


@router.get("/admin/teams", name="admin_teams")
def teams_page(request: Request, actor: OrgAdmin, db: DB) -> Response:
    """Teams of the organisation."""
    return _teams_page(request, db, actor)


@router.post("/admin/teams", dependencies=Csrf)
def create_team(
    request: Request, actor: OrgAdmin, db: DB, name: ShortText = "", unit_id: ShortText = ""
) -> Response:
    """Add a team, optionally in a unit."""
    try:
        team = service.create_team(db, actor, name, optional_id(unit_id))
    except UserError as exc:
        status, message = failed(db, exc)
        form = {"name": name, "unit_id": unit_id}
        return _teams_page(request, db, actor, status, form=form, error=message)
    return done(
        request, f"/admin/teams/{team.id}", gettext("Team %(name)s created.", name=team.name)
    )


def _team_page(
    request: Request, db: Session, actor: User, team_id: int, status: int = 200, **context: Any
) -> Response:
    team = service.org_team(db, actor, team_id)
    members = service.team_members(db, actor, team_id)
    member_ids = {m.id for m in members}
    units = service.list_units(db, actor)
    return page(
        request,
        "admin/team.html",
        status,
        team=team,
        members=members,
        candidates=[u for u in service.list_users(db, actor) if u.id not in member_ids],
        unit_name=next((u.name for u in units if u.id == team.unit_id), None),
        **context,
    )


@router.get("/admin/teams/{team_id}", name="admin_team")
def team_page(request: Request, actor: OrgAdmin, db: DB, team_id: int) -> Response:
    """A team and its members."""
    return _team_page(request, db, actor, team_id)


@router.post("/admin/teams/{team_id}/delete", dependencies=Csrf)
def delete_team(request: Request, actor: OrgAdmin, db: DB, team_id: int) -> Response:
    """Remove a team and its memberships."""
    try:
        service.delete_team(db, actor, team_id)
    except UserError as exc:
        if isinstance(exc, NotFound):
            raise
        status, message = failed(db, exc)
        return _teams_page(request, db, actor, status, error=message)
    return done(request, "/admin/teams", gettext("The team was deleted."))


@router.post("/admin/teams/{team_id}/members", dependencies=Csrf)
def add_member(
    request: Request, actor: OrgAdmin, db: DB, team_id: int, user_id: ShortText = ""
) -> Response:
    """Add a user of the organisation to the team."""
    chosen = optional_id(user_id)
    if chosen is None:
        raise NotFound()
    service.set_membership(db, actor, team_id, chosen, True)
    return done(request, f"/admin/teams/{team_id}", gettext("Member added."))


@router.post("/admin/teams/{team_id}/members/{user_id}/remove", dependencies=Csrf)
def remove_member(
    request: Request, actor: OrgAdmin, db: DB, team_id: int, user_id: int
) -> Response:
    """Take a user out of the team."""
    service.set_membership(db, actor, team_id, user_id, False)
    return done(request, f"/admin/teams/{team_id}", gettext("Member removed."))


# Models --------------------------------------------------------------------------------------


def _model_rows(
    request: Request, db: Session, actor: User, posted: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One row per registered model: saved rules, or what was just posted."""
    saved = {m.model_id: m for m in service.list_org_models(db, actor)}
    rows = []
    for info in registry_models(request):
        rule = saved.get(info.id)
        if posted is not None:
            enabled, roles = info.id in posted["enabled"], set(posted["roles"].get(info.id, []))
            default = posted["default"] == info.id
            clearance = posted["clearances"].get(info.id) or None
        else:
            enabled = bool(rule and rule.enabled)
            roles, default = set(rule.roles if rule else []), bool(rule and rule.is_default)
            clearance = rule.clearance if rule else None
        rows.append(
            {
                "info": info,
                "kind": _label(KIND_LABELS, info.kind),
                "level": _label(service.CLASSIFICATION_LABELS, info.classification_ceiling),
                "enabled": enabled,
                "roles": roles,
                "default": default,
                "clearance": clearance,
                "lower_levels": _lower_levels(info.classification_ceiling),
            }
        )
    return rows


def _lower_levels(ceiling: str) -> list[tuple[str, str]]:
    """The levels an organisation may clear a model for instead of the platform's ceiling."""
    below = CLASSIFICATION_ORDER[: CLASSIFICATION_ORDER.index(ceiling)]
    return [(level, _label(service.CLASSIFICATION_LABELS, level)) for level in below]


@router.get("/admin/models", name="admin_models")
def models_page(request: Request, actor: ModelsAdmin, db: DB) -> Response:
    """Which models the organisation offers, to which roles, and the default one."""
    return page(request, "admin/models.html", rows=_model_rows(request, db, actor))


@router.post("/admin/models", dependencies=Csrf)
def save_models(
    request: Request,
    actor: ModelsAdmin,
    db: DB,
    enabled: Annotated[list[str] | None, Form()] = None,
    roles: Annotated[list[str] | None, Form()] = None,
    default: ShortText = "",
    clearance: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Save the model table; each checkbox of `roles` is `role|model id`, each choice of
    `clearance` is `model id|level` (no level: the platform's ceiling)."""
    enabled = enabled or []
    chosen: dict[str, list[str]] = {}
    for value in roles or []:
        role, _, model_id = value.partition("|")
        chosen.setdefault(model_id, []).append(role)
    clearances: dict[str, str] = {}
    for value in clearance or []:
        model_id, _, level = value.rpartition("|")
        clearances[model_id] = level
    posted = {
        "enabled": set(enabled),
        "roles": chosen,
        "default": default,
        "clearances": clearances,
    }
    models = registry_models(request)
    known = [m.id for m in models]
    ceilings = {m.id: m.classification_ceiling for m in models}
    try:
        service.save_org_models(
            db, actor, known, set(enabled), chosen, default, clearances, ceilings
        )
    except UserError as exc:
        status, message = failed(db, exc)
        rows = _model_rows(request, db, actor, posted)
        return page(request, "admin/models.html", status, rows=rows, error=message)
    return done(request, "/admin/models", gettext("The model settings were saved."))


# Branding ------------------------------------------------------------------------------------


@router.get("/admin/branding", name="admin_branding")
def branding_page(request: Request, actor: BrandingAdmin, db: DB) -> Response:
    """Name, colour and logo of the organisation."""
    org = db.get(Organisation, actor.org_id)
    assert org is not None
    form = {"name": org.name, "colour": org.colour, "address": org.address, "phone": org.phone,
            "email": org.email, "website": org.website}
    return page(request, "admin/branding.html", form=form)


@router.post("/admin/branding", dependencies=Csrf)
def save_branding(
    request: Request,
    actor: BrandingAdmin,
    db: DB,
    settings: AppSettings,
    name: ShortText = "",
    colour: ShortText = "",
    logo: Annotated[UploadFile | None, File()] = None,
    address: ShortText = "",
    phone: ShortText = "",
    email: ShortText = "",
    website: ShortText = "",
) -> Response:
    """Save the branding; the logo is read up to one byte past the limit and checked by content."""
    limit = settings.max_logo_bytes
    data = logo.file.read(limit + 1) if logo is not None else b""
    contact = {"address": address, "phone": phone, "email": email, "website": website}
    try:
        service.update_branding(db, actor, name, colour, data or None, limit, contact)
    except UserError as exc:
        status, message = failed(db, exc)
        form = {"name": name, "colour": colour, **contact}
        return page(request, "admin/branding.html", status, form=form, error=message)
    return done(request, "/admin/branding", gettext("The branding was saved."))
