"""A data subject's traces found through the vault and in clear texts, and their erasure."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civique.chat.models import Message
from civique.governance import register, subject_routes
from civique.governance.models import AuditEntry, RegisterEvent
from civique.governance.vault import VaultEntry
from civique.llm.models import OutputRecord
from tests.governance.outside import MODEL, chat_once, install
from tests.helpers import Tenant, login

NAME = "Léonie Zufferey"




def _traces(app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant) -> None:
    """The name sent to an uncleared model (masked), to a cleared one (in clear), and by
    another organisation (which the DPO must never see nor erase)."""
    install(app, db, tenant.org.id)
    with TestClient(app) as client:
        csrf = login(client, tenant.users["agent"].email)
        chat_once(client, csrf, MODEL, f"Courrier pour Mme {NAME}, merci.")
        chat_once(client, csrf, "fake/echo", f"Attestation de domicile de Mme {NAME}.")
    with TestClient(app) as client:
        csrf = login(client, other_tenant.users["agent"].email)
        chat_once(client, csrf, "fake/echo", f"Dossier de Mme {NAME} à Sion.")


def test_the_dpo_finds_and_erases_a_data_subject(
    app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    _traces(app, db, tenant, other_tenant)
    with TestClient(app) as client:
        csrf = login(client, tenant.users["dpo"].email)
        found = client.post("/subjects", data={"csrf_token": csrf, "value": "léonie  zufferey"})
        assert found.status_code == 200
        assert found.text.count('href="/register/') == 2  # both outputs of this organisation
        erased = client.post(
            "/subjects/erase",
            data={"csrf_token": csrf, "value": NAME, "reference": "DPD-2026-17"},
        )
        assert erased.status_code == 200 and "Effacé" in erased.text, erased.text
    mine = db.scalars(
        select(OutputRecord).where(OutputRecord.org_id == tenant.org.id)
    ).all()
    for record in mine:
        db.refresh(record)
        assert "Zufferey" not in str(record.input) + record.output
    texts = [m.content for m in db.scalars(select(Message)).all()]
    assert sum("Zufferey" in t for t in texts) == 2  # the other organisation's question and reply
    assert any("[PERSONNE_1]" in t for t in texts) and any("[EFFACÉ]" in t for t in texts)
    assert db.scalars(select(VaultEntry).where(VaultEntry.org_id == tenant.org.id)).all() == []
    events = db.scalars(select(RegisterEvent).where(RegisterEvent.kind == "erased")).all()
    # The pseudonymised output held placeholders only: the one in clear is redacted.
    assert len(events) == 1 and "DPD-2026-17" in events[0].payload
    assert register.verify_register(db, tenant.org.id).ok
    entry = db.scalars(select(AuditEntry).where(AuditEntry.kind == "rights.erasure")).one()
    assert "Zufferey" not in entry.payload and "DPD-2026-17" in entry.payload
    # Tampering after the erasure is still caught.
    record = mine[0]
    db.execute(update(OutputRecord).where(OutputRecord.id == record.id).values(output="forgé"))
    db.commit()
    report = register.verify_register(db, tenant.org.id)
    assert not report.ok and report.broken is not None
    assert report.broken.reason == "output_altered"


def test_only_the_dpo_and_bad_input(
    app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    _traces(app, db, tenant, other_tenant)
    with TestClient(app) as client:
        csrf = login(client, tenant.users["agent"].email)
        refused = client.post("/subjects", data={"csrf_token": csrf, "value": NAME})
        assert refused.status_code == 403
    with TestClient(app) as client:
        csrf = login(client, tenant.users["dpo"].email)
        short = client.post("/subjects", data={"csrf_token": csrf, "value": "Zu"})
        assert short.status_code == 400 and "3" in short.text
        no_ref = client.post("/subjects/erase", data={"csrf_token": csrf, "value": NAME})
        assert no_ref.status_code == 400
    assert db.scalars(select(VaultEntry)).all()


def test_a_legal_hold_refuses_the_erasure_and_changes_nothing(
    app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    _traces(app, db, tenant, other_tenant)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subject_routes, "legal_hold", lambda session, org_id: True)
        with TestClient(app) as client:
            csrf = login(client, tenant.users["dpo"].email)
            held = client.post(
                "/subjects/erase",
                data={"csrf_token": csrf, "value": NAME, "reference": "DPD-1"},
            )
    assert held.status_code == 409 and "conservation" in held.text
    assert db.scalars(select(VaultEntry)).all()
    assert not db.scalars(select(RegisterEvent).where(RegisterEvent.kind == "erased")).all()
