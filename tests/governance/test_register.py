"""The register's hash chain: appends, checks, and every kind of tampering, on SQLite and
PostgreSQL; concurrent appends; the created event in the output record's transaction."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from civique.governance import register
from civique.governance.chain import GENESIS, link_hash, stored_head
from civique.governance.models import AuditEntry, ChainHead, RegisterEvent
from civique.llm.models import ModelCall, OutputRecord
from civique.orgs.models import Unit
from civique.settings import Settings
from tests.governance.outputs import make_output
from tests.helpers import Tenant


def _three(db: Session, settings: Settings, tenant: Tenant) -> list[int]:
    return [make_output(db, settings, tenant, f"Texte {n}") for n in range(3)]


def _sql(db: Session, statement: str, **params: Any) -> None:
    db.execute(text(statement), params)
    db.commit()
    db.expire_all()


def _broken(db: Session, tenant: Tenant, expect: str | None = None) -> tuple[int, str]:
    report = register.verify_register(db, tenant.org.id, expect)
    assert report.broken is not None, "tampering not detected"
    return report.broken.seq, report.broken.reason


def test_created_event_holds_who_what_and_digests(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    unit = Unit(org_id=tenant.org.id, name="État civil")
    db.add(unit)
    db.flush()
    tenant.users["agent"].unit_id = unit.id
    db.commit()
    source = {"n": 1, "document_id": 7, "title": "Règlement", "version": 2, "page": 3}
    output_id = make_output(db, settings, tenant, "Réponse", sources=(source,))
    record = db.get(OutputRecord, output_id)
    assert record is not None and record.unit_id == unit.id and record.sources == [source]
    assert record.validation == "not_required"
    (event,) = register.events_of(db, tenant.org.id, output_id)
    payload = json.loads(event.payload)
    assert event.kind == "created" and event.seq == 1 and event.prev_hash == GENESIS
    assert payload["user"] == {"id": tenant.users["agent"].id, "name": "agent alpha"}
    assert payload["unit"] == {"id": unit.id, "name": "État civil"}
    assert payload["model"] == {"id": "fake/echo", "version": "fake-1"}
    assert payload["prompt_template"] == {"name": "chat.free", "version": "1"}
    assert payload["sources"] == [source]
    assert payload["output_sha256"] == register.text_digest("Réponse")
    assert "Réponse" not in event.payload  # texts stay in the record, by digest here
    report = register.verify_register(db, tenant.org.id)
    assert report.ok and report.entries == 1
    assert (report.head_seq, report.head_hash) == stored_head(db, RegisterEvent, tenant.org.id)


def test_later_events_update_the_record_and_keep_the_chain(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    output_id = make_output(db, settings, tenant)
    record = db.get(OutputRecord, output_id)
    assert record is not None
    validator = tenant.users["validator"]
    register.record_event(db, record, tenant.users["agent"], "submitted")
    assert record.validation == "pending"
    register.record_event(db, record, validator, "approved", comment="Conforme")
    register.record_event(db, record, tenant.users["agent"], "edited", text="Texte final")
    register.record_event(db, record, tenant.users["agent"], "exported", format="docx")
    db.commit()
    assert record.validation == "approved" and record.final_text == "Texte final"
    kinds = [e.kind for e in register.events_of(db, tenant.org.id, output_id)]
    assert kinds == ["created", "submitted", "approved", "edited", "exported"]
    assert register.verify_register(db, tenant.org.id).ok
    with pytest.raises(ValueError):
        register.record_event(db, record, validator, "created")


def test_an_altered_payload_is_found_at_its_seq(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    _three(db, settings, tenant)
    _sql(
        db,
        "UPDATE register_events SET payload = replace(payload, 'fake-1', 'fake-2') "
        "WHERE org_id = :org AND seq = 2",
        org=tenant.org.id,
    )
    assert _broken(db, tenant) == (2, "altered")


def test_a_rehashed_row_breaks_the_next_link(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    _three(db, settings, tenant)
    row = db.scalar(select(RegisterEvent).where(RegisterEvent.seq == 2))
    assert row is not None
    row.payload = row.payload.replace("fake-1", "fake-2")
    row.hash = link_hash(row)  # an attacker who knows the algorithm
    db.commit()
    assert _broken(db, tenant) == (3, "relinked")


def test_a_deleted_middle_row_is_found(db: Session, settings: Settings, tenant: Tenant) -> None:
    _three(db, settings, tenant)
    _sql(db, "DELETE FROM register_events WHERE org_id = :org AND seq = 2", org=tenant.org.id)
    assert _broken(db, tenant) == (2, "missing")


def test_a_deleted_tail_is_found_by_the_stored_or_the_noted_head(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    *_, third = _three(db, settings, tenant)
    noted = register.verify_register(db, tenant.org.id).head_hash
    _sql(db, "DELETE FROM register_events WHERE org_id = :org AND seq = 3", org=tenant.org.id)
    assert _broken(db, tenant) == (3, "truncated")
    _sql(db, "DELETE FROM output_records WHERE id = :i", i=third)
    assert _broken(db, tenant) == (3, "truncated")
    # A careful attacker also moves the stored head back: only the noted head tells.
    last = db.scalar(select(RegisterEvent.hash).where(RegisterEvent.seq == 2))
    _sql(
        db,
        "UPDATE chain_heads SET seq = 2, hash = :h WHERE chain = 'register_events' AND org_id = :o",
        h=last,
        o=tenant.org.id,
    )
    assert register.verify_register(db, tenant.org.id).ok
    assert _broken(db, tenant, noted) == (3, "expected_head_missing")
    assert _broken(db, tenant, f"3:{noted}") == (3, "expected_head_missing")
    assert register.verify_register(db, tenant.org.id, f"2:{last}").ok


def test_reordered_or_forged_rows_are_found(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    _three(db, settings, tenant)
    org = tenant.org.id
    for a, b in ((2, -2), (3, 2), (-2, 3)):  # swap 2 and 3 through a free number
        _sql(
            db,
            "UPDATE register_events SET seq = :b WHERE org_id = :o AND seq = :a",
            a=a,
            b=b,
            o=org,
        )
    assert _broken(db, tenant) == (2, "altered")
    for a, b in ((2, -2), (3, 2), (-2, 3)):
        _sql(
            db,
            "UPDATE register_events SET seq = :b WHERE org_id = :o AND seq = :a",
            a=a,
            b=b,
            o=org,
        )
    assert register.verify_register(db, org).ok
    last = db.scalar(select(RegisterEvent).where(RegisterEvent.seq == 3))
    assert last is not None
    forged = RegisterEvent(
        org_id=org,
        seq=4,
        at=last.at,
        actor_id=None,
        kind="created",
        output_id=last.output_id,
        payload=last.payload,
        prev_hash=last.hash,
        hash="f" * 64,
    )
    db.add(forged)
    db.commit()
    assert _broken(db, tenant) == (4, "altered")
    forged.hash = link_hash(forged)  # well forged, but the stored head was not moved
    db.commit()
    assert _broken(db, tenant) == (4, "beyond_head")


def test_changed_or_deleted_output_records_are_found(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    first, second, third = _three(db, settings, tenant)
    _sql(db, "UPDATE output_records SET output = 'Autre texte' WHERE id = :i", i=second)
    assert _broken(db, tenant) == (2, "output_altered")
    _sql(db, "UPDATE output_records SET output = 'Texte 1' WHERE id = :i", i=second)
    assert register.verify_register(db, tenant.org.id).ok
    _sql(db, "UPDATE output_records SET validation = 'approved' WHERE id = :i", i=first)
    assert _broken(db, tenant) == (0, "validation_altered")
    _sql(db, "UPDATE output_records SET validation = 'not_required' WHERE id = :i", i=first)
    _sql(db, "DELETE FROM output_records WHERE id = :i", i=third)
    assert _broken(db, tenant) == (3, "output_missing")


def test_an_output_record_slipped_past_the_register_is_found(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    first = make_output(db, settings, tenant)
    record = db.get(OutputRecord, first)
    assert record is not None
    db.add(
        OutputRecord(
            org_id=record.org_id,
            user_id=record.user_id,
            call_id=record.call_id,
            tool="chat",
            model_id="fake/echo",
            model_version="1",
            prompt_template="chat.free",
            prompt_template_version="1",
            input=[],
            output="Faux",
            status="ok",
        )
    )
    db.commit()
    assert _broken(db, tenant) == (0, "unregistered")


def test_each_organisation_has_its_own_chain(
    db: Session, settings: Settings, tenant: Tenant, other_tenant: Tenant
) -> None:
    make_output(db, settings, tenant)
    make_output(db, settings, other_tenant)
    make_output(db, settings, tenant)
    seqs = db.execute(select(RegisterEvent.org_id, RegisterEvent.seq).order_by(RegisterEvent.id))
    assert [tuple(r) for r in seqs] == [
        (tenant.org.id, 1),
        (other_tenant.org.id, 1),
        (tenant.org.id, 2),
    ]
    _sql(db, "UPDATE register_events SET payload = '{}' WHERE org_id = :o", o=other_tenant.org.id)
    assert register.verify_register(db, tenant.org.id).ok
    assert not register.verify_register(db, other_tenant.org.id).ok


def test_concurrent_appends_never_fork_the_chain(
    app: FastAPI, db: Session, settings: Settings, tenant: Tenant
) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def work() -> None:
        try:
            start.wait()
            with app.state.sessions() as session:
                for n in range(10):
                    make_output(session, settings, tenant, f"Parallèle {n}")
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    seqs = db.scalars(select(RegisterEvent.seq).order_by(RegisterEvent.seq)).all()
    assert list(seqs) == list(range(1, 31))
    report = register.verify_register(db, tenant.org.id)
    assert report.ok and report.entries == 30
    head = db.get(ChainHead, ("register_events", tenant.org.id))
    assert head is not None and head.seq == 30


def test_a_failing_append_leaves_no_output_record(
    db: Session, settings: Settings, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("register unavailable")

    monkeypatch.setattr("civique.llm.usage.record_created", refuse)
    with pytest.raises(RuntimeError):
        make_output(db, settings, tenant)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(OutputRecord)) == 0
    assert db.scalar(select(func.count()).select_from(ModelCall)) == 0
    assert db.scalar(select(func.count()).select_from(RegisterEvent)) == 0


def test_the_audit_log_is_a_chain_too(db: Session, tenant: Tenant) -> None:
    from civique.governance.chain import verify

    assert verify(db, AuditEntry, tenant.org.id).ok  # the organisation's creation
    _sql(db, "UPDATE audit_log SET kind = 'auth.logout' WHERE org_id = :o", o=tenant.org.id)
    report = verify(db, AuditEntry, tenant.org.id)
    assert report.broken is not None and report.broken.reason == "altered"
