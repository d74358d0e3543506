"""The gateway: permissions, classification, and the records written for every call."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.llm.gateway import CallContext, Completed, GatewayError
from civique.llm.models import ModelCall, OutputRecord
from civique.llm.types import CancelToken, ChatMessage, Delta
from civique.orgs.models import OrgModel
from tests.helpers import Tenant


def _ctx(tenant: Tenant, role: str = "agent", **extra: str) -> CallContext:
    user = tenant.users[role]
    return CallContext(org_id=tenant.org.id, user_id=user.id, role=role, **extra)  # type: ignore[arg-type]


async def _collect(
    app: FastAPI, ctx: CallContext, model: str, text: str, cancel: CancelToken | None = None
) -> list[object]:
    events = []
    async for event in app.state.gateway.stream_chat(
        ctx, model, [ChatMessage("user", text)], cancel=cancel
    ):
        events.append(event)
        if cancel and len(events) == 3:
            cancel.cancel()
    return events


def test_models_follow_the_organisation_and_role_rules(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    gateway = app.state.gateway
    assert [m.id for m in gateway.allowed_models(db, tenant.org.id, "agent", "chat")] == [
        "fake/echo"
    ]
    rule = db.scalars(select(OrgModel).where(OrgModel.model_id == "fake/echo")).one()
    rule.roles = ["validator"]
    db.commit()
    assert gateway.allowed_models(db, tenant.org.id, "agent", "chat") == []
    assert len(gateway.allowed_models(db, tenant.org.id, "validator", "chat")) == 1
    with pytest.raises(GatewayError) as refused:
        asyncio.run(_collect(app, _ctx(tenant), "fake/echo", "bonjour"))
    assert refused.value.code == "model_not_allowed"
    rule.enabled = False
    db.commit()
    assert gateway.allowed_models(db, tenant.org.id, "validator") == [
        m for m in gateway.allowed_models(db, tenant.org.id, "validator") if m.id != "fake/echo"
    ]


def test_unknown_and_wrong_kind_models_are_refused(app: FastAPI, tenant: Tenant) -> None:
    for model, code in (("nope/x", "unknown_model"), ("fake/embed", "wrong_kind")):
        with pytest.raises(GatewayError) as refused:
            asyncio.run(_collect(app, _ctx(tenant), model, "bonjour"))
        assert refused.value.code == code


def test_other_organisation_cannot_use_models_it_did_not_allow(
    app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    rule = db.scalars(
        select(OrgModel).where(
            OrgModel.org_id == other_tenant.org.id, OrgModel.model_id == "fake/echo"
        )
    ).one()
    rule.enabled = False
    db.commit()
    assert len(asyncio.run(_collect(app, _ctx(tenant), "fake/echo", "ok"))) > 1
    with pytest.raises(GatewayError):
        asyncio.run(_collect(app, _ctx(other_tenant), "fake/echo", "ok"))


def test_classification_above_the_model_ceiling_is_refused(app: FastAPI, tenant: Tenant) -> None:
    # the fake model is cleared up to "sensitive"; an unknown, stricter label is refused
    with pytest.raises(GatewayError) as refused:
        asyncio.run(_collect(app, _ctx(tenant, classification="secret-défense"), "fake/echo", "x"))
    assert refused.value.code == "classification"


def test_every_call_is_recorded_with_usage(app: FastAPI, db: Session, tenant: Tenant) -> None:
    events = asyncio.run(_collect(app, _ctx(tenant, tool="letters"), "fake/echo", "Un courrier"))
    done = events[-1]
    assert isinstance(done, Completed) and done.status == "ok"
    assert "".join(e.text for e in events if isinstance(e, Delta)) == done.text
    call = db.get(ModelCall, done.call_id)
    assert call is not None and call.tool == "letters" and call.kind == "chat"
    assert call.tokens_out == len([e for e in events if isinstance(e, Delta)])
    assert call.latency_ms >= 0 and call.first_token_ms is not None
    record = db.get(OutputRecord, done.output_id)
    assert record is not None and record.output == done.text and record.call_id == call.id
    assert record.user_id == tenant.users["agent"].id and record.tool == "letters"


def test_stopped_and_failed_calls_are_recorded(app: FastAPI, db: Session, tenant: Tenant) -> None:
    stopped = asyncio.run(_collect(app, _ctx(tenant), "fake/echo", "mot " * 200, CancelToken()))
    assert isinstance(stopped[-1], Completed) and stopped[-1].status == "stopped"
    failed = asyncio.run(_collect(app, _ctx(tenant), "fake/echo", "[[fake:timeout]]"))
    assert isinstance(failed[-1], Completed) and failed[-1].status == "error"
    assert failed[-1].error == "timeout" and failed[-1].output_id is None
    statuses = sorted(c.status for c in db.scalars(select(ModelCall)))
    assert statuses == ["error", "stopped"]
    assert db.scalars(select(OutputRecord)).one().status == "stopped"


def test_embeddings_are_recorded(app: FastAPI, db: Session, tenant: Tenant) -> None:
    result = asyncio.run(app.state.gateway.embed(_ctx(tenant), "fake/embed", ["a", "b c"]))
    assert len(result.vectors) == 2 and result.vectors[0] != result.vectors[1]
    call = db.scalars(select(ModelCall)).one()
    assert call.kind == "embedding" and call.status == "ok"
    assert db.scalars(select(OutputRecord)).all() == []
