"""The retention purge: what is past each period goes, what is recent or held stays; dry runs
change nothing; a second run finds nothing; every run is in the audit log with its counts."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from civique.chat.models import Conversation, Message
from civique.chat.service import vault_scope
from civique.db.base import utcnow
from civique.documents import files, ingest, service
from civique.documents.models import Chunk, Document, DocumentVersion
from civique.governance import policy, retention
from civique.governance.models import AuditEntry, RegisterEvent
from civique.governance.vault import VaultEntry
from civique.llm.gateway import CallContext
from civique.llm.types import ChatMessage
from tests.helpers import Tenant

DAY = timedelta(days=1)
FOREVER = dict.fromkeys(policy.RETENTION_KINDS)


def _conversation(db: Session, tenant: Tenant, age_days: int, people: int = 2) -> int:
    """A conversation last active `age_days` ago, with messages and vault entries."""
    app_vault = db.info["vault"]
    conv = Conversation(
        org_id=tenant.org.id,
        user_id=tenant.users["agent"].id,
        model_id="fake/echo",
        title="Dossier",
        updated_at=utcnow() - age_days * DAY,
    )
    db.add(conv)
    db.flush()
    db.add_all(
        [
            Message(conversation_id=conv.id, role="user", content="Question"),
            Message(conversation_id=conv.id, role="assistant", content="Réponse"),
        ]
    )
    for n in range(1, people + 1):
        app_vault.add(
            db, tenant.org.id, vault_scope(conv), f"[PERSONNE_{n}]", "PERSONNE", f"Nom {n}"
        )
    db.commit()
    return conv.id


def _count(db: Session, model: type, *where: ColumnElement[bool]) -> int:
    return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _set(db: Session, tenant: Tenant, hold: bool = False, **days: int) -> None:
    policy.update_policy(db, tenant.users["org_admin"], [], {**FOREVER, **days}, hold)


def _purge(app: FastAPI, db: Session, dry_run: bool = False) -> dict[str, retention.OrgPurge]:
    store = app.state.jobs.ingest.store
    results = retention.purge_all(db, app.state.gateway.vault, store, dry_run)
    return {r.slug: r for r in results}


@pytest.fixture(autouse=True)
def _vault_in_session(app: FastAPI, db: Session) -> None:
    db.info["vault"] = app.state.gateway.vault


def test_old_conversations_go_with_their_vault_entries_recent_ones_stay(
    app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    old = _conversation(db, tenant, 40)
    recent = _conversation(db, tenant, 10)
    elsewhere = _conversation(db, other_tenant, 400)  # another organisation, no policy
    _set(db, tenant, conversations=30)
    result = _purge(app, db)
    assert set(result) == {"alpha"}  # organisations without a policy are not even looked at
    counts = result["alpha"].counts
    assert (counts.conversations, counts.vault_entries, counts.documents) == (1, 2, 0)
    assert db.get(Conversation, old) is None
    assert _count(db, Message, Message.conversation_id == old) == 0
    assert _count(db, VaultEntry, VaultEntry.scope == f"conversation:{old}") == 0
    assert db.get(Conversation, recent) is not None
    assert _count(db, VaultEntry, VaultEntry.scope == f"conversation:{recent}") == 2
    assert db.get(Conversation, elsewhere) is not None


def test_a_dry_run_counts_and_deletes_nothing_and_a_second_run_finds_nothing(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    for _ in range(3):
        _conversation(db, tenant, 100, people=1)
    db.info["vault"].add(db, tenant.org.id, "request:abc", "[IBAN_1]", "IBAN", "CH93 0076")
    db.execute(update(VaultEntry).values(created_at=utcnow() - 50 * DAY))
    db.commit()
    _conversation(db, tenant, 1, people=1)  # recent, and its entry too
    _set(db, tenant, conversations=60, vault=30)
    rows = {t: _count(db, t) for t in (Conversation, Message, VaultEntry, AuditEntry)}
    preview = _purge(app, db, dry_run=True)["alpha"].counts
    assert {t: _count(db, t) for t in rows} == rows  # not even an audit entry
    done = _purge(app, db)["alpha"].counts
    assert preview == done
    assert (done.conversations, done.vault_entries) == (3, 4)  # 3 conversations' + the request's
    assert _count(db, Conversation) == 1 and _count(db, VaultEntry) == 1
    again = _purge(app, db)["alpha"].counts
    assert again == retention.Counts()
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.kind == "retention.purged").order_by(AuditEntry.seq)
    ).all()
    payloads = [json.loads(e.payload) for e in entries]
    assert [p["conversations"] for p in payloads] == [3, 0]
    assert payloads[0]["vault_entries"] == 4 and payloads[0]["actor"] is None
    assert payloads[0]["held"] is False and payloads[0]["dry_run"] is False


def test_legal_hold_keeps_everything(app: FastAPI, db: Session, tenant: Tenant) -> None:
    old = _conversation(db, tenant, 4000)
    _set(db, tenant, hold=True, conversations=1, vault=1, documents=1)
    result = _purge(app, db)["alpha"]
    assert result.held and result.counts == retention.Counts()
    assert db.get(Conversation, old) is not None and _count(db, VaultEntry) == 2
    [entry] = db.scalars(select(AuditEntry).where(AuditEntry.kind == "retention.purged")).all()
    assert json.loads(entry.payload)["held"] is True


def _document(app: FastAPI, db: Session, tenant: Tenant, name: str, text: bytes) -> int:
    ctx = app.state.jobs.ingest
    owner = tenant.users["org_admin"]
    collection = service.create_collection(db, owner, f"Collection {name}", "organisation")
    outcome = files.add_file(db, ctx.store, ctx.settings, owner, collection.id, name, text)
    assert outcome.document_id is not None
    return outcome.document_id


def test_old_documents_go_with_their_chunks_and_files(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    old = _document(app, db, tenant, "ancien.txt", b"Ancien reglement des dechets. " * 40)
    recent = _document(app, db, tenant, "recent.txt", b"Nouveau reglement des parcs. " * 40)
    ingest.run_pending(app.state.jobs.ingest)
    db.execute(update(Document).where(Document.id == old).values(updated_at=utcnow() - 800 * DAY))
    db.commit()
    old_key = db.scalar(
        select(DocumentVersion.storage_key).where(DocumentVersion.document_id == old)
    )
    store = app.state.jobs.ingest.store
    assert old_key and store.path(old_key).exists()
    assert _count(db, Chunk) > 1
    _set(db, tenant, documents=365)
    assert _purge(app, db)["alpha"].counts.documents == 1
    assert db.get(Document, old) is None and db.get(Document, recent) is not None
    assert not store.path(old_key).exists()
    version_ids = select(DocumentVersion.id).where(DocumentVersion.document_id == recent)
    assert _count(db, Chunk) == _count(db, Chunk, Chunk.version_id.in_(version_ids)) > 0


def _output(app: FastAPI, tenant: Tenant, text: str) -> None:
    """An AI output with its register entry, made through the gateway as the chat makes it."""
    user = tenant.users["agent"]
    ctx = CallContext(org_id=tenant.org.id, user_id=user.id, role=user.role)

    async def run() -> None:
        async for _event in app.state.gateway.stream_chat(
            ctx, "fake/echo", [ChatMessage("user", text)]
        ):
            pass

    asyncio.run(run())


def test_register_entries_are_counted_never_deleted(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    _output(app, tenant, "Courrier ancien")
    _output(app, tenant, "Courrier récent")
    first = db.scalars(select(RegisterEvent).order_by(RegisterEvent.id)).first()
    assert first is not None
    db.execute(
        update(RegisterEvent).where(RegisterEvent.id == first.id).values(at=utcnow() - 4000 * DAY)
    )
    db.commit()
    before = _count(db, RegisterEvent)
    _set(db, tenant, register=3650)
    assert _purge(app, db)["alpha"].counts.register_past_period == 1
    assert _count(db, RegisterEvent) == before


def test_the_vault_period_applies_to_every_scope(app: FastAPI, db: Session, tenant: Tenant) -> None:
    kept = _conversation(db, tenant, 1, people=1)
    db.info["vault"].add(db, tenant.org.id, "api:1:dossier-7", "[AVS_1]", "AVS", "756.9217")
    db.execute(
        update(VaultEntry)
        .where(VaultEntry.scope == "api:1:dossier-7")
        .values(created_at=utcnow() - 10 * DAY)
    )
    db.commit()
    _set(db, tenant, vault=7)
    assert _purge(app, db)["alpha"].counts.vault_entries == 1
    assert db.get(Conversation, kept) is not None
    assert [e.scope for e in db.scalars(select(VaultEntry))] == [f"conversation:{kept}"]


def test_the_daily_job_runs_at_the_hour_of_the_settings(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    queue = app.state.jobs.queue
    at_three = utcnow().replace(hour=3, minute=0, second=0, microsecond=0, tzinfo=None)

    def due(when: object) -> bool:
        return "governance.retention_purge" in {t.name for t in queue.read_periodic(when)}

    assert due(at_three)
    assert not due(at_three + timedelta(minutes=1)) and not due(at_three + timedelta(hours=1))
    old = _conversation(db, tenant, 40)
    _set(db, tenant, conversations=30)
    assert app.state.jobs.purge_retention() == 1
    assert db.get(Conversation, old) is None
    with queue.lock_task("governance.retention"):  # another worker is running it
        assert app.state.jobs.purge_retention() == 0
