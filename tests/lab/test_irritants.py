"""Irritant diagnostic: the ranking by potential value, checked numbers, who sees and edits
which unit's irritants, and the pages keeping what was typed."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civique.errors import Forbidden, NotFound, UserError
from civique.lab import irritants
from civique.orgs.models import Unit
from tests.helpers import Tenant, login


def _form(
    title: str, minutes: object, tasks: object, rate: object = "0", people: object = "3"
) -> dict[str, object]:
    return {
        "title": title,
        "description": "",
        "minutes_per_task": minutes,
        "tasks_per_month": tasks,
        "error_rate": rate,
        "people_affected": people,
    }


@pytest.fixture
def units(db: Session, tenant: Tenant) -> tuple[Unit, Unit]:
    """Two units; the agent belongs to the first, the validator to the second."""
    first, second = (
        Unit(org_id=tenant.org.id, name="Accueil"),
        Unit(org_id=tenant.org.id, name="Urbanisme"),
    )
    db.add_all([first, second])
    db.flush()
    tenant.users["agent"].unit_id = first.id
    tenant.users["validator"].unit_id = second.id
    db.commit()
    return first, second


def test_ranking_by_potential_value(db: Session, tenant: Tenant, units: tuple[Unit, Unit]) -> None:
    agent, lead = tenant.users["agent"], tenant.users["innovation_lead"]
    # 10 min × 100 = 16.7 h, no errors: 16.7; 5 × 300 = 25 h at 20 %: 30;
    # 60 × 20 = 20 h at 40 %: 28.
    irritants.create(db, agent, _form("Courriers", 10, 100))
    irritants.create(db, agent, _form("Saisies", 5, 300, "20"))
    irritants.create(db, lead, _form("Dossiers", "60", "20", "40"), unit_id=units[1].id)
    ranked = irritants.ranking(db, lead)
    assert [(r.irritant.title, round(r.hours_per_month, 2), round(r.value, 2)) for r in ranked] == [
        ("Saisies", 25.0, 30.0),
        ("Dossiers", 20.0, 28.0),
        ("Courriers", 16.67, 16.67),
    ]
    assert [r.unit for r in ranked] == ["Accueil", "Urbanisme", "Accueil"]
    assert [r.irritant.title for r in irritants.ranking(db, lead, units[1].id)] == ["Dossiers"]
    assert [r.irritant.title for r in irritants.ranking(db, agent)] == ["Saisies", "Courriers"]
    assert irritants.potential_value(30, 10, 12.5) == (5.0, 5.625)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"minutes_per_task": "0"}, "minutes_per_task"),
        ({"minutes_per_task": "2401"}, "minutes_per_task"),
        ({"minutes_per_task": "-5"}, "minutes_per_task"),
        ({"tasks_per_month": "beaucoup"}, "tasks_per_month"),
        ({"tasks_per_month": "1.5"}, "tasks_per_month"),
        ({"people_affected": ""}, "people_affected"),
        ({"error_rate": "101"}, "error_rate"),
        ({"error_rate": "-1"}, "error_rate"),
        ({"error_rate": "nan"}, "error_rate"),
        ({"title": "  "}, "title"),
    ],
)
def test_numbers_are_checked(
    db: Session, tenant: Tenant, units: tuple[Unit, Unit], changes: dict[str, str], field: str
) -> None:
    with pytest.raises(irritants.IrritantError) as refused:
        irritants.create(db, tenant.users["agent"], {**_form("Courriers", 10, 100), **changes})
    assert refused.value.field == field


def test_french_numbers_are_read(db: Session, tenant: Tenant, units: tuple[Unit, Unit]) -> None:
    row = irritants.create(db, tenant.users["agent"], _form("Courriers", "1 200", "40", "12,5 %"))
    assert (row.minutes_per_task, row.error_rate) == (1200, 12.5)


def test_who_sees_and_decides(
    db: Session, tenant: Tenant, other_tenant: Tenant, units: tuple[Unit, Unit]
) -> None:
    agent, lead = tenant.users["agent"], tenant.users["innovation_lead"]
    row = irritants.create(db, agent, _form("Courriers", 10, 100))
    with pytest.raises(NotFound):  # another unit's agent
        irritants.get(db, tenant.users["validator"], row.id)
    with pytest.raises(NotFound):
        irritants.update(db, other_tenant.users["innovation_lead"], row.id, _form("X", 1, 1))
    with pytest.raises(NotFound):  # a lead names a unit of another organisation
        irritants.ranking(db, other_tenant.users["innovation_lead"], units[0].id)
    with pytest.raises(NotFound):  # an agent asks for another unit
        irritants.ranking(db, agent, units[1].id)
    with pytest.raises(Forbidden):
        irritants.set_status(db, agent, row.id, "chosen")
    with pytest.raises(UserError) as no_unit:
        irritants.create(db, tenant.users["dpo"], _form("Sans unité", 1, 1))
    assert no_unit.value.code == "lab_irritant_no_unit"
    assert irritants.ranking(db, tenant.users["dpo"]) == []
    assert irritants.set_status(db, lead, row.id, "non_ai").status == "non_ai"
    with pytest.raises(irritants.IrritantError):
        irritants.set_status(db, lead, row.id, "forgotten")
    edited = irritants.update(db, agent, row.id, _form("Courriers type", 12, 100, "5"))
    assert (edited.title, edited.minutes_per_task, edited.status) == (
        "Courriers type",
        12,
        "non_ai",
    )


def test_pages_rank_and_keep_what_was_typed(
    app: FastAPI, db: Session, tenant: Tenant, units: tuple[Unit, Unit]
) -> None:
    with TestClient(app) as client:
        csrf = login(client, tenant.users["agent"].email)
        form = {"csrf_token": csrf, **_form("Relances", "15", "80", "150", "4")}
        refused = client.post("/lab/irritants", data=form)
        assert refused.status_code == 400
        assert "pourcentage de 0 à 100" in refused.text
        assert 'value="Relances"' in refused.text and 'value="150"' in refused.text
        done = client.post(
            "/lab/irritants", data={**form, "error_rate": "10"}, follow_redirects=False
        )
        assert done.status_code == 303
        page = client.get("/lab/irritants")
        assert "Relances" in page.text and "Irritant enregistré." in page.text
        assert "Valeur potentielle = minutes par tâche" in page.text
        assert "<strong>22</strong>" in page.text  # 15 × 80 / 60 = 20 h, × 1.1
        irritant_id = int(done.headers["location"].rsplit("-", 1)[1])
        assert client.get(f"/lab/irritants/{irritant_id}").status_code == 200
        assert (
            client.post(
                f"/lab/irritants/{irritant_id}/status",
                data={"csrf_token": csrf, "status": "chosen"},
            ).status_code
            == 403
        )
