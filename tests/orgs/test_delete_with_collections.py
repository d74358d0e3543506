"""Deleting a team or unit that still holds collections is refused (it would cascade to them)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from civique.documents.models import Collection
from civique.documents.service import create_collection
from civique.errors import UserError
from civique.orgs.models import Team, Unit
from civique.orgs.service import create_team, create_unit, delete_team, delete_unit, set_membership
from civique.orgs.service import set_unit as move_user
from tests.helpers import Tenant


def test_team_holding_a_collection_cannot_be_deleted(db: Session, tenant: Tenant) -> None:
    admin, agent = tenant.users["org_admin"], tenant.users["agent"]
    team = create_team(db, admin, "Accueil")
    set_membership(db, admin, team.id, agent.id, True)
    collection = create_collection(db, agent, "Procédures", "team", team_id=team.id)
    with pytest.raises(UserError) as refused:
        delete_team(db, admin, team.id)
    assert refused.value.code == "holds_collections" and refused.value.params["count"] == 1
    db.rollback()
    assert db.get(Team, team.id) is not None and db.get(Collection, collection.id) is not None
    db.delete(db.get(Collection, collection.id))
    db.commit()
    delete_team(db, admin, team.id)
    assert db.get(Team, team.id) is None


def test_unit_holding_a_collection_cannot_be_deleted(db: Session, tenant: Tenant) -> None:
    admin, agent = tenant.users["org_admin"], tenant.users["agent"]
    unit = create_unit(db, admin, "Urbanisme")
    move_user(db, admin, agent.id, unit.id)
    create_collection(db, agent, "Règlements", "unit")
    with pytest.raises(UserError) as refused:
        delete_unit(db, admin, unit.id)
    assert refused.value.code == "holds_collections"
    db.rollback()
    assert db.get(Unit, unit.id) is not None


def test_the_page_explains_the_refusal(app, db: Session, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from tests.helpers import login

    admin, agent = tenant.users["org_admin"], tenant.users["agent"]
    team = create_team(db, admin, "Accueil")
    set_membership(db, admin, team.id, agent.id, True)
    create_collection(db, agent, "Procédures", "team", team_id=team.id)
    with TestClient(app) as client:
        csrf = login(client, admin.email)
        page = client.post(f"/admin/teams/{team.id}/delete", data={"csrf_token": csrf})
    assert page.status_code == 409 and "contient encore 1 collections" in page.text
    assert db.get(Team, team.id) is not None
