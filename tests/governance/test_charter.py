"""The usage charter: versions, acceptance, and the gate in front of chat, documents and the API."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.auth.service import create_api_token
from civique.errors import UserError
from civique.governance import charter
from civique.governance.models import AuditEntry
from civique.governance.policy_models import CharterAcceptance
from tests.helpers import Tenant, csrf_of, login

TEXT = "# Charte\n\nJe relis chaque réponse. <script>alert(1)</script>"


def test_nothing_is_asked_until_a_charter_is_published(
    db: Session, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, _ = agent_client
    assert charter.pending(db, tenant.users["agent"]) is None
    assert client.get("/", follow_redirects=False).status_code == 200
    page = client.get("/charter")
    assert page.status_code == 200 and "n'a pas publié de charte" in page.text


def test_versions_are_numbered_per_organisation_and_logged(
    db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    first = charter.publish(db, tenant.users["org_admin"], TEXT)
    second = charter.publish(db, tenant.users["platform_admin"], "Version deux")
    other = charter.publish(db, other_tenant.users["org_admin"], "Autre commune")
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert charter.current(db, tenant.org.id) == second
    entries = db.scalars(
        select(AuditEntry).where(
            AuditEntry.org_id == tenant.org.id, AuditEntry.kind == "charter.published"
        )
    ).all()
    assert [json.loads(e.payload)["target"]["name"] for e in entries] == ["v1", "v2"]
    assert [v.charter.version for v in charter.versions(db, tenant.users["dpo"])] == [2, 1]


@pytest.mark.parametrize(("text", "code"), [("  \n ", "charter_empty"), ("x" * 20_001, "too_long")])
def test_bad_charters_are_refused(db: Session, tenant: Tenant, text: str, code: str) -> None:
    with pytest.raises(UserError, match=code):
        charter.publish(db, tenant.users["org_admin"], text)
    assert charter.current(db, tenant.org.id) is None


def test_only_administrators_publish(db: Session, tenant: Tenant) -> None:
    for role in ("agent", "dpo", "validator"):
        with pytest.raises(UserError, match="forbidden"):
            charter.publish(db, tenant.users[role], TEXT)


def test_pages_wait_for_the_charter_and_come_back_after_it(
    db: Session, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, csrf = agent_client
    charter.publish(db, tenant.users["org_admin"], TEXT)
    for path in ("/", "/collections", "/search"):
        gated = client.get(path, follow_redirects=False)
        assert gated.status_code == 303, path
        assert gated.headers["location"] == f"/charter?next={path}"
    # Scripts and htmx get JSON with where to go, not a page.
    fetched = client.post(
        "/chat", data={"csrf_token": csrf}, headers={"accept": "application/json"}
    )
    assert fetched.status_code == 403
    assert fetched.json()["error"]["code"] == "charter_not_accepted"
    page = client.get("/charter?next=/collections")
    assert "Je relis chaque réponse." in page.text and "<script>alert" not in page.text
    assert "Version 1" in page.text
    accepted = client.post(
        "/charter/accept",
        data={"csrf_token": csrf_of(page.text), "version": "1", "next": "/collections"},
        follow_redirects=False,
    )
    assert accepted.headers["location"] == "/collections"
    assert client.get("/", follow_redirects=False).status_code == 200
    assert "Vous avez accepté cette version." in client.get("/charter").text


def test_a_new_version_asks_again(
    db: Session, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, csrf = agent_client
    agent = tenant.users["agent"]
    charter.publish(db, tenant.users["org_admin"], TEXT)
    charter.accept(db, agent, 1)
    assert client.get("/", follow_redirects=False).status_code == 200
    charter.publish(db, tenant.users["org_admin"], "Nouvelle règle : citer ses sources.")
    assert client.get("/", follow_redirects=False).status_code == 303
    # Accepting the version read before the new one was published is refused: read it first.
    stale = client.post("/charter/accept", data={"csrf_token": csrf, "version": "1"})
    assert stale.status_code == 409 and "nouvelle version" in stale.text
    assert "citer ses sources" in stale.text
    client.post("/charter/accept", data={"csrf_token": csrf, "version": "2"})
    assert client.get("/", follow_redirects=False).status_code == 200
    kept = db.scalars(select(CharterAcceptance).where(CharterAcceptance.user_id == agent.id))
    assert sorted(c.charter_id for c in kept) == [
        v.charter.id for v in reversed(charter.versions(db, tenant.users["org_admin"]))
    ]


def test_accepting_twice_keeps_one_acceptance(db: Session, tenant: Tenant) -> None:
    charter.publish(db, tenant.users["org_admin"], TEXT)
    charter.accept(db, tenant.users["agent"], 1)
    charter.accept(db, tenant.users["agent"], 1)
    assert db.scalar(select(func.count()).select_from(CharterAcceptance)) == 1


def test_the_api_answers_403_until_the_tokens_owner_accepts(
    db: Session, tenant: Tenant, client: TestClient
) -> None:
    _token, secret = create_api_token(db, tenant.users["agent"], "outil métier")
    headers = {"authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/models", headers=headers).status_code == 200
    charter.publish(db, tenant.users["org_admin"], TEXT)
    refused = client.get("/api/v1/models", headers=headers)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "charter_not_accepted"
    assert "Acceptez la charte d'utilisation" in error["message"]
    assert "http://testserver/charter" in error["message"]
    body = {"model": "fake/echo", "messages": [{"role": "user", "content": "Bonjour"}]}
    assert client.post("/api/v1/chat/completions", json=body, headers=headers).status_code == 403
    charter.accept(db, tenant.users["agent"], 1)
    assert client.post("/api/v1/chat/completions", json=body, headers=headers).status_code == 200


def test_administration_is_not_gated(
    app: object, db: Session, tenant: Tenant, client: TestClient
) -> None:
    charter.publish(db, tenant.users["org_admin"], TEXT)
    login(client, tenant.users["org_admin"].email)
    for path in ("/admin", "/admin/policy", "/admin/models", "/account"):
        assert client.get(path, follow_redirects=False).status_code == 200, path
    # The charter page shows the logo of the organisation, whose route is not gated either.
    assert client.get("/org/logo").status_code == 404  # no logo, but not a redirect


def test_the_next_page_is_always_local(
    db: Session, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, csrf = agent_client
    charter.publish(db, tenant.users["org_admin"], TEXT)
    accepted = client.post(
        "/charter/accept",
        data={"csrf_token": csrf, "version": "1", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert accepted.headers["location"] == "/"
