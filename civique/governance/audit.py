"""The admin audit log: who logged in, changed a role, a model rule, the branding, an
organisation, exported the register or checked it. One hash chain per organisation.

Services call `record` before their commit, so an action and its audit entry are saved together.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import N_
from civique.governance.chain import append
from civique.governance.models import AuditEntry

ACTIONS: dict[str, str] = {
    "auth.login": N_("Login"),
    "auth.login_failed": N_("Failed login"),
    "auth.logout": N_("Logout"),
    "auth.password_set": N_("Password set through a link"),
    "auth.token_created": N_("API token created"),
    "auth.token_revoked": N_("API token revoked"),
    "user.invited": N_("Account created"),
    "user.reset_link": N_("Password-reset link issued"),
    "user.role_changed": N_("Role changed"),
    "user.deactivated": N_("Account deactivated"),
    "user.reactivated": N_("Account reactivated"),
    "user.unit_changed": N_("Unit changed"),
    "unit.created": N_("Unit created"),
    "unit.deleted": N_("Unit deleted"),
    "team.created": N_("Team created"),
    "team.deleted": N_("Team deleted"),
    "model.changed": N_("Model rule changed"),
    "org.branding": N_("Branding changed"),
    "org.created": N_("Organisation created"),
    "org.suspended": N_("Organisation suspended"),
    "org.restored": N_("Organisation restored"),
    "policy.changed": N_("AI-use policy changed"),
    "tools.changed": N_("Tool settings changed"),
    "charter.published": N_("Usage charter published"),
    "retention.purged": N_("Retention purge"),
    "register.exported": N_("Register exported"),
    "register.verified": N_("Integrity check"),
    "rights.exported": N_("Own data exported"),
    "rights.conversations_deleted": N_("Own conversations deleted"),
    "rights.erasure": N_("Data subject erased"),
    "tools.glossary_changed": N_("Glossary changed"),
    "tools.letter_template_changed": N_("Letter template changed"),
    "tools.jargon_changed": N_("Jargon list changed"),
}


def who(user: User | None) -> dict[str, Any] | None:
    """The actor as the log keeps it (the account may later change or go)."""
    if user is None:
        return None
    return {"id": user.id, "name": user.name, "role": user.role, "org_id": user.org_id}


def record(
    session: Session, org_id: int, actor: User | None, action: str, **details: Any
) -> AuditEntry:
    """Append an entry to the organisation's audit log; the caller commits with its change.

    `details` are JSON values: `target` names the object ({"kind", "id", "name"}), `changes` maps
    a field to [before, after]. Never pass a secret (password, token, link).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    payload = {"actor": who(actor), **details}
    return append(session, AuditEntry, org_id, action, actor.id if actor else None, payload)


def target(kind: str, obj_id: int | str, name: str) -> dict[str, Any]:
    """The object an action was about."""
    return {"kind": kind, "id": obj_id, "name": name}


def user_target(user: User) -> dict[str, Any]:
    """An account an action was about."""
    return target("user", user.id, user.name)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields that differ, as field → [before, after]."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
