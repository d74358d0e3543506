"""The register's pages and API: the DPO filters, opens, exports and checks; nobody else may."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from civique.auth.service import create_api_token
from civique.governance import register
from civique.governance.chain import stored_head
from civique.governance.models import AuditEntry, RegisterEvent
from civique.llm.models import OutputRecord
from civique.orgs.models import Unit
from civique.settings import Settings
from tests.governance.outputs import make_output
from tests.helpers import Tenant, login

SOURCE = {"n": 1, "document_id": 5, "title": "Règlement du cimetière", "version": 2, "page": 3}


@pytest.fixture
def dpo_client(app: FastAPI, tenant: Tenant) -> Iterator[tuple[TestClient, str]]:
    """A client logged in as the DPO of `tenant`, with its CSRF token."""
    with TestClient(app) as client:
        yield client, login(client, tenant.users["dpo"].email)


@pytest.fixture
def outputs(db: Session, settings: Settings, tenant: Tenant) -> dict[str, int]:
    """Two outputs of the agent (one grounded, in the unit État civil), one of the validator."""
    unit = Unit(org_id=tenant.org.id, name="État civil")
    db.add(unit)
    db.flush()
    tenant.users["agent"].unit_id = unit.id
    db.commit()
    return {
        "grounded": make_output(db, settings, tenant, "Concession de 30 ans", sources=(SOURCE,)),
        "formula": make_output(db, settings, tenant, '=HYPERLINK("x") courrier', tool="letters"),
        "validator": make_output(db, settings, tenant, "Note du chef", role="validator"),
    }


def _text(response: object) -> str:
    return html.unescape(response.text)  # type: ignore[attr-defined]


def _listed(response: object) -> set[int]:
    page = response.text  # type: ignore[attr-defined]
    return {
        int(part.split('"')[0]) for part in page.split('href="/register/')[1:] if part[0].isdigit()
    }


def test_dpo_filters_the_register(
    dpo_client: tuple[TestClient, str], db: Session, tenant: Tenant, outputs: dict[str, int]
) -> None:
    client, _ = dpo_client
    everything = client.get("/register")
    assert everything.status_code == 200
    assert _listed(everything) == set(outputs.values())
    assert "3 entrées" in _text(everything)
    agent = tenant.users["agent"]
    assert _listed(client.get(f"/register?user_id={agent.id}")) == {
        outputs["grounded"],
        outputs["formula"],
    }
    unit_id = agent.unit_id
    assert _listed(client.get(f"/register?unit_id={unit_id}&tool=letters")) == {outputs["formula"]}
    assert _listed(client.get("/register?model=fake/echo&status=not_required")) == set(
        outputs.values()
    )
    assert _listed(client.get("/register?status=approved")) == set()
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert _listed(client.get(f"/register?since={tomorrow}")) == set()
    assert _listed(client.get(f"/register?until={tomorrow}")) == set(outputs.values())
    bad = client.get("/register?since=31/12/2025")
    assert bad.status_code == 400 and "année-mois-jour" in _text(bad)
    assert client.get("/register?status=peut-être").status_code == 400
    assert client.get("/register?unit_id=abc").status_code == 404


def test_the_register_pages_through_long_lists(
    dpo_client: tuple[TestClient, str], db: Session, settings: Settings, tenant: Tenant
) -> None:
    client, _ = dpo_client
    made = [make_output(db, settings, tenant, f"Texte {n}") for n in range(53)]
    first = client.get("/register")
    assert _listed(first) == set(made[-50:]) and "Page 1 sur 2" in first.text
    second = client.get("/register?page=2")
    assert _listed(second) == set(made[:3])
    assert client.get("/register?page=9").status_code == 200  # clamped to the last page


def test_dpo_opens_an_entry_with_everything(
    dpo_client: tuple[TestClient, str], db: Session, tenant: Tenant, outputs: dict[str, int]
) -> None:
    client, _ = dpo_client
    record = db.get(OutputRecord, outputs["grounded"])
    assert record is not None
    register.record_event(db, record, tenant.users["agent"], "submitted")
    register.record_event(db, record, tenant.users["validator"], "approved", comment="Vu, conforme")
    register.record_event(db, record, tenant.users["agent"], "edited", text="Texte final signé")
    register.record_event(db, record, tenant.users["agent"], "exported", format="docx")
    db.commit()
    page = _text(client.get(f"/register/{outputs['grounded']}"))
    for shown in (
        "agent alpha",
        "État civil",
        "fake/echo · fake-1",
        "chat.free · 1",
        "Rédige : Concession de 30 ans",  # the input as sent to the model
        "Concession de 30 ans",
        "Règlement du cimetière",
        "Approuvé",
        "validator alpha",
        "« Vu, conforme »",
        "Texte final signé",
        "docx",
        "Brouillon produit par l'IA",
        "Soumis à validation",
        "Texte final modifié",
        "Exporté",
    ):
        assert shown in page, shown
    assert "no: altered" not in page and "non : modifiée" not in page
    # A text changed behind Civique's back is flagged on the entry.
    db.execute(text("UPDATE output_records SET output = 'Autre' WHERE id = :i"), {"i": record.id})
    db.commit()
    altered = _text(client.get(f"/register/{outputs['grounded']}"))
    assert "Le brouillon de l'IA diffère de ce que le registre a enregistré" in altered


def test_an_output_made_before_the_register_says_so(
    dpo_client: tuple[TestClient, str], db: Session, outputs: dict[str, int]
) -> None:
    client, _ = dpo_client
    db.execute(text("DELETE FROM register_events"))
    db.commit()
    page = _text(client.get(f"/register/{outputs['validator']}"))
    assert "Cette production date d'avant le registre" in page


def test_other_roles_and_organisations_are_refused(
    app: FastAPI,
    db: Session,
    settings: Settings,
    tenant: Tenant,
    other_tenant: Tenant,
    outputs: dict[str, int],
) -> None:
    theirs = make_output(db, settings, other_tenant, "Chez les autres")
    for role in ("agent", "validator", "org_admin"):
        with TestClient(app) as client:
            login(client, tenant.users[role].email)
            for path in ("/register", f"/register/{outputs['grounded']}", "/register/export"):
                assert client.get(path, follow_redirects=False).status_code == 403, (role, path)
    with TestClient(app) as client:
        login(client, other_tenant.users["dpo"].email)
        assert client.get(f"/register/{outputs['grounded']}").status_code == 404
        assert outputs["grounded"] not in _listed(client.get("/register"))
        assert _listed(client.get("/register")) == {theirs}
        unit = tenant.users["agent"].unit_id
        assert client.get(f"/register?unit_id={unit}").status_code == 404
    token = create_api_token(db, other_tenant.users["dpo"], "registre")[1]
    api = TestClient(app)
    headers = {"authorization": f"Bearer {token}"}
    assert api.get(f"/api/v1/register/{outputs['grounded']}", headers=headers).status_code == 404
    assert [i["id"] for i in api.get("/api/v1/register", headers=headers).json()["items"]] == [
        theirs
    ]
    agent_token = create_api_token(db, tenant.users["agent"], "agent")[1]
    agent_headers = {"authorization": f"Bearer {agent_token}"}
    assert api.get("/api/v1/register", headers=agent_headers).status_code == 403
    assert api.get("/api/v1/register").status_code == 401


def test_csv_export_is_bounded_escaped_and_audited(
    app: FastAPI,
    dpo_client: tuple[TestClient, str],
    db: Session,
    tenant: Tenant,
    outputs: dict[str, int],
) -> None:
    client, _ = dpo_client
    agent = tenant.users["agent"]
    response = client.get(f"/register/export?format=csv&user_id={agent.id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [int(r["id"]) for r in rows] == [outputs["grounded"], outputs["formula"]]
    grounded, formula = rows
    assert grounded["user"] == "agent alpha" and grounded["unit"] == "État civil"
    assert grounded["sources"] == "Règlement du cimetière (v2, p. 3)"
    assert grounded["model_version"] == "fake-1" and grounded["validation"] == "not_required"
    assert formula["output"].startswith("'=HYPERLINK")  # never run as a spreadsheet formula
    event = db.scalars(select(RegisterEvent).where(RegisterEvent.output_id == outputs["grounded"]))
    assert grounded["register_hash"] == event.one().hash
    entry = db.scalars(select(AuditEntry).where(AuditEntry.kind == "register.exported")).one()
    details = json.loads(entry.payload)
    assert details["format"] == "csv" and details["rows"] == 2
    assert details["filters"] == {"user_id": str(agent.id)}
    assert details["actor"]["name"] == "dpo alpha"
    app.state.settings.register_export_max_rows = 1
    refused = client.get("/register/export?format=csv")
    assert refused.status_code == 413
    assert "L'export contiendrait 3 entrées, la limite est 1" in _text(refused)
    assert client.get("/register/export?format=xml").status_code == 400


def test_json_export_holds_inputs_events_and_the_head(
    dpo_client: tuple[TestClient, str], db: Session, tenant: Tenant, outputs: dict[str, int]
) -> None:
    client, _ = dpo_client
    response = client.get("/register/export?format=json&tool=chat")
    assert response.status_code == 200
    data = response.json()
    seq, head = stored_head(db, RegisterEvent, tenant.org.id)
    assert data["export"]["register_head"] == {"seq": seq, "hash": head}
    assert (
        data["export"]["organisation"] == "alpha" and data["export"]["exported_by"] == "dpo alpha"
    )
    entries = {e["id"]: e for e in data["entries"]}
    assert set(entries) == {outputs["grounded"], outputs["validator"]}
    grounded = entries[outputs["grounded"]]
    assert grounded["input"] == [{"role": "user", "content": "Rédige : Concession de 30 ans"}]
    assert grounded["sources"] == [SOURCE]
    assert [e["kind"] for e in grounded["events"]] == ["created"]


def test_integrity_check_page_and_api(
    app: FastAPI,
    dpo_client: tuple[TestClient, str],
    db: Session,
    tenant: Tenant,
    outputs: dict[str, int],
) -> None:
    client, csrf = dpo_client
    intact = _text(client.post("/register/verify", data={"csrf_token": csrf}))
    assert "Intact : 3 entrées vérifiées" in intact
    seq, head = stored_head(db, RegisterEvent, tenant.org.id)
    assert f"{seq}:{head}" in intact
    assert client.post("/register/verify", data={}).status_code == 403  # CSRF
    db.execute(
        text("UPDATE register_events SET payload = replace(payload, 'fake-1', 'x') WHERE seq = 2")
    )
    db.commit()
    broken = _text(client.post("/register/verify", data={"csrf_token": csrf}))
    assert "Rompu à l'entrée 2." in broken
    assert "L'entrée 2 a été modifiée : son contenu ne correspond plus à son empreinte." in broken
    token = create_api_token(db, tenant.users["dpo"], "registre")[1]
    api = TestClient(app)
    response = api.post(
        "/api/v1/register/verify",
        headers={"authorization": f"Bearer {token}"},
        json={"expect_head": f"{seq}:{head}"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["audit_chain"]["broken"] is None
    assert body["register_chain"]["broken"]["seq"] == 2
    assert body["register_chain"]["broken"]["reason"] == "altered"
    checks = db.scalars(select(AuditEntry).where(AuditEntry.kind == "register.verified")).all()
    assert [json.loads(c.payload)["ok"] for c in checks] == [True, False, False]


def test_api_lists_and_opens_entries(
    app: FastAPI, db: Session, tenant: Tenant, outputs: dict[str, int]
) -> None:
    token = create_api_token(db, tenant.users["dpo"], "registre")[1]
    api = TestClient(app)
    headers = {"authorization": f"Bearer {token}"}
    listed = api.get(f"/api/v1/register?user_id={tenant.users['validator'].id}", headers=headers)
    assert listed.status_code == 200
    assert listed.json()["total"] == 1 and listed.json()["items"][0]["user"] == "validator alpha"
    assert api.get("/api/v1/register?since=hier", headers=headers).status_code == 400
    entry = api.get(f"/api/v1/register/{outputs['grounded']}", headers=headers).json()
    assert entry["registered"] is True and entry["sources"] == [SOURCE]
    assert entry["checks"] == {"input": True, "output": True, "final": None}
    assert entry["events"][0]["kind"] == "created" and entry["events"][0]["intact"] is True
    exported = api.get("/api/v1/register/export?format=csv", headers=headers)
    assert exported.status_code == 200 and exported.text.count("\n") == 4


def test_an_export_holds_what_it_counted(
    db: Session, settings: Settings, tenant: Tenant, outputs: dict[str, int]
) -> None:
    from civique.governance import service

    dpo = tenant.users["dpo"]
    export = service.begin_export(db, dpo, service.RegisterFilters(), "json", 10)
    make_output(db, settings, tenant, "Arrivée pendant l'export")
    data = json.loads("".join(service.export_lines(db, dpo, export)))
    assert data["export"]["entries"] == export.count == 3
    assert [e["id"] for e in data["entries"]] == sorted(outputs.values())
