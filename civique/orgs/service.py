"""Organisation administration. Every function takes the acting user and stays in their tenant."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import ALL_ROLES, Role, can
from civique.auth.service import active_admins, create_user, issue_link, normalise_email
from civique.documents.models import Collection
from civique.errors import N_, Forbidden, NotFound, UserError
from civique.governance import audit
from civique.i18n import gettext
from civique.llm.types import ModelInfo
from civique.orgs.models import Organisation, OrgModel, Team, TeamMember, Unit
from civique.settings import CLASSIFICATION_ORDER, Settings
from civique.textcheck import clean_text

CLASSIFICATION_LABELS = {
    "public": N_("public data"),
    "internal": N_("internal data"),
    "confidential": N_("confidential data"),
    "personal": N_("personal data"),
    "sensitive": N_("sensitive personal data"),
}
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


def _managed_user(session: Session, actor: User, user_id: int) -> User:
    # An org admin must not demote, deactivate or reset a platform admin: a reset link would
    # hand them the platform admin's account.
    user = org_user(session, actor, user_id)
    if user.role == Role.PLATFORM_ADMIN and actor.role != Role.PLATFORM_ADMIN:
        raise Forbidden()
    return user


def _name(text: str) -> str:
    """A display name: required, at most 200 characters."""
    if not text.strip():
        raise UserError("name_required")
    return clean_text(text, 200)


def list_users(
    session: Session, actor: User, query: str = "", limit: int | None = None
) -> list[User]:
    """Users of the actor's organisation, optionally those whose name or e-mail contains `query`."""
    _require(actor, "org.manage_users")
    stmt = select(User).where(User.org_id == actor.org_id)
    if query.strip():
        pattern = f"%{query.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(pattern), User.email.like(pattern)))
    return list(session.scalars(stmt.order_by(User.name, User.id).limit(limit)))


def change_role(session: Session, actor: User, user_id: int, role: str) -> User:
    """Give a user another role; platform admin can only be granted by a platform admin."""
    _require(actor, "org.manage_users")
    user = _managed_user(session, actor, user_id)
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
    if user.role != role:
        audit.record(
            session,
            actor.org_id,
            actor,
            "user.role_changed",
            target=audit.user_target(user),
            changes={"role": [user.role, role]},
        )
    user.role = role
    user.session_epoch += 1
    session.commit()
    return user


def set_active(session: Session, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (ends sessions, refuses tokens) or reactivate a user."""
    _require(actor, "org.manage_users")
    user = _managed_user(session, actor, user_id)
    if user.id == actor.id:
        raise UserError("self_change")
    if not active and user.role == Role.ORG_ADMIN and active_admins(session, user.org_id) <= 1:
        raise UserError("last_admin")
    if user.active != active:
        action = "user.reactivated" if active else "user.deactivated"
        audit.record(session, actor.org_id, actor, action, target=audit.user_target(user))
    user.active = active
    user.session_epoch += 1
    session.commit()
    return user


def set_unit(session: Session, actor: User, user_id: int, unit_id: int | None) -> User:
    """Move a user to another unit of the same organisation."""
    _require(actor, "org.manage_users")
    user = org_user(session, actor, user_id)
    new = org_unit(session, actor, unit_id) if unit_id is not None else None
    if user.unit_id != unit_id:
        old = session.get(Unit, user.unit_id) if user.unit_id is not None else None
        audit.record(
            session,
            actor.org_id,
            actor,
            "user.unit_changed",
            target=audit.user_target(user),
            changes={"unit": [old.name if old else None, new.name if new else None]},
        )
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
    name = _name(name)
    if session.scalar(select(model.id).where(model.org_id == org_id, model.name == name)):
        raise UserError("name_taken", 409)
    return name


def create_unit(session: Session, actor: User, name: str) -> Unit:
    """Add a unit."""
    _require(actor, "org.manage")
    unit = Unit(org_id=actor.org_id, name=_unique_name(session, Unit, actor.org_id, name))
    session.add(unit)
    session.flush()
    target = audit.target("unit", unit.id, unit.name)
    audit.record(session, actor.org_id, actor, "unit.created", target=target)
    session.commit()
    return unit


def delete_unit(session: Session, actor: User, unit_id: int) -> None:
    """Remove a unit (its users and teams stay, without unit)."""
    _require(actor, "org.manage")
    unit = org_unit(session, actor, unit_id)
    _refuse_if_collections(session, Collection.unit_id == unit.id)
    target = audit.target("unit", unit.id, unit.name)
    audit.record(session, actor.org_id, actor, "unit.deleted", target=target)
    session.delete(unit)
    from civique.lab import rollups  # its outputs lose their unit: the Lab re-reads them

    rollups.invalidate(session, actor.org_id)
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
    session.flush()
    target = audit.target("team", team.id, team.name)
    audit.record(session, actor.org_id, actor, "team.created", target=target)
    session.commit()
    return team


def delete_team(session: Session, actor: User, team_id: int) -> None:
    """Remove a team and its memberships."""
    _require(actor, "org.manage")
    team = org_team(session, actor, team_id)
    _refuse_if_collections(session, Collection.team_id == team.id)
    target = audit.target("team", team.id, team.name)
    audit.record(session, actor.org_id, actor, "team.deleted", target=target)
    session.delete(team)
    session.commit()


def _refuse_if_collections(session: Session, condition: ColumnElement[bool]) -> None:
    """Deleting a team or unit would cascade to the collections it holds: refuse instead."""
    held = session.scalar(select(func.count()).where(condition)) or 0
    if held:
        raise UserError("holds_collections", 409, count=held)


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
    clearance: str | None = None,
) -> OrgModel:
    """Allow or forbid a model, for some roles (none listed: every role), and lower the data
    it is cleared for in the organisation (None: the platform's ceiling)."""
    _require(actor, "org.manage_models")
    if model_id not in known_models:
        raise UserError("unknown_model", 404)
    if any(r not in ALL_ROLES for r in roles):
        raise UserError("role_invalid")
    if clearance is not None and clearance not in CLASSIFICATION_ORDER:
        raise UserError("clearance_invalid")
    row = session.scalar(
        select(OrgModel).where(OrgModel.org_id == actor.org_id, OrgModel.model_id == model_id)
    )
    before = _rule(row) if row is not None else {}
    if row is None:
        row = OrgModel(org_id=actor.org_id, model_id=model_id)
        session.add(row)
    if is_default:
        for other in list_org_models(session, actor):
            other.is_default = False
    row.enabled, row.roles, row.is_default = enabled, sorted(set(roles)), is_default and enabled
    row.clearance = clearance
    changed = audit.changes(before, _rule(row))
    if changed:
        target = audit.target("model", model_id, model_id)
        audit.record(session, actor.org_id, actor, "model.changed", target=target, changes=changed)
    session.commit()
    return row


def _rule(row: OrgModel) -> dict[str, object]:
    """What the audit log compares of a model rule."""
    return {
        "enabled": bool(row.enabled),
        "roles": list(row.roles or []),
        "default": row.is_default,
        "clearance": row.clearance,
    }


def update_branding(
    session: Session, actor: User, name: str, colour: str, logo: bytes | None, max_logo: int,
    contact: dict[str, str] | None = None,
) -> Organisation:
    """Change the organisation's display name, colour, logo (checked by content) and, with
    `contact`, the letterhead's address, phone, email and website."""
    _require(actor, "org.manage_branding")
    org = session.get(Organisation, actor.org_id)
    assert org is not None
    # Check everything before changing anything: a refused form leaves the organisation as it was.
    name = _name(name)
    if not _COLOUR.match(colour):
        raise UserError("colour_invalid")
    mime = logo_mime(logo, max_logo) if logo else None
    letterhead = _letterhead(contact) if contact is not None else _letterhead_of(org)
    changed = audit.changes(
        {"name": org.name, "colour": org.colour, **_letterhead_of(org)},
        {"name": name, "colour": colour.lower(), **letterhead},
    )
    if logo and mime:
        changed["logo"] = [org.logo_mime, mime]
    org.name, org.colour = name, colour.lower()
    org.address, org.phone = letterhead["address"], letterhead["phone"]
    org.email, org.website = letterhead["email"], letterhead["website"]
    if logo and mime:
        org.logo_mime, org.logo = mime, logo
    if changed:
        audit.record(session, org.id, actor, "org.branding", changes=changed)
    session.commit()
    return org


_WEBSITE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _letterhead_of(org: Organisation) -> dict[str, str]:
    return {"address": org.address or "", "phone": org.phone or "", "email": org.email or "",
            "website": org.website or ""}


def _letterhead(contact: dict[str, str]) -> dict[str, str]:
    """The letterhead fields, checked: at most 6 address lines, a valid e-mail and website."""
    lines = [" ".join(line.split()) for line in contact.get("address", "").splitlines()]
    lines = [line for line in lines if line]
    phone, email, website = (" ".join(contact.get(k, "").split()) for k in
                             ("phone", "email", "website"))
    if (len(lines) > 6 or any(len(line) > 200 for line in lines) or len(phone) > 40
            or (email and (len(email) > 200 or not _EMAIL.match(email)))
            or (website and (len(website) > 200 or not _WEBSITE.match(website)))):
        raise UserError("letterhead_invalid")
    return {"address": "\n".join(lines), "phone": phone, "email": email, "website": website}


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
    org = Organisation(slug=slug, name=_name(name))
    session.add(org)
    session.flush()
    for index, model_id in enumerate(default_models):
        session.add(OrgModel(org_id=org.id, model_id=model_id, roles=[], is_default=index == 0))
    target = audit.target("org", org.id, org.name)
    audit.record(session, org.id, actor, "org.created", target=target, models=default_models)
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
    if org.active != active:
        # In the organisation's own log: its administrators see who suspended it.
        action = "org.restored" if active else "org.suspended"
        audit.record(session, org.id, actor, action, target=audit.target("org", org.id, org.name))
    org.active = active
    session.commit()
    return org


def invite_user(
    session: Session,
    settings: Settings,
    actor: User,
    email: str,
    name: str,
    role: str,
    unit_id: int | None,
) -> tuple[User, str]:
    """Create an account in the actor's organisation; returns it and its one-time invitation."""
    _require(actor, "org.manage_users")
    if role == Role.PLATFORM_ADMIN and actor.role != Role.PLATFORM_ADMIN:
        raise Forbidden()
    name = _name(name)
    if unit_id is not None:
        org_unit(session, actor, unit_id)
    user = create_user(session, actor.org_id, email, name, role, unit_id)
    _record_invitation(session, actor, user)
    return user, issue_link(session, settings, user, "invite", actor)


def _record_invitation(session: Session, actor: User, user: User) -> None:
    """Note a new account in its organisation's log (the link itself is never logged)."""
    target = audit.user_target(user)
    audit.record(session, user.org_id, actor, "user.invited", target=target, role=user.role)


def reset_link(session: Session, settings: Settings, actor: User, user_id: int) -> str:
    """A one-time password-reset link for an active user of the actor's organisation."""
    _require(actor, "org.manage_users")
    user = _managed_user(session, actor, user_id)
    if not user.active:
        raise UserError("account_inactive", 409)
    audit.record(session, actor.org_id, actor, "user.reset_link", target=audit.user_target(user))
    return issue_link(session, settings, user, "reset", actor)


def unit_user_counts(session: Session, actor: User) -> dict[int, int]:
    """Number of users per unit of the actor's organisation."""
    stmt = (
        select(User.unit_id, func.count())
        .where(User.org_id == actor.org_id, User.unit_id.is_not(None))
        .group_by(User.unit_id)
    )
    return {
        int(unit_id): int(count) for unit_id, count in session.execute(stmt) if unit_id is not None
    }


def team_sizes(session: Session, actor: User) -> dict[int, int]:
    """Number of members per team of the actor's organisation."""
    stmt = (
        select(TeamMember.team_id, func.count())
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.org_id == actor.org_id)
        .group_by(TeamMember.team_id)
    )
    return {int(team_id): int(count) for team_id, count in session.execute(stmt)}


def organisation_user_counts(session: Session, actor: User) -> dict[int, int]:
    """Number of users per organisation (platform admins only)."""
    _require(actor, "platform.manage_orgs")
    stmt = select(User.org_id, func.count()).group_by(User.org_id)
    return {int(org_id): int(count) for org_id, count in session.execute(stmt)}


def create_organisation_with_admin(
    session: Session,
    settings: Settings,
    actor: User,
    org: tuple[str, str],
    admin: tuple[str, str],
    default_models: list[str],
) -> tuple[Organisation, str]:
    """Create a tenant (slug, name) and its first org admin (e-mail, name); returns the invitation.

    Every input is checked before anything is written, so a refused form leaves no half-made
    organisation behind.
    """
    _require(actor, "platform.manage_orgs")
    slug, org_name = org
    email, admin_name = normalise_email(admin[0]), _name(admin[1])
    _name(org_name)
    if not _SLUG.match(slug.strip().lower()):
        raise UserError("slug_invalid")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError("email_taken", 409)
    created = create_organisation(session, actor, slug, org_name, default_models)
    user = create_user(session, created.id, email, admin_name, Role.ORG_ADMIN)
    _record_invitation(session, actor, user)
    return created, issue_link(session, settings, user, "invite", actor)


def save_org_models(
    session: Session,
    actor: User,
    known_models: list[str],
    enabled: set[str],
    roles: dict[str, list[str]],
    default: str,
    clearances: dict[str, str] | None = None,
    ceilings: dict[str, str] | None = None,
) -> None:
    """Save the whole model table at once; checked first so a tampered form changes nothing.

    `clearances`: model id → a level at most its platform ceiling in `ceilings` (no level: the
    platform's)."""
    _require(actor, "org.manage_models")
    known = set(known_models)
    clearances = {k: v for k, v in (clearances or {}).items() if v}
    if any(model_id not in known for model_id in (*enabled, *roles, *clearances)) or (
        default and default not in known
    ):
        raise UserError("unknown_model", 404)
    if any(r not in ALL_ROLES for chosen in roles.values() for r in chosen):
        raise UserError("role_invalid")
    for model_id, level in clearances.items():
        # Without its platform ceiling only the level is checked: the gateway caps it anyway.
        check_clearance(level, (ceilings or {}).get(model_id, CLASSIFICATION_ORDER[-1]))
    for model_id in known_models:
        set_org_model(
            session,
            actor,
            model_id,
            known,
            model_id in enabled,
            roles.get(model_id, []),
            model_id == default,
            clearances.get(model_id),
        )


def check_clearance(level: str, ceiling: str) -> None:
    """Refuse a clearance that is unknown or above the platform's ceiling for the model."""
    order = CLASSIFICATION_ORDER
    if level not in order:
        raise UserError("clearance_invalid")
    if ceiling in order and order.index(level) > order.index(ceiling):
        # Named in the caller's language: error messages do not translate their parameters.
        raise UserError("clearance_above_ceiling", ceiling=gettext(CLASSIFICATION_LABELS[ceiling]))


def default_model_ids(models: Iterable[ModelInfo]) -> list[str]:
    """Models a new organisation allows: every one offered, chat models first (the default)."""
    return [m.id for m in sorted(models, key=lambda m: m.kind != "chat")]
