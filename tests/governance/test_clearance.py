"""An organisation lowers a model's clearance: the gateway masks and refuses by the lower
level, the chat page says so, and the models page never lets it go above the platform's."""

from __future__ import annotations

import asyncio
import html
import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.governance.models import AuditEntry
from civique.llm.gateway import CallContext, GatewayError, effective_ceiling
from civique.llm.types import ChatMessage, ModelInfo
from civique.orgs.models import OrgModel
from tests.governance.outside import Outside
from tests.helpers import Tenant, login

TRUSTED = "trusted/echo"
TEXT = "Mme Sophie Dubois, AVS 756.9217.0769.85, demande une attestation."


class Trusted(Outside):
    """A server the platform cleared for sensitive personal data, keeping what it receives."""

    name = "trusted"

    def models(self) -> list[ModelInfo]:
        """One chat model cleared for sensitive personal data."""
        return [ModelInfo(TRUSTED, "trusted", "chat", "Serveur interne", "t-1", "sensitive")]


@pytest.fixture
def trusted(app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant) -> Trusted:
    provider = Trusted()
    app.state.gateway.registry.register(provider)
    db.add(OrgModel(org_id=tenant.org.id, model_id=TRUSTED, roles=[], clearance="internal"))
    db.add(OrgModel(org_id=other_tenant.org.id, model_id=TRUSTED, roles=[]))
    db.commit()
    return provider


def _ctx(tenant: Tenant, classification: str = "internal") -> CallContext:
    user = tenant.users["agent"]
    return CallContext(
        org_id=tenant.org.id, user_id=user.id, role="agent", classification=classification
    )


def _send(app: FastAPI, ctx: CallContext, text: str) -> None:
    async def run() -> None:
        async for _event in app.state.gateway.stream_chat(
            ctx, TRUSTED, [ChatMessage("user", text)]
        ):
            pass

    asyncio.run(run())


@pytest.mark.parametrize(
    ("platform", "org", "effective"),
    [
        ("sensitive", None, "sensitive"),
        ("sensitive", "internal", "internal"),
        ("internal", "sensitive", "internal"),  # never above the platform's
        ("personal", "made-up", "personal"),
    ],
)
def test_the_effective_ceiling_is_the_lower_one(
    platform: str, org: str | None, effective: str
) -> None:
    assert effective_ceiling(platform, org) == effective


def test_a_model_lowered_to_internal_receives_placeholders(
    app: FastAPI, tenant: Tenant, other_tenant: Tenant, trusted: Trusted
) -> None:
    _send(app, _ctx(tenant), TEXT)
    sent = trusted.sent()
    assert "Sophie Dubois" not in sent and "756.9217.0769.85" not in sent
    assert "[PERSONNE_1]" in sent and "[AVS_1]" in sent
    # The organisation that did not lower it sends the text as it is.
    _send(app, _ctx(other_tenant), TEXT)
    assert trusted.sent() == TEXT


def test_the_classification_check_follows_the_lower_clearance(
    app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant, trusted: Trusted
) -> None:
    gateway = app.state.gateway
    with pytest.raises(GatewayError, match="classification"):
        gateway.authorise(db, _ctx(tenant, "confidential"), TRUSTED, "chat")
    info = gateway.authorise(db, _ctx(other_tenant, "sensitive"), TRUSTED, "chat")
    assert info.classification_ceiling == "sensitive"
    # A stored clearance above the platform's ceiling raises nothing.
    gateway.registry.register(Outside())  # cleared for internal data only
    db.add(OrgModel(org_id=tenant.org.id, model_id="outside/echo", clearance="sensitive"))
    db.commit()
    with pytest.raises(GatewayError, match="classification"):
        gateway.authorise(db, _ctx(tenant, "personal"), "outside/echo", "chat")
    assert gateway.authorise(db, _ctx(tenant), "outside/echo", "chat").classification_ceiling == (
        "internal"
    )


def test_the_detector_is_loaded_at_start_when_an_organisation_lowered_a_model(
    app: FastAPI, db: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[bool] = []

    class Stub:
        def load(self) -> None:
            loaded.append(True)

    monkeypatch.setattr("civique.governance.pii.get_detector", lambda _settings: Stub())
    gateway = app.state.gateway
    assert gateway.prepare_privacy() is False and not loaded  # the fake models are cleared
    rows = {r.model_id: r for r in db.scalars(select(OrgModel))}
    rows["fake/echo"].clearance = "personal"
    db.commit()
    assert gateway.prepare_privacy() is False  # personal data is still allowed
    rows["fake/echo"].clearance = "confidential"
    db.commit()
    assert gateway.prepare_privacy() is True and loaded == [True]


def _models_form(csrf: str, **clearance: str) -> dict[str, object]:
    return {
        "csrf_token": csrf,
        "enabled": ["fake/echo", "fake/embed"],
        "default": "fake/echo",
        "clearance": [f"{model}|{level}" for model, level in clearance.items()],
    }


def test_the_admin_lowers_a_clearance_and_the_chat_page_says_so(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    with TestClient(app) as admin:
        csrf = login(admin, tenant.users["org_admin"].email)
        page = admin.get("/admin/models").text
        assert "Niveau de la plateforme : données personnelles sensibles" in html.unescape(page)
        saved = admin.post("/admin/models", data=_models_form(csrf, **{"fake/echo": "internal"}))
        assert saved.status_code == 200
        assert re.search(r'value="fake/echo\|internal"\s+selected', saved.text)
    row = db.scalar(select(OrgModel).where(OrgModel.model_id == "fake/echo"))
    assert row is not None and row.clearance == "internal"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.kind == "model.changed")).first()
    assert entry is not None
    assert json.loads(entry.payload)["changes"]["clearance"] == [None, "internal"]
    with TestClient(app) as agent:
        csrf = login(agent, tenant.users["agent"].email)
        conv = agent.post("/chat", data={"csrf_token": csrf, "model_id": "fake/echo"})
        assert 'value="fake/echo" data-cleared="no"' in conv.text


def test_a_clearance_above_the_platforms_is_refused(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    provider = Outside()  # cleared for internal data only
    app.state.gateway.registry.register(provider)
    with TestClient(app) as admin:
        csrf = login(admin, tenant.users["org_admin"].email)
        refused = admin.post(
            "/admin/models", data=_models_form(csrf, **{"outside/echo": "personal"})
        )
        assert refused.status_code == 400
        assert "au plus pour les données internes" in html.unescape(refused.text)
        unknown = admin.post("/admin/models", data=_models_form(csrf, **{"fake/echo": "secret"}))
        assert unknown.status_code == 400 and "Niveau de données inconnu" in unknown.text
    assert db.scalars(select(OrgModel.clearance)).all() == [None, None]
