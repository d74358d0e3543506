"""The admin audit log: each administrative action leaves one entry, written with the change,
never a secret; the page shows it to administrators and the DPO only."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth import service as auth
from civique.governance.chain import verify
from civique.governance.models import AuditEntry
from civique.orgs import service as orgs
from civique.settings import Settings
from tests.helpers import PASSWORD, Tenant, csrf_of, login


def _entries(db: Session, org_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    stmt = select(AuditEntry).where(AuditEntry.org_id == org_id).order_by(AuditEntry.seq)
    if kind:
        stmt = stmt.where(AuditEntry.kind == kind)
    return [
        {"kind": e.kind, "actor_id": e.actor_id, **json.loads(e.payload)} for e in db.scalars(stmt)
    ]


def test_logins_and_logouts_are_logged_without_passwords(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    with TestClient(app) as client:
        token = csrf_of(client.get("/login").text)
        client.post(
            "/login",
            data={"email": agent.email, "password": "faux mot de passe!", "csrf_token": token},
        )
        client.post(
            "/login", data={"email": "personne@alpha.test", "password": "x", "csrf_token": token}
        )
        csrf = login(client, agent.email)
        client.post("/logout", data={"csrf_token": csrf})
    db.expire_all()
    [failed] = _entries(db, tenant.org.id, "auth.login_failed")
    assert failed["actor_id"] is None and failed["reason"] == "password"
    assert failed["target"] == {"kind": "user", "id": agent.id, "name": agent.name}
    [ok] = _entries(db, tenant.org.id, "auth.login")
    assert ok["actor_id"] == agent.id and ok["method"] == "password" and ok["client"]
    assert _entries(db, tenant.org.id, "auth.logout")[0]["actor_id"] == agent.id
    stored = " ".join(e.payload for e in db.scalars(select(AuditEntry)))
    assert "faux mot de passe" not in stored and PASSWORD not in stored
    assert "personne@alpha.test" not in stored  # an unknown address belongs to no organisation


def test_account_changes_are_logged(db: Session, settings: Settings, tenant: Tenant) -> None:
    admin, agent = tenant.users["org_admin"], tenant.users["agent"]
    unit = orgs.create_unit(db, admin, "Urbanisme")
    orgs.change_role(db, admin, agent.id, "validator")
    orgs.change_role(db, admin, agent.id, "validator")  # no change, no entry
    orgs.set_unit(db, admin, agent.id, unit.id)
    orgs.set_active(db, admin, agent.id, False)
    orgs.set_active(db, admin, agent.id, True)
    invited, link = orgs.invite_user(
        db, settings, admin, "nouvelle@alpha.test", "Nouvelle", "agent", None
    )
    reset = orgs.reset_link(db, settings, admin, agent.id)
    kinds = [e["kind"] for e in _entries(db, tenant.org.id)][
        1:
    ]  # after the organisation's creation
    assert kinds == [
        "unit.created",
        "user.role_changed",
        "user.unit_changed",
        "user.deactivated",
        "user.reactivated",
        "user.invited",
        "user.reset_link",
    ]
    [role] = _entries(db, tenant.org.id, "user.role_changed")
    assert (
        role["changes"] == {"role": ["agent", "validator"]} and role["actor"]["name"] == admin.name
    )
    assert _entries(db, tenant.org.id, "user.unit_changed")[0]["changes"] == {
        "unit": [None, "Urbanisme"]
    }
    assert _entries(db, tenant.org.id, "user.invited")[0]["target"]["id"] == invited.id
    stored = " ".join(e.payload for e in db.scalars(select(AuditEntry)))
    for secret in (link.rsplit("/", 1)[1], reset.rsplit("/", 1)[1]):
        assert secret not in stored
    assert verify(db, AuditEntry, tenant.org.id).ok


def test_model_branding_and_platform_changes_are_logged(
    db: Session, settings: Settings, tenant: Tenant, other_tenant: Tenant
) -> None:
    admin, platform = tenant.users["org_admin"], tenant.users["platform_admin"]
    known = ["fake/echo", "fake/embed"]
    orgs.save_org_models(db, admin, known, {"fake/echo"}, {"fake/echo": ["agent"]}, "fake/echo")
    changes = {
        e["target"]["id"]: e["changes"] for e in _entries(db, tenant.org.id, "model.changed")
    }
    assert changes == {
        "fake/echo": {"roles": [[], ["agent"]]},
        "fake/embed": {"enabled": [True, False]},
    }
    assert {e["actor_id"] for e in _entries(db, tenant.org.id, "model.changed")} == {admin.id}
    orgs.update_branding(db, admin, "Ville d'Alpha", "#112233", None, 1000)
    [branding] = _entries(db, tenant.org.id, "org.branding")
    assert branding["changes"] == {
        "name": ["Org alpha", "Ville d'Alpha"],
        "colour": ["#1d4f91", "#112233"],
    }
    orgs.set_organisation_active(db, platform, other_tenant.org.id, False)
    [suspended] = _entries(db, other_tenant.org.id, "org.suspended")
    assert suspended["actor"]["name"] == platform.name  # in the suspended organisation's own log
    created, _ = orgs.create_organisation_with_admin(
        db, settings, platform, ("gamma", "Org gamma"), ("chef@gamma.test", "Chef"), known
    )
    assert [e["kind"] for e in _entries(db, created.id)] == ["org.created", "user.invited"]


def test_tokens_and_links_are_logged(db: Session, settings: Settings, tenant: Tenant) -> None:
    agent = tenant.users["agent"]
    token, clear = auth.create_api_token(db, agent, "Mon script")
    auth.revoke_api_token(db, agent, token.id)
    auth.revoke_api_token(db, agent, token.id)  # already revoked: once in the log
    link = auth.issue_link(db, settings, agent, "reset", None)
    auth.use_link(
        db, settings, link.rsplit("/", 1)[1], "un nouveau mot de passe", "un nouveau mot de passe"
    )
    kinds = [e["kind"] for e in _entries(db, tenant.org.id)]
    assert kinds[-3:] == ["auth.token_created", "auth.token_revoked", "auth.password_set"]
    assert clear not in " ".join(e.payload for e in db.scalars(select(AuditEntry)))


def _rows(html: str) -> str:
    """The table of the audit page (the filter's options name every action too)."""
    return html.split("<tbody>", 1)[1] if "<tbody>" in html else ""


def test_audit_page_for_admins_and_dpo_only(app: FastAPI, db: Session, tenant: Tenant) -> None:
    admin = tenant.users["org_admin"]
    with TestClient(app) as client:
        csrf = login(client, admin.email)
        target = tenant.users["agent"]
        client.post(
            f"/admin/users/{target.id}/role", data={"role": "validator", "csrf_token": csrf}
        )
        page = _rows(client.get("/audit").text)
        assert "Rôle modifié" in page and "Connexion" in page
        assert "rôle : Agent → Validateur" in page.replace("&#39;", "'")
        only = _rows(client.get("/audit?action=user.role_changed").text)
        assert "Rôle modifié" in only and "Organisation créée" not in only
        assert "Rôle modifié" in _rows(client.get(f"/audit?actor_id={admin.id}").text)
        assert "Rôle modifié" not in _rows(client.get(f"/audit?actor_id={target.id}").text)
        assert client.get("/audit?action=inconnue").status_code == 400
        assert client.get("/audit?since=demain").status_code == 400
    with TestClient(app) as client:
        login(client, tenant.users["dpo"].email)
        assert "Rôle modifié" in _rows(client.get("/audit").text)
    with TestClient(app) as client:
        login(client, tenant.users["validator"].email)  # the agent is now a validator too
        assert client.get("/audit").status_code == 403


def test_audit_page_refuses_another_organisations_user(
    app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    with TestClient(app) as client:
        login(client, other_tenant.users["org_admin"].email)
        assert client.get(f"/audit?actor_id={tenant.users['org_admin'].id}").status_code == 404
        assert "alpha" not in client.get("/audit").text
