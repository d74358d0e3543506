"""The policy page and `GET/PUT /api/v1/policy`: French forms, clear refusals, audit entries."""

from __future__ import annotations

import html
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.service import create_api_token
from civique.governance import charter, policy
from civique.governance.models import AuditEntry
from tests.helpers import Tenant, csrf_of, login

FORM = {
    "tools": ["chat"],
    "conversations_days": "365",
    "documents_days": "",
    "audio_days": "30",
    "vault_days": "90",
    "register_days": "3650",
}
BODY = {
    "validation_tools": ["api.chat"],
    "retention_days": {
        "conversations": 180,
        "documents": None,
        "audio": None,
        "vault": 30,
        "register": None,
    },
    "legal_hold": True,
}


@pytest.fixture
def admin(app: object, tenant: Tenant, client: TestClient) -> tuple[TestClient, str]:
    return client, login(client, tenant.users["org_admin"].email)


def _token(db: Session, tenant: Tenant, role: str) -> dict[str, str]:
    _row, secret = create_api_token(db, tenant.users[role], "outil")
    return {"authorization": f"Bearer {secret}"}


def test_the_admin_sets_the_policy_on_the_page(
    db: Session, tenant: Tenant, admin: tuple[TestClient, str]
) -> None:
    client, csrf = admin
    page = client.get("/admin/policy")
    text = html.unescape(page.text)
    assert "Politique d'usage de l'IA" in text and "Conserver les conversations (jours)" in text
    assert "Conversations par l'API" in text and "Conservation légale : tout conserver" in text
    saved = client.post("/admin/policy", data={"csrf_token": csrf, **FORM, "legal_hold": "1"})
    assert saved.status_code == 200 and "La politique a été enregistrée." in saved.text
    assert (
        'value="365"' in saved.text and 'id="legal-hold" name="legal_hold" value="1"' in saved.text
    )
    found = policy.get_policy(db, tenant.org.id)
    assert found.validation_tools == ("chat",) and found.legal_hold
    assert (found.retention.conversations, found.retention.documents) == (365, None)
    [entry] = db.scalars(select(AuditEntry).where(AuditEntry.kind == "policy.changed")).all()
    assert json.loads(entry.payload)["actor"]["id"] == tenant.users["org_admin"].id


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vault_days", "-5", "La durée de conservation des entrées du coffre de réidentification"),
        ("conversations_days", "40000", "de 1 à 36500, ou vide pour conserver sans limite"),
        ("audio_days", "deux", "La durée de conservation des enregistrements audio"),
        ("tools", "no_such_tool", "Outil inconnu : no_such_tool."),
    ],
)
def test_a_refused_form_keeps_what_was_typed_and_changes_nothing(
    db: Session,
    tenant: Tenant,
    admin: tuple[TestClient, str],
    field: str,
    value: str,
    message: str,
) -> None:
    client, csrf = admin
    refused = client.post("/admin/policy", data={"csrf_token": csrf, **FORM, field: value})
    assert refused.status_code == 400
    assert message in html.unescape(refused.text)
    if field != "tools":
        assert f'value="{value}"' in refused.text
    assert db.get(policy.OrgPolicy, tenant.org.id) is None


def test_the_admin_publishes_the_charter_and_sees_its_versions(
    db: Session, tenant: Tenant, admin: tuple[TestClient, str]
) -> None:
    client, csrf = admin
    empty = client.post("/admin/policy/charter", data={"csrf_token": csrf, "text": " "})
    assert empty.status_code == 400 and "Rédigez le texte de la charte" in empty.text
    published = client.post(
        "/admin/policy/charter", data={"csrf_token": csrf, "text": "**Règle 1** : relire."}
    )
    assert "La version 1 de la charte a été publiée." in published.text
    assert "Version en vigueur : 1, acceptée par 0 utilisateurs." in html.unescape(published.text)
    charter.accept(db, tenant.users["agent"], 1)
    version = charter.current(db, tenant.org.id)
    assert version is not None
    shown = client.get(f"/admin/policy/charter/{version.id}")
    assert "<strong>Règle 1</strong>" in shown.text and "Acceptée par 1 utilisateur." in shown.text


@pytest.mark.parametrize("role", ["agent", "dpo", "validator"])
def test_the_page_is_for_administrators(tenant: Tenant, client: TestClient, role: str) -> None:
    csrf = login(client, tenant.users[role].email)
    assert client.get("/admin/policy").status_code == 403
    posted = client.post("/admin/policy", data={"csrf_token": csrf, **FORM})
    assert posted.status_code == 403


def test_the_api_reads_and_replaces_the_policy(
    db: Session, tenant: Tenant, client: TestClient
) -> None:
    admin = _token(db, tenant, "org_admin")
    empty = client.get("/api/v1/policy", headers=admin).json()
    assert empty["validation_tools"] == [] and empty["legal_hold"] is False
    assert empty["charter"] is None and empty["updated_at"] is None
    known = {t["id"] for t in empty["known_tools"]}
    assert known == {
        "chat", "api.chat", "plain_language", "letters", "deliberation", "translation"
    }
    replaced = client.put("/api/v1/policy", json=BODY, headers=admin)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["retention_days"]["conversations"] == 180
    assert replaced.json()["retention_days"]["register"] is None
    charter.publish(db, tenant.users["org_admin"], "Charte")
    dpo = client.get("/api/v1/policy", headers=_token(db, tenant, "dpo")).json()
    assert dpo["legal_hold"] is True and dpo["validation_tools"] == ["api.chat"]
    assert dpo["charter"]["version"] == 1
    kinds = db.scalars(select(AuditEntry.kind).where(AuditEntry.kind == "policy.changed")).all()
    assert kinds == ["policy.changed"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"retention_days": {**BODY["retention_days"], "vault": -1}}, "retention_out_of_range"),  # type: ignore[dict-item]
        ({"validation_tools": ["no_such_tool"]}, "policy_unknown_tool"),
        ({"retention_days": {"conversations": 30}}, "invalid_request"),
        ({"legal_hold": None}, "invalid_request"),
        ({"retention": {}}, "invalid_request"),
    ],
)
def test_the_api_refuses_bad_policies_clearly(
    db: Session, tenant: Tenant, client: TestClient, change: dict[str, object], code: str
) -> None:
    refused = client.put(
        "/api/v1/policy", json={**BODY, **change}, headers=_token(db, tenant, "org_admin")
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == code
    assert db.get(policy.OrgPolicy, tenant.org.id) is None


def test_the_api_is_for_administrators_and_the_dpo(
    db: Session, tenant: Tenant, client: TestClient
) -> None:
    agent = _token(db, tenant, "agent")
    assert client.get("/api/v1/policy", headers=agent).status_code == 403
    dpo = _token(db, tenant, "dpo")
    assert client.put("/api/v1/policy", json=BODY, headers=dpo).status_code == 403
    assert client.get("/api/v1/policy").status_code == 401


def test_a_browser_session_needs_its_csrf_token_to_put(
    tenant: Tenant, admin: tuple[TestClient, str]
) -> None:
    client, csrf = admin
    assert client.put("/api/v1/policy", json=BODY).status_code == 403
    assert (
        client.put("/api/v1/policy", json=BODY, headers={"x-csrf-token": csrf}).status_code == 200
    )
    assert csrf_of(client.get("/admin/policy").text) == csrf


def test_a_legal_hold_set_on_the_page_refuses_the_dpos_erasure(
    db: Session, tenant: Tenant, admin: tuple[TestClient, str], app: object
) -> None:
    client, csrf = admin
    client.post("/admin/policy", data={"csrf_token": csrf, **FORM, "legal_hold": "1"})
    with TestClient(app) as dpo:  # type: ignore[arg-type]
        dpo_csrf = login(dpo, tenant.users["dpo"].email)
        held = dpo.post(
            "/subjects/erase",
            data={"csrf_token": dpo_csrf, "value": "Zufferey", "reference": "DPD-9"},
        )
    assert held.status_code == 409 and "conservation légale est en vigueur" in html.unescape(
        held.text
    )


def test_under_legal_hold_users_cannot_delete_their_conversations(
    app: object, db: Session, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, csrf = agent_client
    conv = client.post("/chat", data={"csrf_token": csrf}, follow_redirects=False)
    conv_id = int(conv.headers["location"].rsplit("/", 1)[1])
    policy.update_policy(
        db, tenant.users["org_admin"], [], dict.fromkeys(BODY["retention_days"]), True
    )  # type: ignore[arg-type]
    for path in (f"/chat/{conv_id}/delete", "/account/conversations/delete"):
        held = client.post(path, data={"csrf_token": csrf}, follow_redirects=False)
        assert held.status_code == 409, path
        assert "conservation légale est en vigueur" in html.unescape(held.text)
    assert client.get(f"/chat/{conv_id}").status_code == 200
