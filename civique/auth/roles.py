"""Roles and the actions each may perform; routes declare `require(action)`."""

from __future__ import annotations

from enum import StrEnum

from civique.errors import N_


class Role(StrEnum):
    """The roles of DESIGN.md §1."""

    AGENT = "agent"
    VALIDATOR = "validator"
    INNOVATION_LEAD = "innovation_lead"
    DPO = "dpo"
    ORG_ADMIN = "org_admin"
    PLATFORM_ADMIN = "platform_admin"


ALL_ROLES: tuple[Role, ...] = tuple(Role)
_ADMINS = {Role.ORG_ADMIN, Role.PLATFORM_ADMIN}

ACTIONS: dict[str, frozenset[Role]] = {
    "chat.use": frozenset(ALL_ROLES),
    "documents.use": frozenset(ALL_ROLES),
    "api.use": frozenset(ALL_ROLES),
    "account.manage": frozenset(ALL_ROLES),
    "org.manage": frozenset(_ADMINS),
    "org.manage_users": frozenset(_ADMINS),
    "org.manage_models": frozenset(_ADMINS),
    "org.manage_branding": frozenset(_ADMINS),
    "platform.manage_orgs": frozenset({Role.PLATFORM_ADMIN}),
    "outputs.validate": frozenset({Role.VALIDATOR, *_ADMINS}),
    "register.read": frozenset({Role.DPO}),
    "audit.read": frozenset({Role.DPO, *_ADMINS}),
    "policy.manage": frozenset(_ADMINS),
    "policy.read": frozenset({Role.DPO, *_ADMINS}),
    "tools.use": frozenset(ALL_ROLES),
    "tools.manage": frozenset(_ADMINS),
    "lab.lead": frozenset({Role.INNOVATION_LEAD, *_ADMINS}),
    "lab.join": frozenset(ALL_ROLES),
    # The organisation's data the drafting tools use: every member reads, admins edit.
    "tools.read_glossaries": frozenset(ALL_ROLES),
    "tools.manage_glossaries": frozenset(_ADMINS),
    "tools.manage_letter_templates": frozenset(_ADMINS),
    "tools.manage_jargon": frozenset(_ADMINS),
}


def can(role: str, action: str) -> bool:
    """True when `role` may perform `action`; unknown actions are refused."""
    allowed = ACTIONS.get(action)
    return allowed is not None and role in allowed


ROLE_LABELS: dict[str, str] = {
    Role.AGENT: N_("Agent"),
    Role.VALIDATOR: N_("Validator"),
    Role.INNOVATION_LEAD: N_("Innovation lead"),
    Role.DPO: N_("Data-protection officer"),
    Role.ORG_ADMIN: N_("Organisation admin"),
    Role.PLATFORM_ADMIN: N_("Platform admin"),
}
