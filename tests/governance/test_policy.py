"""The AI-use policy service: defaults, bounds, known tools, permissions and the audit log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.errors import UserError
from civique.governance import policy, validation
from civique.governance.models import AuditEntry
from civique.i18n import set_locale
from civique.settings import Settings
from tests.helpers import Tenant

FOREVER = dict.fromkeys(policy.RETENTION_KINDS)


def _audit(db: Session, org_id: int, kind: str) -> list[dict[str, object]]:
    rows = db.scalars(
        select(AuditEntry).where(AuditEntry.org_id == org_id, AuditEntry.kind == kind)
    ).all()
    return [json.loads(r.payload) for r in rows]


def test_an_organisation_without_a_policy_gets_the_defaults(db: Session, tenant: Tenant) -> None:
    found = policy.get_policy(db, tenant.org.id)
    assert found.validation_tools == () and not found.legal_hold
    assert all(found.retention.days(kind) is None for kind in policy.RETENTION_KINDS)
    assert not found.requires_validation("chat")
    assert policy.read_policy(db, tenant.users["dpo"]) == found


def test_an_admin_sets_the_policy_and_the_audit_log_says_what_changed(
    db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    admin = tenant.users["org_admin"]
    periods = {**FOREVER, "conversations": 365, "vault": 90, "register": 3650}
    saved = policy.update_policy(db, admin, ["chat", "api.chat", "chat"], periods, True)
    assert saved.validation_tools == ("api.chat", "chat") and saved.legal_hold
    assert saved.requires_validation("api.chat") and not saved.requires_validation("letters")
    assert policy.get_policy(db, tenant.org.id).retention.conversations == 365
    assert policy.get_policy(db, other_tenant.org.id).retention.conversations is None
    [entry] = _audit(db, tenant.org.id, "policy.changed")
    assert entry["changes"] == {
        "validation_tools": [[], ["api.chat", "chat"]],
        "conversations_days": [None, 365],
        "vault_days": [None, 90],
        "register_days": [None, 3650],
        "legal_hold": [False, True],
    }
    # Saving the same policy again changes nothing and logs nothing.
    policy.update_policy(db, admin, ["chat", "api.chat"], periods, True)
    assert len(_audit(db, tenant.org.id, "policy.changed")) == 1
    policy.update_policy(db, admin, [], {**periods, "vault": None}, True)
    last = _audit(db, tenant.org.id, "policy.changed")[-1]
    assert last["changes"] == {
        "validation_tools": [["api.chat", "chat"], []],
        "vault_days": [90, None],
    }


@pytest.mark.parametrize("days", [0, -1, 36501, 10**9])
def test_absurd_periods_are_refused_with_a_clear_message(
    db: Session, tenant: Tenant, days: int
) -> None:
    set_locale("fr")
    with pytest.raises(UserError) as refused:
        policy.update_policy(db, tenant.users["org_admin"], [], {**FOREVER, "vault": days}, False)
    assert refused.value.code == "retention_out_of_range"
    assert refused.value.params["kind"] == "entrées du coffre de réidentification"
    assert db.get(policy.OrgPolicy, tenant.org.id) is None


def test_bounds_are_inclusive(db: Session, tenant: Tenant) -> None:
    saved = policy.update_policy(
        db, tenant.users["org_admin"], [], {**FOREVER, "audio": 1, "documents": 36500}, False
    )
    assert (saved.retention.audio, saved.retention.documents) == (1, 36500)


def test_unknown_tools_are_refused(db: Session, tenant: Tenant) -> None:
    with pytest.raises(UserError) as refused:
        policy.update_policy(db, tenant.users["org_admin"], ["chat", "nope"], FOREVER, False)
    assert refused.value.code == "policy_unknown_tool"
    assert refused.value.params == {"tool": "nope"}


@pytest.mark.parametrize(("text", "days"), [("", None), (" 30 ", 30), ("36500", 36500)])
def test_typed_periods(text: str, days: int | None) -> None:
    assert policy.parse_days("conversations", text) == days


@pytest.mark.parametrize("text", ["-3", "1.5", "trente", "1e3", "9999999"])
def test_typed_periods_that_are_not_whole_days_are_refused(text: str) -> None:
    with pytest.raises(UserError, match="retention_out_of_range"):
        policy.parse_days("conversations", text)


@pytest.mark.parametrize("role", ["agent", "validator", "innovation_lead", "dpo"])
def test_only_administrators_change_the_policy(db: Session, tenant: Tenant, role: str) -> None:
    with pytest.raises(UserError, match="forbidden"):
        policy.update_policy(db, tenant.users[role], [], FOREVER, True)


@pytest.mark.parametrize("role", ["agent", "validator", "innovation_lead"])
def test_only_administrators_and_the_dpo_read_it(db: Session, tenant: Tenant, role: str) -> None:
    with pytest.raises(UserError, match="forbidden"):
        policy.read_policy(db, tenant.users[role])


def test_erasure_is_refused_under_legal_hold(db: Session, tenant: Tenant) -> None:
    policy.refuse_if_held(db, tenant.org.id)  # no hold: nothing happens
    policy.update_policy(db, tenant.users["org_admin"], [], FOREVER, True)
    with pytest.raises(UserError) as refused:
        policy.refuse_if_held(db, tenant.org.id)
    assert (refused.value.code, refused.value.status) == ("erasure_legal_hold", 409)
    assert policy.legal_hold(db, tenant.org.id)


def test_the_validation_workflow_reads_the_policy(
    db: Session, settings: Settings, tenant: Tenant, other_tenant: Tenant
) -> None:
    assert not validation.needs_validation(db, settings, tenant.org.id, "chat")
    policy.update_policy(db, tenant.users["org_admin"], ["chat"], FOREVER, False)
    assert validation.needs_validation(db, settings, tenant.org.id, "chat")
    assert not validation.needs_validation(db, settings, tenant.org.id, "api.chat")
    assert not validation.needs_validation(db, settings, other_tenant.org.id, "chat")
    # The instance's list still applies to every organisation.
    instance = settings.model_copy(update={"validation_tools": ["api.chat"]})
    assert validation.needs_validation(db, instance, other_tenant.org.id, "api.chat")
