"""Running tools with the fake model: records, template versions, parts, failures, limits,
per-organisation settings and the validation rule."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.errors import Forbidden, NotFound, UserError
from civique.governance import policy, validation
from civique.governance.models import AuditEntry
from civique.llm.models import ModelCall, OutputRecord
from civique.llm.providers.fake import FAIL_MARKER
from civique.settings import Settings
from civique.tools import org_settings, service
from civique.tools.models import ToolRun
from tests.helpers import Tenant

PARAGRAPH = (
    "Le demandeur est tenu de produire l'ensemble des pièces justificatives afférentes à sa "
    "situation dans un délai de trente jours à compter de la réception du présent courrier. "
) * 6


def _runner(app: FastAPI) -> service.ToolRunner:
    return app.state.tool_runner


def _prepare(app: FastAPI, db: Session, tenant: Tenant, raw: dict[str, object]) -> service.Plan:
    return asyncio.run(_runner(app).prepare(db, tenant.users["agent"], "plain_language", raw))


async def _run(app: FastAPI, db: Session, tenant: Tenant, raw: dict[str, object]) -> list:
    agent = tenant.users["agent"]
    plan = await _runner(app).prepare(db, agent, "plain_language", raw)
    return [event async for event in _runner(app).run(agent, plan)]


async def test_a_run_records_the_output_with_its_tool_and_template(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    events = await _run(app, db, tenant, {"text": "Le présent avis est affiché.", "level": "falc"})
    kinds = [e.kind for e in events]
    assert kinds[0] == "part" and kinds[-1] == "done" and "delta" in kinds
    done = events[-1]
    record = db.get(OutputRecord, done.output_id)
    assert record is not None and record.status == "ok"
    assert (record.tool, record.prompt_template, record.prompt_template_version) == (
        "plain_language",
        "plain_language.falc",
        "1",
    )
    assert "Le présent avis est affiché." in record.output
    assert "".join(e.text for e in events if e.kind == "delta") == record.output
    run = db.scalars(select(ToolRun)).one()
    assert run.output_id == record.id and run.status == "ok" and run.parts_total == 1
    assert run.inputs == {"text": "Le présent avis est affiché.", "level": "falc", "audience": None}
    call = db.get(ModelCall, record.call_id)
    assert call is not None and call.tool == "plain_language"


def _small_context(app: FastAPI, monkeypatch: pytest.MonkeyPatch, tokens: int) -> None:
    """Give the fake chat model a small context, so that a few paragraphs need parts."""
    registry = app.state.gateway.registry
    info = registry.info("fake/echo")
    monkeypatch.setitem(
        registry._models, "fake/echo", dataclasses.replace(info, context_tokens=tokens)
    )


async def test_a_long_text_runs_in_parts_and_is_put_back_together(
    app: FastAPI, db: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_context(app, monkeypatch, 1500)
    text = "\n\n".join(f"Paragraphe {n}. {PARAGRAPH}" for n in range(1, 5))
    events = await _run(app, db, tenant, {"text": text})
    parts = [e for e in events if e.kind == "part"]
    assert len(parts) >= 2 and parts[-1].parts == len(parts)
    record = db.get(OutputRecord, events[-1].output_id)
    assert record is not None and record.status == "ok"
    for n in range(1, 5):  # every paragraph reached the model once, none was cut
        assert sum(f"Paragraphe {n}." in m["content"] for m in record.input) == 1
    run = db.scalars(select(ToolRun)).one()
    assert run.parts_total == len(parts) == run.parts_done
    assert run.part_output_ids is not None and len(run.part_output_ids) == len(parts)
    assert record.output.count("Réponse simulée") == len(parts)


async def test_a_failure_midway_keeps_the_draft_so_far(
    app: FastAPI, db: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_context(app, monkeypatch, 1500)
    text = "\n\n".join(
        [f"Paragraphe 1. {PARAGRAPH}", f"Paragraphe 2. {PARAGRAPH}", f"{FAIL_MARKER} {PARAGRAPH}"]
    )
    events = await _run(app, db, tenant, {"text": text})
    done = events[-1]
    assert done.kind == "done" and done.status == "partial" and done.code == "unavailable"
    record = db.get(OutputRecord, done.output_id)
    assert record is not None and record.status == "partial"
    assert "Paragraphe 1." in record.output and FAIL_MARKER not in record.output
    run = db.scalars(select(ToolRun)).one()
    assert run.status == "partial" and run.error == "unavailable"
    assert run.parts_done == run.parts_total - 1


async def test_a_failure_before_any_text_leaves_no_output(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    events = await _run(app, db, tenant, {"text": f"Avis {FAIL_MARKER}"})
    assert events[-1].kind == "error" and events[-1].code == "unavailable"
    assert db.scalars(select(OutputRecord)).all() == []
    assert db.scalars(select(ToolRun)).one().status == "error"


def test_a_sentence_too_long_for_the_model_is_refused_not_cut(
    app: FastAPI, db: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_context(app, monkeypatch, 1500)
    text = "Premier paragraphe court.\n\n" + "mot " * 900
    with pytest.raises(UserError) as caught:
        _prepare(app, db, tenant, {"text": text})
    assert caught.value.code == "tool_paragraph_too_long"
    assert caught.value.params["paragraph"] == 2 and caught.value.params["limit"] > 50


def test_too_many_parts_are_refused(
    app: FastAPI, db: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_context(app, monkeypatch, 1500)
    text = "\n\n".join(f"Paragraphe {n}. {PARAGRAPH}" for n in range(45))
    with pytest.raises(UserError) as caught:
        _prepare(app, db, tenant, {"text": text})
    assert caught.value.code == "tool_too_many_parts"


def test_bad_inputs_name_each_field(app: FastAPI, db: Session, tenant: Tenant) -> None:
    with pytest.raises(service.InvalidInputs) as caught:
        _prepare(app, db, tenant, {"level": "haiku"})
    assert set(caught.value.errors) == {"text", "level"}
    assert caught.value.status == 422


def test_a_disabled_tool_is_not_found(db: Session, tenant: Tenant, app: FastAPI) -> None:
    admin, agent = tenant.users["org_admin"], tenant.users["agent"]
    registry = app.state.tools
    assert [t.id for t in service.enabled_tools(db, agent, registry)][:2] == [
        "plain_language",
        "letters",
    ]
    org_settings.update_settings(db, admin, {"plain_language": (False, "inherit")})
    assert "plain_language" not in [t.id for t in service.enabled_tools(db, agent, registry)]
    with pytest.raises(NotFound):
        service.usable_tool(db, agent, registry, "plain_language")
    with pytest.raises(NotFound):
        service.usable_tool(db, agent, registry, "no_such_tool")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.kind == "tools.changed")).one()
    assert entry.org_id == tenant.org.id
    assert json.loads(entry.payload)["changes"] == {
        "plain_language": [
            {"enabled": True, "validation": "inherit"},
            {"enabled": False, "validation": "inherit"},
        ]
    }


def test_only_administrators_change_tool_settings(db: Session, tenant: Tenant) -> None:
    with pytest.raises(Forbidden):
        org_settings.update_settings(
            db, tenant.users["agent"], {"plain_language": (False, "never")}
        )
    with pytest.raises(UserError) as caught:
        org_settings.update_settings(db, tenant.users["org_admin"], {"plain_language": (True, "x")})
    assert caught.value.code == "tool_bad_validation"
    assert org_settings.setting_of(db, tenant.org.id, "plain_language").enabled


def test_validation_follows_the_tool_default_then_the_override_then_the_policy(
    db: Session, settings: Settings, tenant: Tenant, other_tenant: Tenant
) -> None:
    org, admin = tenant.org.id, tenant.users["org_admin"]
    assert not validation.needs_validation(db, settings, org, "plain_language")  # default off
    org_settings.update_settings(db, admin, {"plain_language": (True, "always")})
    assert validation.needs_validation(db, settings, org, "plain_language")
    assert not validation.needs_validation(db, settings, other_tenant.org.id, "plain_language")
    org_settings.update_settings(db, admin, {"plain_language": (True, "never")})
    assert not validation.needs_validation(db, settings, org, "plain_language")
    # The AI-use policy names it: required, whatever the tools page says.
    policy.update_policy(db, admin, ["plain_language"], {}, False)
    assert validation.needs_validation(db, settings, org, "plain_language")
    assert "plain_language" in policy.known_tools()


def test_a_tool_default_requires_validation_unless_overridden(
    db: Session, settings: Settings, tenant: Tenant, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = app.state.tools.get("plain_language")
    monkeypatch.setitem(
        app.state.tools._tools, "plain_language", dataclasses.replace(tool, validation_default=True)
    )
    monkeypatch.setattr(org_settings, "default_registry", lambda: app.state.tools)
    assert validation.needs_validation(db, settings, tenant.org.id, "plain_language")
    org_settings.update_settings(db, tenant.users["org_admin"], {"plain_language": (True, "never")})
    assert not validation.needs_validation(db, settings, tenant.org.id, "plain_language")
