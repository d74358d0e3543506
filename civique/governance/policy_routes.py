"""The AI-use policy: the admin page (tools to validate, retention, legal hold, charter
versions) and `GET/PUT /api/v1/policy`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import UserError
from civique.governance import charter, policy
from civique.governance.policy_schemas import (
    CharterOut,
    PolicyIn,
    PolicyOut,
    RetentionDays,
    ToolOut,
)
from civique.i18n import gettext
from civique.orgs.pages import done, failed, page
from civique.web.deps import DB, check_csrf, require, require_api

router = APIRouter()
PolicyAdmin = Annotated[User, Depends(require("policy.manage"))]
ApiReader = Annotated[User, Depends(require_api("policy.read"))]
ApiAdmin = Annotated[User, Depends(require_api("policy.manage"))]
Csrf = [Depends(check_csrf)]
Days = Annotated[str, Form(max_length=20)]


def _page(
    request: Request, db: Session, actor: User, status: int = 200, **context: Any
) -> Response:
    """The policy page: the saved policy (or what was just posted), and the charter."""
    saved = policy.get_policy(db, actor.org_id)
    versions = charter.versions(db, actor)
    context.setdefault("tools", set(saved.validation_tools))
    context.setdefault("days", {k: saved.retention.days(k) or "" for k in policy.RETENTION_KINDS})
    context.setdefault("legal_hold", saved.legal_hold)
    context.setdefault("draft", versions[0].charter.text if versions else "")
    return page(
        request,
        "admin/policy.html",
        status,
        known_tools=[(t, gettext(label)) for t, label in policy.known_tools().items()],
        kinds=[(k, gettext(label)) for k, label in policy.RETENTION_KINDS.items()],
        limits=(policy.MIN_DAYS, policy.MAX_DAYS),
        versions=versions,
        max_chars=charter.MAX_CHARS,
        **context,
    )


@router.get("/admin/policy", name="admin_policy")
def policy_page(request: Request, actor: PolicyAdmin, db: DB) -> Response:
    """The organisation's AI-use policy and its usage charter."""
    return _page(request, db, actor)


@router.post("/admin/policy", dependencies=Csrf)
def save_policy(
    request: Request,
    actor: PolicyAdmin,
    db: DB,
    tools: Annotated[list[str] | None, Form(max_length=50)] = None,
    conversations_days: Days = "",
    documents_days: Days = "",
    audio_days: Days = "",
    vault_days: Days = "",
    register_days: Days = "",
    legal_hold: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Save the policy; a refused form is shown again as it was typed."""
    typed = {
        "conversations": conversations_days,
        "documents": documents_days,
        "audio": audio_days,
        "vault": vault_days,
        "register": register_days,
    }
    try:
        periods = {kind: policy.parse_days(kind, text) for kind, text in typed.items()}
        policy.update_policy(db, actor, tools or [], periods, legal_hold == "1")
    except UserError as exc:
        status, message = failed(db, exc)
        form = {"tools": set(tools or []), "days": typed, "legal_hold": legal_hold == "1"}
        return _page(request, db, actor, status, error=message, **form)
    return done(request, "/admin/policy", gettext("The policy was saved."))


@router.post("/admin/policy/charter", dependencies=Csrf)
def publish_charter(
    request: Request, actor: PolicyAdmin, db: DB, text: Annotated[str, Form()] = ""
) -> Response:
    """Publish the text as a new version: every user accepts it before going on."""
    try:
        published = charter.publish(db, actor, text)
    except UserError as exc:
        status, message = failed(db, exc)
        return _page(request, db, actor, status, charter_error=message, draft=text)
    message = gettext(
        "Version %(version)s of the charter was published.", version=published.version
    )
    return done(request, "/admin/policy#charter", message)


@router.get("/admin/policy/charter/{charter_id}", name="admin_charter_version")
def charter_version(request: Request, actor: PolicyAdmin, db: DB, charter_id: int) -> Response:
    """One published version of the charter, as users read it, and how many accepted it."""
    version = charter.org_charter(db, actor, charter_id)
    return page(request, "admin/charter_version.html", version=version)


def _policy_out(db: Session, actor: User, saved: policy.Policy) -> PolicyOut:
    current = charter.current(db, actor.org_id)
    return PolicyOut(
        validation_tools=list(saved.validation_tools),
        retention_days=RetentionDays.model_validate(asdict(saved.retention)),
        legal_hold=saved.legal_hold,
        known_tools=[
            ToolOut(id=t, label=gettext(label)) for t, label in policy.known_tools().items()
        ],
        charter=CharterOut(version=current.version, published_at=current.created_at)
        if current
        else None,
        updated_at=saved.updated_at,
    )


@router.get("/api/v1/policy", tags=["Governance"])
def read_policy(user: ApiReader, db: DB) -> PolicyOut:
    """The organisation's AI-use policy (administrators and the data-protection officer)."""
    return _policy_out(db, user, policy.read_policy(db, user))


@router.put("/api/v1/policy", tags=["Governance"])
def replace_policy(body: PolicyIn, user: ApiAdmin, db: DB) -> PolicyOut:
    """Replace the whole policy (every field is required); the change goes to the audit log."""
    saved = policy.update_policy(
        db,
        user,
        body.validation_tools,
        body.retention_days.model_dump(by_alias=True),
        body.legal_hold,
    )
    return _policy_out(db, user, saved)
