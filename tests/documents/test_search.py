"""Search: the access rule for every kind of collection, in every mode, on the page and the API;
filters by type and date; snippets that mark the query words and never render document HTML."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.documents import files, ingest, search, service
from civique.documents.index import Filters
from civique.documents.models import Chunk, DocumentVersion
from civique.documents.search_view import snippet
from civique.llm.gateway import CallContext
from civique.orgs.models import Team, TeamMember, Unit
from tests.documents.files import pdf_pages
from tests.helpers import Tenant, login

# Made-up words, one per collection, found in no dictionary and in no other document.
MARKERS = {
    "own": "vortalix",
    "other_personal": "quembrio",
    "my_team": "zulqadro",
    "other_team": "brintoph",
    "my_unit": "plawenik",
    "other_unit": "drosquil",
    "shared_read": "fenwarou",
    "org_wide": "glimbatur",
    "other_org": "hoxpelin",
}
# Who reads what, written out by hand from the rules (not computed by the code under test).
READS = {
    "agent": {"own", "my_team", "my_unit", "shared_read", "org_wide"},
    "validator": {"other_team", "org_wide"},
    "innovation_lead": {"other_personal", "my_unit", "org_wide"},
    "dpo": {"other_unit", "shared_read", "org_wide"},
    "org_admin": {"org_wide"},
    "b_agent": {"other_org"},
}


@dataclass
class World:
    """Collections of every scope, each holding one ingested document with its marker word."""

    users: dict[str, User]
    collections: dict[str, int]  # name → collection id
    ctx: ingest.IngestContext

    def chunks_of(self, db: Session, names: set[str]) -> set[int]:
        ids = [self.collections[n] for n in names]
        return set(db.scalars(select(Chunk.id).where(Chunk.collection_id.in_(ids))))


def _text(marker: str) -> str:
    return (
        f"Rapport annuel du service.\n\nLe mot témoin de cette collection est {marker}. "
        "Le rapport présente les horaires d'ouverture, les tarifs et les démarches en ligne."
    )


def _place_people(db: Session, tenant: Tenant) -> None:
    """agent: unit U1 and team T1; validator: team T2; innovation lead: U1; dpo: unit U2."""
    org = tenant.org.id
    u1, u2 = Unit(org_id=org, name="U1"), Unit(org_id=org, name="U2")
    db.add_all([u1, u2])
    db.flush()
    t1, t2 = Team(org_id=org, name="T1"), Team(org_id=org, name="T2")
    db.add_all([t1, t2])
    db.flush()
    users = tenant.users
    users["agent"].unit_id = u1.id
    users["innovation_lead"].unit_id = u1.id
    users["dpo"].unit_id = u2.id
    db.add(TeamMember(team_id=t1.id, user_id=users["agent"].id))
    db.add(TeamMember(team_id=t2.id, user_id=users["validator"].id))
    db.commit()


def _team(db: Session, name: str) -> int:
    found = db.scalar(select(Team.id).where(Team.name == name))
    assert found is not None
    return found


@pytest.fixture
def world(app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant) -> World:
    """The collections of every scope, ingested."""
    _place_people(db, tenant)
    u = tenant.users
    make = service.create_collection
    collections = {
        "own": make(db, u["agent"], "Mes notes", "personal"),
        "other_personal": make(db, u["innovation_lead"], "Notes d'Inès", "personal"),
        "my_team": make(db, u["agent"], "Équipe T1", "team", team_id=_team(db, "T1")),
        "other_team": make(db, u["validator"], "Équipe T2", "team", team_id=_team(db, "T2")),
        "my_unit": make(db, u["innovation_lead"], "Unité U1", "unit"),
        "other_unit": make(db, u["dpo"], "Unité U2", "unit"),
        "shared_read": make(db, u["dpo"], "Partagée", "personal"),
        "org_wide": make(db, u["org_admin"], "Toute la commune", "organisation"),
        "other_org": make(db, other_tenant.users["org_admin"], "Commune B", "organisation"),
    }
    service.share(db, u["dpo"], collections["shared_read"].id, "read", team_id=_team(db, "T1"))
    ctx = app.state.jobs.ingest
    owners = {c.id: c.owner_user_id for c in collections.values()}
    everyone = {user.id: user for user in [*u.values(), *other_tenant.users.values()]}
    for name, collection in collections.items():
        owner = everyone[owners[collection.id] or 0]
        outcome = files.add_file(
            db, ctx.store, ctx.settings, owner, collection.id, f"{name}.txt",
            _text(MARKERS[name]).encode(),
        )
        assert outcome.status == "queued", outcome
    assert ingest.run_pending(ctx) == len(collections)
    users = {role: u[role] for role in READS if role != "b_agent"}
    users["b_agent"] = other_tenant.users["agent"]
    return World(users, {n: c.id for n, c in collections.items()}, ctx)


def _vector(world: World, user: User, query: str) -> list[float]:
    ctx = CallContext(user.org_id, user.id, user.role)
    return asyncio.run(search.embed_query(world.ctx.gateway, ctx, "fake/embed", query))


@pytest.mark.parametrize("mode", ["keyword", "vector", "hybrid"])
def test_each_user_finds_exactly_the_chunks_of_the_collections_they_read(
    world: World, db: Session, mode: str
) -> None:
    assert len(world.chunks_of(db, set(MARKERS))) >= len(MARKERS)
    for who, readable in READS.items():
        user = world.users[who]
        vector = _vector(world, user, "rapport annuel")
        hits = search.ranked(db, user, "rapport annuel", vector, limit=100, mode=mode)
        assert {h.chunk_id for h in hits} == world.chunks_of(db, readable), (who, mode)


def test_a_marker_word_is_found_only_by_those_who_read_its_collection(
    world: World, db: Session
) -> None:
    for who, readable in READS.items():
        user = world.users[who]
        for name, marker in MARKERS.items():
            hits = search.ranked(db, user, marker, None, mode="keyword")
            found = {h.collection_id for h in hits}
            expected = {world.collections[name]} if name in readable else set()
            assert found == expected, (who, name)


def test_asking_for_an_unreadable_collection_gives_nothing_from_it(
    world: World, db: Session
) -> None:
    agent = world.users["agent"]
    stolen = [world.collections["other_team"], world.collections["other_org"]]
    assert search.ranked(db, agent, "rapport", None, stolen, mode="keyword") == []
    mixed = [*stolen, world.collections["own"]]
    hits = search.ranked(db, agent, "rapport", None, mixed, mode="keyword")
    assert {h.collection_id for h in hits} == {world.collections["own"]}


def _markers_in(body: str) -> set[str]:
    return {name for name, marker in MARKERS.items() if marker in body}


def test_page_and_api_show_exactly_the_readable_collections(
    app: FastAPI, world: World
) -> None:
    for who, readable in READS.items():
        with TestClient(app) as client:
            csrf = login(client, world.users[who].email)
            page = client.get("/search", params={"q": "rapport annuel"})
            assert page.status_code == 200
            assert _markers_in(page.text) == readable, who
            api = client.get("/api/v1/search", params={"query": "rapport", "limit": 50})
            assert api.status_code == 200, api.text
            data = api.json()["data"]
            names = {n for n, cid in world.collections.items() if cid in
                     {h["collection_id"] for h in data}}
            assert names == readable, who
            posted = client.post(
                "/api/v1/search",
                json={"query": "rapport", "limit": 50},
                headers={"x-csrf-token": csrf},
            )
            assert {h["chunk_id"] for h in posted.json()["data"]} == {h["chunk_id"] for h in data}


def test_api_hit_carries_the_source_link_and_the_limit_is_capped(
    app: FastAPI, world: World
) -> None:
    with TestClient(app) as client:
        csrf = login(client, world.users["agent"].email)
        data = client.get("/api/v1/search", params={"query": MARKERS["own"]}).json()["data"]
        hit = data[0]  # the keyword match leads; vector neighbours follow (hybrid search)
        assert hit["collection_id"] == world.collections["own"]
        source = f"/documents/{hit['document_id']}/source?chunk={hit['chunk_id']}"
        assert hit["source_url"] == source
        assert MARKERS["own"] in hit["text"] and hit["title"] and hit["score"] > 0
        assert client.get("/api/v1/search", params={"query": "x", "limit": 51}).status_code == 400
        refused = client.post(
            "/api/v1/search", json={"query": "x", "limit": 500}, headers={"x-csrf-token": csrf}
        )
        assert refused.status_code == 400
        empty = client.get("/api/v1/search", params={"query": "  "})
        assert empty.status_code == 400 and empty.json()["error"]["code"] == "search_empty"


def test_page_links_to_the_passage_and_marks_the_words(app: FastAPI, world: World) -> None:
    with TestClient(app) as client:
        login(client, world.users["agent"].email)
        body = client.get("/search", params={"q": MARKERS["own"]}).text
        hits = client.get("/api/v1/search", params={"query": MARKERS["own"]}).json()["data"]
        assert f'href="{hits[0]["source_url"]}"' in body
        assert f"<mark>{MARKERS['own']}</mark>" in body
        assert "Mes notes" in body and "TXT" in body


def test_empty_too_long_and_no_result_messages(agent_client: tuple[TestClient, str]) -> None:
    client, _ = agent_client
    first = client.get("/search")
    assert first.status_code == 200 and "Résultats" not in first.text
    empty = client.get("/search", params={"q": "   "})
    assert empty.status_code == 400 and "Saisissez ce que vous cherchez." in empty.text
    long = client.get("/search", params={"q": "mot " * 300})
    assert long.status_code == 400 and "1000" in long.text
    none = client.get("/search", params={"q": "introuvable"})
    assert none.status_code == 200 and "Aucun passage" in none.text
    bad = client.get("/search", params={"q": "rapport", "since": "hier"})
    assert bad.status_code == 400 and "2025-03-31" in bad.text


def test_the_menu_links_to_search(agent_client: tuple[TestClient, str]) -> None:
    client, _ = agent_client
    assert 'href="/search"' in client.get("/").text


# Filters ---------------------------------------------------------------------------------------


@pytest.fixture
def mixed(app: FastAPI, db: Session, tenant: Tenant) -> tuple[int, dict[str, int]]:
    """A collection with a PDF and a text file, the text file uploaded in January 2024."""
    agent = tenant.users["agent"]
    collection = service.create_collection(db, agent, "Mélange", "personal")
    ctx = app.state.jobs.ingest
    documents: dict[str, int] = {}
    for name, data in (
        ("tarifs.pdf", pdf_pages(["Tarifs de la cantine scolaire pour la rentrée."])),
        ("ancien.txt", b"Tarifs anciens de la cantine scolaire, archives."),
    ):
        outcome = files.add_file(db, ctx.store, ctx.settings, agent, collection.id, name, data)
        assert outcome.document_id is not None and outcome.version_id is not None
        documents[name] = outcome.document_id
        if name == "ancien.txt":  # the index takes the upload day when the version is parsed
            version = db.get(DocumentVersion, outcome.version_id)
            assert version is not None
            version.created_at = datetime(2024, 1, 15, 10, tzinfo=UTC)
            db.commit()
    ingest.run_pending(ctx)
    return collection.id, documents


def test_filters_by_type_and_date_in_the_service(
    mixed: tuple[int, dict[str, int]], db: Session, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    _, docs = mixed

    def found(filters: Filters, mode: str) -> set[int]:
        vector = [1.0] + [0.0] * 7 if mode != "keyword" else None
        hits = search.ranked(db, agent, "tarifs cantine", vector, None, filters, 10, mode)
        return {h.document_id for h in hits}

    for mode in ("keyword", "vector", "hybrid"):
        assert found(Filters(), mode) == set(docs.values())
        assert found(Filters(("application/pdf",)), mode) == {docs["tarifs.pdf"]}
        assert found(Filters(("text/plain",)), mode) == {docs["ancien.txt"]}
        since = datetime(2025, 1, 1).date()
        assert found(Filters(since=since), mode) == {docs["tarifs.pdf"]}
        until = datetime(2024, 12, 31).date()
        assert found(Filters(until=until), mode) == {docs["ancien.txt"]}


def test_filters_on_the_page_and_the_api(
    mixed: tuple[int, dict[str, int]], agent_client: tuple[TestClient, str]
) -> None:
    client, _ = agent_client
    collection_id, _ = mixed
    base = {"q": "tarifs cantine", "collection": str(collection_id)}
    assert "tarifs.pdf" not in client.get("/search", params=base).text  # titles, not file names
    pdf = client.get("/search", params={**base, "type": "pdf"}).text
    assert "Résultats : 1" in pdf and "PDF" in pdf
    old = client.get("/search", params={**base, "until": "2024-12-31"}).text
    assert "Résultats : 1" in old and "archives" in old
    new = client.get("/search", params={**base, "since": "2025-01-01", "type": "plain"}).text
    assert "Aucun passage" in new
    api = client.get(
        "/api/v1/search",
        params={"query": "tarifs", "media_types": "application/pdf", "since": "2025-01-01"},
    ).json()["data"]
    assert [h["media_type"] for h in api] == ["application/pdf"]


# Snippets --------------------------------------------------------------------------------------


def test_a_document_with_html_is_shown_as_text(
    app: FastAPI, db: Session, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    agent = tenant.users["agent"]
    collection = service.create_collection(db, agent, "Pièges", "personal")
    ctx = app.state.jobs.ingest
    text = (
        "Consignes du service de l'état civil pour les demandes de documents.\n\n"
        "Attention : la page contenait <script>alert('piege')</script> et <b>gras</b>, "
        "que le moteur de recherche doit afficher comme du texte ordinaire."
    ).encode()
    outcome = files.add_file(db, ctx.store, ctx.settings, agent, collection.id, "p.txt", text)
    assert outcome.status == "queued"
    ingest.run_pending(ctx)
    client, _ = agent_client
    body = client.get("/search", params={"q": "script alert"}).text
    assert "Résultats : 1" in body
    assert "<script>alert" not in body and "<b>gras" not in body
    assert "&lt;<mark>script</mark>&gt;<mark>alert</mark>(" in body


def test_snippet_marks_words_whatever_their_accents_and_endings() -> None:
    parts = snippet("Les Écoles publiques et l'école privée.", "ecole")
    assert [p for p, marked in parts if marked] == ["Écoles", "école"]
    assert "".join(p for p, _ in parts) == "Les Écoles publiques et l'école privée."


def test_snippet_centres_on_the_words_and_marks_the_cuts() -> None:
    text = "début " * 100 + "la redevance incitative " + "fin " * 100
    parts = snippet(text, "redevance", width=120)
    joined = "".join(p for p, _ in parts)
    assert joined.startswith("… ") and joined.endswith(" …")
    assert ("redevance", True) in parts
    assert len(joined) <= 130
