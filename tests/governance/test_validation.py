"""Human validation in the service layer, on SQLite and PostgreSQL: submit, approve, reject,
the export gate, who may see what, and the register's events."""

from __future__ import annotations

import io

import pytest
from docx import Document
from sqlalchemy.orm import Session

from civique.errors import UserError
from civique.governance import register, validation
from civique.llm.models import OutputRecord
from civique.orgs.models import Unit
from civique.settings import Settings
from tests.governance.outputs import make_output
from tests.helpers import Tenant

SOURCE = {"n": 1, "document_id": 7, "title": "Règlement communal", "version": 2, "page": 4}


@pytest.fixture
def strict(settings: Settings) -> Settings:
    """Settings where chat outputs need a validator's approval."""
    return settings.model_copy(update={"validation_tools": ["chat"]})


def _kinds(db: Session, tenant: Tenant, output_id: int) -> list[str]:
    return [e.kind for e in register.events_of(db, tenant.org.id, output_id)]


def _code(excinfo: pytest.ExceptionInfo[UserError]) -> tuple[str, int]:
    return excinfo.value.code, excinfo.value.status


def test_needs_validation_reads_the_setting(
    db: Session, settings: Settings, strict: Settings, tenant: Tenant
) -> None:
    assert not validation.needs_validation(db, settings, tenant.org.id, "chat")
    assert validation.needs_validation(db, strict, tenant.org.id, "chat")
    assert not validation.needs_validation(db, strict, tenant.org.id, "letters")


def test_submit_then_approve_by_another_validator(
    db: Session, strict: Settings, tenant: Tenant
) -> None:
    oid = make_output(db, strict, tenant, "Courrier au syndic", sources=(SOURCE,))
    agent, validator = tenant.users["agent"], tenant.users["validator"]
    with pytest.raises(UserError) as refused:
        validation.export(db, strict, agent, oid, "docx")
    assert _code(refused) == ("validation_required", 403)
    assert validation.edit(db, agent, oid, "Courrier corrigé au syndic", 8000)
    validation.submit(db, agent, oid)
    assert [r.id for r in validation.queue(db, validator)] == [oid]
    record = validation.decide(db, validator, oid, "approve", "Conforme")
    assert record.validation == "approved"
    assert validation.queue(db, validator) == []
    exported = validation.export(db, strict, agent, oid, "docx")
    body = "\n".join(p.text for p in Document(io.BytesIO(exported.data)).paragraphs)
    assert "Courrier corrigé au syndic" in body
    assert "validator alpha" in body
    assert _kinds(db, tenant, oid) == ["created", "edited", "submitted", "approved", "exported"]
    assert register.verify_register(db, tenant.org.id).ok


def test_self_approval_is_refused(db: Session, settings: Settings, tenant: Tenant) -> None:
    validator = tenant.users["validator"]
    oid = make_output(db, settings, tenant, "Ma note", role="validator")
    validation.submit(db, validator, oid)
    assert validation.queue(db, validator) == []  # one's own outputs are not in one's queue
    with pytest.raises(UserError) as refused:
        validation.decide(db, validator, oid, "approve", "")
    assert _code(refused) == ("validation_own", 403)
    assert db.get(OutputRecord, oid).validation == "pending"  # type: ignore[union-attr]
    validation.decide(db, tenant.users["org_admin"], oid, "approve", "")
    assert register.verify_register(db, tenant.org.id).ok


def test_reject_needs_a_comment_then_edit_and_resubmit(
    db: Session, strict: Settings, tenant: Tenant
) -> None:
    agent, validator = tenant.users["agent"], tenant.users["validator"]
    oid = make_output(db, strict, tenant, "Arrêté")
    validation.submit(db, agent, oid)
    with pytest.raises(UserError) as refused:
        validation.edit(db, agent, oid, "Changé pendant la validation", 8000)
    assert _code(refused) == ("validation_edit_pending", 409)
    for comment in ("", "   "):
        with pytest.raises(UserError) as refused:
            validation.decide(db, validator, oid, "reject", comment)
        assert _code(refused) == ("validation_comment_required", 400)
    with pytest.raises(UserError) as refused:
        validation.decide(db, validator, oid, "maybe", "?")
    assert _code(refused) == ("validation_bad_decision", 400)
    validation.decide(db, validator, oid, "reject", "Citer l'article 12.")
    with pytest.raises(UserError):
        validation.export(db, strict, agent, oid, "pdf")
    current = validation.view(db, strict, agent, oid)
    assert current.decision is not None and current.decision.comment == "Citer l'article 12."
    validation.edit(db, agent, oid, "Arrêté, vu l'article 12.", 8000)
    validation.submit(db, agent, oid)
    validation.decide(db, validator, oid, "approve", "")
    with pytest.raises(UserError) as refused:
        validation.edit(db, agent, oid, "Après l'approbation", 8000)
    assert _code(refused) == ("validation_edit_approved", 409)
    assert _kinds(db, tenant, oid) == [
        "created",
        "submitted",
        "rejected",
        "edited",
        "submitted",
        "approved",
    ]
    assert register.verify_register(db, tenant.org.id).ok


def test_export_is_free_when_no_validation_is_needed(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    oid = make_output(db, settings, tenant, "Note libre")
    exported = validation.export(db, settings, agent, oid, "odt")
    assert exported.filename.startswith(f"civique-sortie-{oid}-")
    assert exported.media_type == "application/vnd.oasis.opendocument.text"
    with pytest.raises(UserError) as refused:
        validation.export(db, settings, agent, oid, "exe")
    assert _code(refused) == ("export_bad_format", 400)
    # Asking for validation voluntarily gates the output too, until approved.
    validation.submit(db, agent, oid)
    with pytest.raises(UserError):
        validation.export(db, settings, agent, oid, "docx")


def test_edits_append_events_and_skip_unchanged_text(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    oid = make_output(db, settings, tenant, "Brouillon")
    assert not validation.edit(db, agent, oid, "Brouillon", 8000)  # the draft as it is
    assert validation.edit(db, agent, oid, "Version 1", 8000)
    assert validation.edit(db, agent, oid, "Version 2", 8000)
    for bad, code in (("", "empty"), ("x" * 20, "too_long"), ("a\x00b", "control_chars")):
        with pytest.raises(UserError) as refused:
            validation.edit(db, agent, oid, bad, 10)
        assert refused.value.code == code
    assert _kinds(db, tenant, oid) == ["created", "edited", "edited"]
    assert db.get(OutputRecord, oid).final_text == "Version 2"  # type: ignore[union-attr]
    assert register.verify_register(db, tenant.org.id).ok


def test_who_may_see_and_change_an_output(
    db: Session, settings: Settings, tenant: Tenant, other_tenant: Tenant
) -> None:
    oid = make_output(db, settings, tenant, "Dossier")
    for role in ("validator", "dpo", "org_admin"):
        assert validation.view(db, settings, tenant.users[role], oid).record.id == oid
        with pytest.raises(UserError) as refused:
            validation.edit(db, tenant.users[role], oid, "Réécrit", 8000)
        assert _code(refused) == ("forbidden", 403)
    with pytest.raises(UserError) as refused:
        validation.view(db, settings, tenant.users["innovation_lead"], oid)
    assert _code(refused) == ("not_found", 404)
    for role in ("agent", "validator", "dpo"):
        with pytest.raises(UserError) as refused:
            validation.view(db, settings, other_tenant.users[role], oid)
        assert _code(refused) == ("not_found", 404)
    validation.submit(db, tenant.users["agent"], oid)
    with pytest.raises(UserError) as refused:
        validation.decide(db, other_tenant.users["validator"], oid, "approve", "")
    assert _code(refused) == ("not_found", 404)
    with pytest.raises(UserError) as refused:
        validation.decide(db, tenant.users["dpo"], oid, "approve", "")
    assert _code(refused) == ("forbidden", 403)


def test_a_validator_of_a_unit_decides_on_that_unit_only(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    own_unit, other_unit = (
        Unit(org_id=tenant.org.id, name="Urbanisme"),
        Unit(org_id=tenant.org.id, name="État civil"),
    )
    db.add_all([own_unit, other_unit])
    db.flush()
    tenant.users["validator"].unit_id = own_unit.id
    tenant.users["agent"].unit_id = other_unit.id
    db.commit()
    oid = make_output(db, settings, tenant, "Acte")
    validation.submit(db, tenant.users["agent"], oid)
    assert validation.queue(db, tenant.users["validator"]) == []
    with pytest.raises(UserError) as refused:
        validation.decide(db, tenant.users["validator"], oid, "approve", "")
    assert _code(refused) == ("validation_other_unit", 403)
    assert [r.id for r in validation.queue(db, tenant.users["org_admin"])] == [oid]


def test_word_diff_marks_insertions_and_deletions() -> None:
    segments = validation.word_diff("Le chat dort ici.", "Le chien dort là.")
    ops = [(s.op, s.text) for s in segments]
    assert ("delete", "chat") in ops and ("insert", "chien") in ops
    assert "".join(s.text for s in segments if s.op != "delete") == "Le chien dort là."
    assert "".join(s.text for s in segments if s.op != "insert") == "Le chat dort ici."
