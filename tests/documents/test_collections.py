"""Collections: who reads, writes and manages each scope, sharing, deletion and bad input."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.service import create_api_token
from civique.documents import service
from civique.documents.models import Collection, CollectionShare
from civique.errors import Forbidden, NotFound, UserError
from civique.orgs.models import Team, TeamMember, Unit
from tests.helpers import Tenant, login


@dataclass
class Org:
    """Organisation A with people placed in teams and units, and a user of organisation B."""

    db: Session
    people: dict[str, User]
    teams: dict[str, Team]
    units: dict[str, Unit]
    outsider: User
    outsider_team: Team


def _place(db: Session, tenant: Tenant, other: Tenant) -> Org:
    org = tenant.org.id
    units = {name: Unit(org_id=org, name=name) for name in ("Urbanisme", "Finances")}
    db.add_all(units.values())
    db.flush()
    teams = {
        "T1": Team(org_id=org, name="Équipe PLU", unit_id=units["Urbanisme"].id),
        "T2": Team(org_id=org, name="Équipe budget"),
    }
    db.add_all(teams.values())
    outsider_team = Team(org_id=other.org.id, name="Équipe B")
    db.add(outsider_team)
    db.flush()
    people = {
        "owner": tenant.users["agent"],  # unit Urbanisme, team T1
        "teammate": tenant.users["validator"],  # team T1, no unit
        "unitmate": tenant.users["innovation_lead"],  # unit Urbanisme, no team
        "colleague": tenant.users["dpo"],  # neither
        "admin": tenant.users["org_admin"],  # neither
        "platform": tenant.users["platform_admin"],  # neither
    }
    people["owner"].unit_id = units["Urbanisme"].id
    people["unitmate"].unit_id = units["Urbanisme"].id
    db.add(TeamMember(team_id=teams["T1"].id, user_id=people["owner"].id))
    db.add(TeamMember(team_id=teams["T1"].id, user_id=people["teammate"].id))
    db.commit()
    return Org(db, people, teams, units, other.users["org_admin"], outsider_team)


@pytest.fixture
def org(db: Session, tenant: Tenant, other_tenant: Tenant) -> Org:
    """Organisation A placed in teams and units, and organisation B's administrator."""
    return _place(db, tenant, other_tenant)


def _collections(org: Org) -> dict[str, Collection]:
    db, owner, admin = org.db, org.people["owner"], org.people["admin"]
    return {
        "personal": service.create_collection(db, owner, "Mes notes", "personal"),
        "team": service.create_collection(
            db, owner, "Dossiers PLU", "team", team_id=org.teams["T1"].id
        ),
        "unit": service.create_collection(db, owner, "Arrêtés", "unit"),
        "organisation": service.create_collection(db, admin, "Règlements", "organisation"),
        "public": service.create_collection(db, admin, "Démarches", "public"),
    }


EVERYONE = {"owner", "teammate", "unitmate", "colleague", "admin", "platform"}
READERS = {
    "personal": {"owner"},
    "team": {"owner", "teammate"},
    "unit": {"owner", "unitmate"},
    "organisation": EVERYONE,
    "public": EVERYONE,
}
WRITERS = {
    "personal": {"owner"},
    "team": {"owner", "teammate"},
    "unit": {"owner", "unitmate"},
    "organisation": {"admin", "platform"},
    "public": {"admin", "platform"},
}
MANAGERS = {
    "personal": {"owner"},
    "team": {"owner"},
    "unit": {"owner"},
    "organisation": {"admin", "platform"},
    "public": {"admin", "platform"},
}


def _who(org: Org, ids: dict[str, set[int]], collection: Collection) -> set[str]:
    return {name for name in (*org.people, "outsider") if collection.id in ids[name]}


def _ids(org: Org, subquery: str) -> dict[str, set[int]]:
    """For every person, the collection ids the SQL condition gives, run inside a query."""
    everyone = {**org.people, "outsider": org.outsider}
    make = getattr(service, subquery)
    return {
        name: set(
            org.db.scalars(select(Collection.id).where(Collection.id.in_(make(org.db, user))))
        )
        for name, user in everyone.items()
    }


def test_each_scope_is_read_written_and_managed_by_exactly_the_right_people(org: Org) -> None:
    made = _collections(org)
    readable = _ids(org, "readable_collection_ids")
    writable = _ids(org, "writable_collection_ids")
    for scope, collection in made.items():
        assert _who(org, readable, collection) == READERS[scope], scope
        assert _who(org, writable, collection) == WRITERS[scope], scope
        managers = {n for n, u in org.people.items() if service.can_manage(u, collection)}
        assert managers == MANAGERS[scope], scope
        assert not service.can_manage(org.outsider, collection)
    # The page helper agrees with the SQL condition, and another organisation reads nothing.
    for name, user in org.people.items():
        listed = {c.id for c in service.list_collections(org.db, user)}
        assert listed == readable[name], name
    assert service.list_collections(org.db, org.outsider) == []


def test_who_can_read_lists_exactly_the_readers(org: Org) -> None:
    made = _collections(org)
    for scope, collection in made.items():
        manager = org.people[next(iter(MANAGERS[scope]))]
        names = {u.email for u in service.readers(org.db, manager, collection.id)}
        assert names == {org.people[n].email for n in READERS[scope]}, scope


def test_another_organisation_finds_nothing(org: Org) -> None:
    made = _collections(org)
    db, outsider = org.db, org.outsider
    for collection in made.values():
        with pytest.raises(NotFound):
            service.readable_collection(db, outsider, collection.id)
        with pytest.raises(NotFound):
            service.readers(db, outsider, collection.id)
        with pytest.raises(NotFound):
            service.update_collection(db, outsider, collection.id, "Volée", "")
        with pytest.raises(NotFound):
            service.share(db, outsider, collection.id, "read", team_id=org.outsider_team.id)
        with pytest.raises(NotFound):
            service.delete_collection(db, outsider, collection.id)
    assert db.scalar(select(Collection.name).where(Collection.name == "Volée")) is None
    assert len(db.scalars(select(Collection)).all()) == len(made)


def test_sharing_with_a_team_or_unit_gives_its_members_the_right(org: Org) -> None:
    db, owner, colleague = org.db, org.people["owner"], org.people["colleague"]
    notes = service.create_collection(db, owner, "Notes partagées", "personal")

    def rights() -> tuple[bool, bool]:
        reads = notes.id in set(db.scalars(service.readable_collection_ids(db, colleague)))
        writes = notes.id in set(db.scalars(service.writable_collection_ids(db, colleague)))
        return reads, writes

    assert rights() == (False, False)
    db.add(TeamMember(team_id=org.teams["T2"].id, user_id=colleague.id))
    db.commit()
    team_share = service.share(db, owner, notes.id, "read", team_id=org.teams["T2"].id)
    assert rights() == (True, False)
    again = service.share(db, owner, notes.id, "write", team_id=org.teams["T2"].id)
    assert again.id == team_share.id  # sharing again changes the right, no second row
    assert rights() == (True, True)
    service.unshare(db, owner, notes.id, team_share.id)
    assert rights() == (False, False)
    # Through the unit: the colleague joins Finances, which gets read access.
    colleague.unit_id = org.units["Finances"].id
    db.commit()
    service.share(db, owner, notes.id, "read", unit_id=org.units["Finances"].id)
    assert rights() == (True, False)
    readers = {u.id for u in service.readers(db, owner, notes.id)}
    assert readers == {owner.id, colleague.id}
    shares = service.list_shares(db, owner, notes.id)
    assert [(s.kind, s.target_name, s.right) for s in shares] == [("unit", "Finances", "read")]
    # A reader through a share does not manage the collection.
    with pytest.raises(Forbidden):
        service.share(db, colleague, notes.id, "write", unit_id=org.units["Finances"].id)


def test_sharing_refuses_foreign_targets_and_unknown_rights(org: Org) -> None:
    db, owner = org.db, org.people["owner"]
    notes = service.create_collection(db, owner, "Notes", "personal")
    with pytest.raises(NotFound):
        service.share(db, owner, notes.id, "read", team_id=org.outsider_team.id)
    with pytest.raises(NotFound):
        service.share(db, owner, notes.id, "read")  # neither team nor unit
    with pytest.raises(UserError) as caught:
        service.share(db, owner, notes.id, "admin", team_id=org.teams["T1"].id)
    assert caught.value.code == "right_invalid"
    db.rollback()
    other = service.create_collection(db, owner, "Autres", "personal")
    share = service.share(db, owner, other.id, "read", team_id=org.teams["T1"].id)
    with pytest.raises(NotFound):  # a share of another collection
        service.unshare(db, owner, notes.id, share.id)
    assert db.scalars(select(CollectionShare)).all() == [share]


def test_only_managers_rename_or_delete(org: Org) -> None:
    made = _collections(org)
    db, teammate, admin = org.db, org.people["teammate"], org.people["admin"]
    with pytest.raises(Forbidden):  # reads and writes the team collection, does not manage it
        service.update_collection(db, teammate, made["team"].id, "Renommée", "")
    with pytest.raises(Forbidden):
        service.delete_collection(db, org.people["owner"], made["organisation"].id)
    with pytest.raises(NotFound):  # an admin does not even see someone's personal collection
        service.delete_collection(db, admin, made["personal"].id)
    renamed = service.update_collection(db, admin, made["public"].id, "Démarches en ligne", "FAQ")
    assert (renamed.name, renamed.description) == ("Démarches en ligne", "FAQ")


def test_deleting_a_collection_removes_it_and_its_shares(org: Org) -> None:
    db, owner, teammate = org.db, org.people["owner"], org.people["teammate"]
    notes = service.create_collection(db, owner, "À supprimer", "personal")
    service.share(db, owner, notes.id, "read", team_id=org.teams["T1"].id)
    service.readable_collection(db, teammate, notes.id)
    service.delete_collection(db, owner, notes.id)
    with pytest.raises(NotFound):
        service.readable_collection(db, teammate, notes.id)
    assert db.scalars(select(CollectionShare)).all() == []
    assert db.get(Collection, notes.id) is None


def test_bad_input(org: Org) -> None:
    db, owner, admin = org.db, org.people["owner"], org.people["admin"]

    def code(**kwargs: object) -> str:
        with pytest.raises(UserError) as caught:
            service.create_collection(db, **kwargs)  # type: ignore[arg-type]
        db.rollback()
        return caught.value.code

    assert code(user=owner, name="   ", scope="personal") == "name_required"
    assert code(user=owner, name="x" * 201, scope="personal") == "too_long"
    assert code(user=owner, name="Notes", scope="everyone") == "scope_invalid"
    assert code(user=owner, name="Notes", scope="team") == "collection_team_required"
    assert code(user=admin, name="Notes", scope="unit") == "collection_no_unit"
    assert code(user=owner, name="Notes", scope="organisation") == "forbidden"
    t2 = org.teams["T2"].id  # the owner is not in T2
    assert code(user=owner, name="Notes", scope="team", team_id=t2) == "forbidden"
    foreign = org.outsider_team.id
    assert code(user=owner, name="Notes", scope="team", team_id=foreign) == "not_found"
    service.create_collection(db, owner, "Notes", "personal")
    assert code(user=owner, name="Notes", scope="personal") == "name_taken"
    # The same name is fine in another scope, or for another person.
    service.create_collection(db, owner, "Notes", "unit")
    service.create_collection(db, org.people["teammate"], "Notes", "personal")
    other = service.create_collection(db, owner, "Brouillons", "personal")
    with pytest.raises(UserError) as caught:
        service.update_collection(db, owner, other.id, "Notes", "")
    assert caught.value.code == "name_taken"


# Pages -----------------------------------------------------------------------------------------


def test_pages_create_share_and_delete(app: object, org: Org) -> None:
    db, owner = org.db, org.people["owner"]
    with TestClient(app) as client:  # type: ignore[arg-type]
        csrf = login(client, owner.email)
        page = client.get("/collections")
        assert page.status_code == 200 and 'href="/collections"' in page.text
        empty = client.post("/collections", data={"csrf_token": csrf, "name": " "})
        assert empty.status_code == 400 and 'role="alert"' in empty.text
        made = client.post(
            "/collections",
            data={"csrf_token": csrf, "name": "Délibérations", "scope": "personal"},
            follow_redirects=False,
        )
        assert made.status_code == 303
        target = made.headers["location"]
        detail = client.get(target)
        assert "Délibérations" in detail.text and owner.email in detail.text
        shared = client.post(
            f"{target}/shares/team",
            data={"csrf_token": csrf, "team_id": str(org.teams["T1"].id), "right": "write"},
            follow_redirects=False,
        )
        assert shared.status_code == 303
        detail = client.get(target).text
        assert org.people["teammate"].email in detail and "Équipe PLU" in detail
        assert 'data-confirm="' in detail
        gone = client.post(f"{target}/delete", data={"csrf_token": csrf}, follow_redirects=False)
        assert gone.status_code == 303
        assert client.get(target).status_code == 404
    assert db.scalars(select(Collection)).all() == []


def test_pages_in_french_and_hidden_from_other_users(app: object, org: Org) -> None:
    notes = service.create_collection(org.db, org.people["owner"], "Carnet privé", "personal")
    with TestClient(app) as client:  # type: ignore[arg-type]
        login(client, org.people["colleague"].email)
        client.get("/lang/fr")
        page = client.get("/collections")
        assert "Collections de documents" in page.text and "Carnet privé" not in page.text
        assert client.get(f"/collections/{notes.id}").status_code == 404


def test_api_lists_readable_collections_only(app: object, org: Org) -> None:
    made = _collections(org)
    token = create_api_token(org.db, org.people["teammate"], "Lecture")[1]
    outsider = create_api_token(org.db, org.outsider, "Intrus")[1]
    with TestClient(app) as client:  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {token}"}
        listed = client.get("/api/v1/collections", headers=headers).json()["data"]
        assert {c["id"] for c in listed} == {
            made[s].id for s, who in READERS.items() if "teammate" in who
        }
        rights = {c["scope"]: c["right"] for c in listed}
        assert rights == {"team": "write", "organisation": "read", "public": "read"}
        one = client.get(f"/api/v1/collections/{made['team'].id}", headers=headers)
        assert one.status_code == 200 and one.json()["name"] == "Dossiers PLU"
        hidden = client.get(f"/api/v1/collections/{made['personal'].id}", headers=headers)
        assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
        foreign = {"Authorization": f"Bearer {outsider}"}
        assert client.get("/api/v1/collections", headers=foreign).json()["data"] == []
        assert (
            client.get(f"/api/v1/collections/{made['organisation'].id}", headers=foreign)
        ).status_code == 404
        assert client.get("/api/v1/collections").status_code == 401
