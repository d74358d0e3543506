"""Organisation administration. Every function takes the acting user and stays in their tenant."""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import ALL_ROLES, Role, can
from civique.auth.service import active_admins
from civique.errors import Forbidden, NotFound, UserError
from civique.orgs.models import Organisation, OrgModel, Team, TeamMember, Unit
from civique.textcheck import clean_text

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LOGO_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def _require(actor: User, action: str) -> None:
    if not can(actor.role, action):
        raise Forbidden()


def org_user(session: Session, actor: User, user_id: int) -> User:
    """A user of the actor's organisation (404 for any other)."""
    user = session.get(User, user_id)
    if user is None or user.org_id != actor.org_id:
        raise NotFound()
    return user


def list_users(session: Session, actor: User) -> list[User]:
    """Users of the actor's organisation."""
    _require(actor, "org.manage_users")
    return list(
        session.scalars(select(User).where(User.org_id == actor.org_id).order_by(User.name))
    )


def change_role(session: Session, actor: User, user_id: int, role: str) -> User:
    """Give a user another role; platform admin can only be granted by a platform admin."""
    _require(actor, "org.manage_users")
    user = org_user(session, actor, user_id)
    if role not in ALL_ROLES:
        raise UserError("role_invalid")
    if role == Role.PLATFORM_ADMIN and actor.role != Role.PLATFORM_ADMIN:
        raise Forbidden()
    if user.id == actor.id:
        raise UserError("self_change")
    if (
        user.role == Role.ORG_ADMIN
        and role != Role.ORG_ADMIN
        and active_admins(session, user.org_id) <= 1
    ):
        raise UserError("last_admin")
    user.role = role
    user.session_epoch += 1
    session.commit()
    return user


def set_active(session: Session, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (ends sessions, refuses tokens) or reactivate a user."""
    _require(actor, "org.manage_users")
    user = org_user(session, actor, user_id)
    if user.id == actor.id:
        raise UserError("self_change")
    if not active and user.role == Role.ORG_ADMIN and active_admins(session, user.org_id) <= 1:
        raise UserError("last_admin")
    user.active = active
    user.session_epoch += 1
    session.commit()
    return user


def set_unit(session: Session, actor: User, user_id: int, unit_id: int | None) -> User:
    """Move a user to another unit of the same organisation."""
    _require(actor, "org.manage_users")
    user = org_user(session, actor, user_id)
    if unit_id is not None:
        org_unit(session, actor, unit_id)
    user.unit_id = unit_id
    session.commit()
    return user


def list_units(session: Session, actor: User) -> list[Unit]:
    """Units of the actor's organisation."""
    return list(
        session.scalars(select(Unit).where(Unit.org_id == actor.org_id).order_by(Unit.name))
    )


def org_unit(session: Session, actor: User, unit_id: int) -> Unit:
    """A unit of the actor's organisation (404 otherwise)."""
    unit = session.get(Unit, unit_id)
    if unit is None or unit.org_id != actor.org_id:
        raise NotFound()
    return unit


def _unique_name(session: Session, model: type[Unit] | type[Team], org_id: int, name: str) -> str:
    name = clean_text(name, 200)
    if session.scalar(select(model.id).where(model.org_id == org_id, model.name == name)):
        raise UserError("name_taken", 409)
    return name


def create_unit(session: Session, actor: User, name: str) -> Unit:
    """Add a unit."""
    _require(actor, "org.manage")
    unit = Unit(org_id=actor.org_id, name=_unique_name(session, Unit, actor.org_id, name))
    session.add(unit)
    session.commit()
    return unit


def delete_unit(session: Session, actor: User, unit_id: int) -> None:
    """Remove a unit (its users and teams stay, without unit)."""
    _require(actor, "org.manage")
    session.delete(org_unit(session, actor, unit_id))
    session.commit()


def list_teams(session: Session, actor: User) -> list[Team]:
    """Teams of the actor's organisation."""
    return list(
        session.scalars(select(Team).where(Team.org_id == actor.org_id).order_by(Team.name))
    )


def org_team(session: Session, actor: User, team_id: int) -> Team:
    """A team of the actor's organisation (404 otherwise)."""
    team = session.get(Team, team_id)
    if team is None or team.org_id != actor.org_id:
        raise NotFound()
    return team


def create_team(session: Session, actor: User, name: str, unit_id: int | None = None) -> Team:
    """Add a team, optionally attached to a unit."""
    _require(actor, "org.manage")
    if unit_id is not None:
        org_unit(session, actor, unit_id)
    team = Team(
        org_id=actor.org_id, unit_id=unit_id, name=_unique_name(session, Team, actor.org_id, name)
    )
    session.add(team)
    session.commit()
    return team


def delete_team(session: Session, actor: User, team_id: int) -> None:
    """Remove a team and its memberships."""
    _require(actor, "org.manage")
    session.delete(org_team(session, actor, team_id))
    session.commit()


def team_members(session: Session, actor: User, team_id: int) -> list[User]:
    """Members of a team of the actor's organisation."""
    team = org_team(session, actor, team_id)
    stmt = (
        select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.id)
    )
    return list(session.scalars(stmt.order_by(User.name)))


def set_membership(session: Session, actor: User, team_id: int, user_id: int, member: bool) -> None:
    """Add a user to, or remove them from, a team (both of the actor's organisation)."""
    _require(actor, "org.manage")
    team = org_team(session, actor, team_id)
    user = org_user(session, actor, user_id)
    session.execute(
        delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)
    )
    if member:
        session.add(TeamMember(team_id=team.id, user_id=user.id))
    session.commit()


def list_org_models(session: Session, actor: User) -> list[OrgModel]:
    """Model rules of the actor's organisation."""
    return list(session.scalars(select(OrgModel).where(OrgModel.org_id == actor.org_id)))


def set_org_model(
    session: Session,
    actor: User,
    model_id: str,
    known_models: set[str],
    enabled: bool,
    roles: list[str],
    is_default: bool = False,
) -> OrgModel:
    """Allow or forbid a model, for some roles (none listed: every role)."""
    _require(actor, "org.manage_models")
    if model_id not in known_models:
        raise UserError("unknown_model", 404)
    if any(r not in ALL_ROLES for r in roles):
        raise UserError("role_invalid")
    row = session.scalar(
        select(OrgModel).where(OrgModel.org_id == actor.org_id, OrgModel.model_id == model_id)
    )
    if row is None:
        row = OrgModel(org_id=actor.org_id, model_id=model_id)
        session.add(row)
    if is_default:
        for other in list_org_models(session, actor):
            other.is_default = False
    row.enabled, row.roles, row.is_default = enabled, sorted(set(roles)), is_default and enabled
    session.commit()
    return row


def update_branding(
    session: Session, actor: User, name: str, colour: str, logo: bytes | None, max_logo: int
) -> Organisation:
    """Change the organisation's display name, colour and logo (checked by content)."""
    _require(actor, "org.manage_branding")
    org = session.get(Organisation, actor.org_id)
    assert org is not None
    org.name = clean_text(name, 200)
    if not _COLOUR.match(colour):
        raise UserError("colour_invalid")
    org.colour = colour.lower()
    if logo:
        org.logo_mime = logo_mime(logo, max_logo)
        org.logo = logo
    session.commit()
    return org


def logo_mime(data: bytes, limit: int) -> str:
    """The image type sniffed from the bytes; refuses anything else or anything too big."""
    if len(data) > limit:
        raise UserError("logo_invalid", limit=limit)
    for magic, mime in _LOGO_MAGIC.items():
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise UserError("logo_invalid", limit=limit)


def list_organisations(session: Session, actor: User) -> list[Organisation]:
    """All organisations (platform admins only)."""
    _require(actor, "platform.manage_orgs")
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def create_organisation(
    session: Session, actor: User | None, slug: str, name: str, default_models: list[str]
) -> Organisation:
    """Create a tenant with the given models allowed for every role (actor None: the CLI)."""
    if actor is not None:
        _require(actor, "platform.manage_orgs")
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        raise UserError("slug_invalid")
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        raise UserError("name_taken", 409)
    org = Organisation(slug=slug, name=clean_text(name, 200))
    session.add(org)
    session.flush()
    for index, model_id in enumerate(default_models):
        session.add(OrgModel(org_id=org.id, model_id=model_id, roles=[], is_default=index == 0))
    session.commit()
    return org


def set_organisation_active(
    session: Session, actor: User, org_id: int, active: bool
) -> Organisation:
    """Suspend or restore a tenant (a platform admin cannot suspend their own)."""
    _require(actor, "platform.manage_orgs")
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound()
    if org.id == actor.org_id and not active:
        raise UserError("self_change")
    org.active = active
    session.commit()
    return org
