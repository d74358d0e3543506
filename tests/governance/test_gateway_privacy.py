"""The gateway's privacy step: a model not cleared for personal data never receives it."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.governance.pseudonymise import Masking
from civique.governance.vault import VaultEntry
from civique.llm.gateway import CallContext, Completed, Privacy
from civique.llm.models import OutputRecord
from civique.llm.types import ChatMessage, Delta
from tests.governance.outside import Outside, install
from tests.helpers import Tenant

# Valid identifiers (check digits computed by hand): AVS 756.9217.0769.85, IBAN CH93 0076 …
TEXT = (
    "Madame Sophie Dubois, née le 12 mars 1985, domiciliée 12 rue des Alpes, 1201 Genève, "
    "numéro AVS 756.9217.0769.85, IBAN CH93 0076 2011 6238 5295 7, "
    "téléphone 022 345 67 89, courriel sophie.dubois@example.ch, demande une attestation."
)
SECRETS = (
    "Sophie Dubois",
    "Dubois",
    "756.9217.0769.85",
    "CH93 0076 2011 6238 5295 7",
    "022 345 67 89",
    "sophie.dubois@example.ch",
    "12 rue des Alpes",
)


@pytest.fixture
def outside(app: FastAPI, db: Session, tenant: Tenant) -> Outside:
    return install(app, db, tenant.org.id)


def _ctx(tenant: Tenant) -> CallContext:
    user = tenant.users["agent"]
    return CallContext(org_id=tenant.org.id, user_id=user.id, role="agent")


def _run(
    app: FastAPI, tenant: Tenant, model: str, messages: list[ChatMessage],
    privacy: Privacy | None = None,
) -> tuple[str, Completed]:
    async def go() -> tuple[str, Completed]:
        shown: list[str] = []
        done = None
        async for event in app.state.gateway.stream_chat(
            _ctx(tenant), model, messages, privacy=privacy
        ):
            if isinstance(event, Delta):
                shown.append(event.text)
            elif isinstance(event, Completed):
                done = event
        assert done is not None
        return "".join(shown), done

    return asyncio.run(go())


def test_an_uncleared_model_receives_placeholders_and_the_agent_reads_the_values(
    app: FastAPI, db: Session, tenant: Tenant, outside: Outside
) -> None:
    shown, done = _run(app, tenant, "outside/echo", [ChatMessage("user", TEXT)])
    sent = outside.sent()
    for secret in SECRETS:
        assert secret not in sent, secret
    assert "[PERSONNE_1]" in sent and "[AVS_1]" in sent and "[IBAN_1]" in sent
    # The echo repeats the placeholders: the agent sees the real values back, streamed and final.
    for secret in ("Sophie Dubois", "756.9217.0769.85", "sophie.dubois@example.ch"):
        assert secret in shown and secret in done.text
    assert "[AVS_1]" not in shown
    assert done.privacy is not None and done.privacy["masked"] >= 5
    assert done.privacy["kinds"]["AVS"] == 1
    # The register keeps what the model saw, never the values.
    record = db.get(OutputRecord, done.output_id)
    assert record is not None and record.privacy is not None
    stored = str(record.input) + record.output
    assert "756.9217.0769.85" not in stored and "[AVS_1]" in stored
    # The vault holds the values, encrypted.
    entries = db.scalars(select(VaultEntry)).all()
    assert entries and all(b"756.9217" not in e.value for e in entries)


def test_placeholders_stay_the_same_within_a_scope(
    app: FastAPI, tenant: Tenant, outside: Outside
) -> None:
    privacy = Privacy("conversation:1")
    _run(app, tenant, "outside/echo", [ChatMessage("user", "Dossier de Marc Favre.")], privacy)
    first = outside.sent()
    history = [
        ChatMessage("user", "Dossier de Marc Favre."),
        ChatMessage("assistant", "Bien noté pour Marc Favre."),
        ChatMessage("user", "Et Julie Perrin, sa voisine ?"),
    ]
    _run(app, tenant, "outside/echo", history, privacy)
    second = outside.sent()
    assert "[PERSONNE_1]" in first
    assert second.count("[PERSONNE_1]") == 2 and "[PERSONNE_2]" in second
    assert "Marc Favre" not in second and "Julie Perrin" not in second
    # Another scope numbers from 1 again: placeholders tell nothing across conversations.
    _run(app, tenant, "outside/echo", [ChatMessage("user", "Julie Perrin")], Privacy("c:2"))
    assert "[PERSONNE_1]" in outside.sent()


def test_the_agents_corrections_apply(app: FastAPI, tenant: Tenant, outside: Outside) -> None:
    masking = Masking(keep=("Genève",), extra=("projet Hirondelle",))
    text = "Mme Claire Rochat habite Genève et suit le projet Hirondelle."
    _run(app, tenant, "outside/echo", [ChatMessage("user", text)], Privacy("c:3", masking))
    sent = outside.sent()
    assert "Genève" in sent  # a false positive kept in clear
    assert "projet Hirondelle" not in sent and "[DONNEE_1]" in sent  # masked by hand
    assert "Claire Rochat" not in sent


def test_a_cleared_model_gets_the_text_as_it_is_and_says_so(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    shown, done = _run(app, tenant, "fake/echo", [ChatMessage("user", TEXT)])
    assert "756.9217.0769.85" in shown
    assert done.privacy == {"masked": 0, "cleared": True}
    assert db.scalars(select(VaultEntry)).all() == []


def test_the_system_prompt_is_never_rewritten(
    app: FastAPI, tenant: Tenant, outside: Outside
) -> None:
    system = ChatMessage("system", "Tu es l'assistant de la Commune de Genève.")
    _run(app, tenant, "outside/echo", [system, ChatMessage("user", "Bonjour")])
    assert outside.received[-1][0] == system
