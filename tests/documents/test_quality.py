"""The content-quality report: a planted near-duplicate, an empty page, a failed file, an unused
document and unanswered questions are found; only writers of the collection see the report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.demo_documents import demo_files
from civique.documents import files, ingest, quality, service
from civique.documents.models import (
    CitationUse,
    Document,
    DocumentVersion,
    UnansweredQuestion,
)
from civique.errors import UserError
from civique.orgs.models import Team, TeamMember
from tests.documents.files import pdf_pages
from tests.helpers import Tenant, login

FIRST_PAGE = (
    "Compte rendu du conseil municipal du mois de mars.\n"
    "Le conseil a voté le budget de la commune et la rénovation de l'école.\n"
    "Les travaux de voirie commenceront au printemps dans le quartier de la gare."
)


def _demo(name: str) -> bytes:
    return next(data for file, data in demo_files() if file == name)


@pytest.fixture
def loaded(app: FastAPI, db: Session, tenant: Tenant) -> tuple[int, dict[str, int]]:
    """A collection with a near-duplicate pair, a distinct page, a PDF with a blank page and a
    short one, and a password-protected PDF that cannot be read."""
    agent = tenant.users["agent"]
    collection = service.create_collection(db, agent, "Qualité", "personal")
    hours = _demo("horaires-contacts.md")
    near_copy = hours.replace(b"Mairie", "Hôtel de ville".encode(), 1)
    assert near_copy != hours
    uploads = {
        "horaires.md": hours,
        "horaires-copie.md": near_copy,
        "faq.html": _demo("faq-etat-civil.html"),
        "conseil.pdf": pdf_pages([FIRST_PAGE, "", "Fin du document."]),
        "protege.pdf": pdf_pages([FIRST_PAGE], password="secret"),
    }
    ctx = app.state.jobs.ingest
    ids: dict[str, int] = {}
    for name, data in uploads.items():
        outcome = files.add_file(db, ctx.store, ctx.settings, agent, collection.id, name, data)
        assert outcome.status == "queued" and outcome.document_id is not None, outcome
        ids[name] = outcome.document_id
    ingest.run_pending(ctx)
    return collection.id, ids


def test_report_finds_the_planted_problems(
    loaded: tuple[int, dict[str, int]], db: Session, tenant: Tenant
) -> None:
    collection_id, ids = loaded
    agent = tenant.users["agent"]
    db.add(CitationUse(org_id=tenant.org.id, document_id=ids["faq.html"]))
    older = UnansweredQuestion(
        org_id=tenant.org.id, collection_id=collection_id, question="Où garer mon vélo ?",
        created_at=datetime(2025, 1, 10, tzinfo=UTC),
    )
    newer = UnansweredQuestion(
        org_id=tenant.org.id, collection_id=collection_id, question="Le marché est-il ouvert ?",
        created_at=datetime(2025, 2, 10, tzinfo=UTC),
    )
    db.add_all([older, newer])
    db.commit()
    report = quality.report(db, agent, collection_id)
    assert report.documents == 5
    pairs = {(p.first.id, p.second.id): p.similarity for p in report.duplicates}
    assert list(pairs) == [(ids["horaires.md"], ids["horaires-copie.md"])]
    assert 0.8 <= next(iter(pairs.values())) < 1.0
    issues = {(i.document.id, i.page, i.kind) for i in report.pages}
    assert (ids["conseil.pdf"], 2, "empty") in issues
    assert (ids["conseil.pdf"], 3, "little_text") in issues
    assert (ids["conseil.pdf"], 1, "empty") not in issues
    assert [(f.document.id, f.error_code) for f in report.failed] == [
        (ids["protege.pdf"], "doc_encrypted")
    ]
    assert "mot de passe" in report.failed[0].message or "password" in report.failed[0].message
    unused = {u.document.id for u in report.unused}
    assert unused == {ids["horaires.md"], ids["horaires-copie.md"], ids["conseil.pdf"]}
    assert [q.question for q in report.unanswered] == [newer.question, older.question]


def test_ocr_pages_are_reported(
    loaded: tuple[int, dict[str, int]], db: Session, tenant: Tenant
) -> None:
    collection_id, ids = loaded
    version = db.scalar(
        select(DocumentVersion).where(DocumentVersion.document_id == ids["conseil.pdf"])
    )
    assert version is not None
    version.ocr_pages = [1]  # what the parser records for a scanned page (see test_parse)
    db.commit()
    report = quality.report(db, tenant.users["agent"], collection_id)
    ocr = [i for i in report.pages if i.kind == "ocr"]
    assert [(i.document.id, i.page) for i in ocr] == [(ids["conseil.pdf"], 1)]
    assert ocr[0].words > 10


def test_a_version_waiting_for_its_vectors_is_already_reported(
    loaded: tuple[int, dict[str, int]], db: Session, tenant: Tenant
) -> None:
    collection_id, ids = loaded
    document = db.get(Document, ids["conseil.pdf"])
    assert document is not None and document.current_version_id is not None
    version = db.get(DocumentVersion, document.current_version_id)
    assert version is not None
    # As when the embedding model is down: words indexed (found by keyword), no vectors yet.
    version.status, document.current_version_id = "embedding", None
    db.commit()
    report = quality.report(db, tenant.users["agent"], collection_id)
    assert ids["conseil.pdf"] in {u.document.id for u in report.unused}
    issues = {(i.document.id, i.page, i.kind) for i in report.pages}
    assert (ids["conseil.pdf"], 2, "empty") in issues


def test_a_stored_reason_is_shown_with_its_parameters(
    loaded: tuple[int, dict[str, int]], db: Session, tenant: Tenant
) -> None:
    collection_id, ids = loaded
    version = db.scalar(
        select(DocumentVersion).where(DocumentVersion.document_id == ids["protege.pdf"])
    )
    assert version is not None
    version.error_code, version.error_params = "doc_embedding_unavailable", {"reason": "timeout"}
    db.commit()
    [failed] = quality.report(db, tenant.users["agent"], collection_id).failed
    assert "(timeout)" in failed.message


def test_a_heading_followed_by_subsections_is_not_little_text(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    collection = service.create_collection(db, agent, "Titres", "personal")
    ctx = app.state.jobs.ingest
    data = _demo("faq-etat-civil.html") + b"<h2>Rubrique vide</h2>"
    outcome = files.add_file(db, ctx.store, ctx.settings, agent, collection.id, "faq.html", data)
    assert outcome.status == "queued"
    ingest.run_pending(ctx)
    report = quality.report(db, agent, collection.id)
    # "Actes d'état civil" only heads its questions; the empty last heading is reported.
    assert [(i.label, i.kind) for i in report.pages] == [("Rubrique vide", "little_text")]


def test_distinct_documents_are_not_duplicates() -> None:
    hours = quality.shingles(_demo("horaires-contacts.md").decode())
    faq = quality.shingles(_demo("faq-etat-civil.html").decode())
    assert quality.jaccard(hours, hours) == 1.0
    assert quality.jaccard(hours, faq) < 0.1
    assert quality.shingles("Deux mots") == {b"deux mots"}
    assert quality.shingles("  ") == set()


def test_readers_without_write_right_are_refused(
    loaded: tuple[int, dict[str, int]], db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    collection_id, _ = loaded
    owner, reader = tenant.users["agent"], tenant.users["validator"]
    team = Team(org_id=tenant.org.id, name="Lecteurs")
    db.add(team)
    db.flush()
    db.add(TeamMember(team_id=team.id, user_id=reader.id))
    db.commit()
    for user in (reader, other_tenant.users["org_admin"]):
        with pytest.raises(UserError) as caught:
            quality.report(db, user, collection_id)
        assert caught.value.status == 404
    service.share(db, owner, collection_id, "read", team_id=team.id)
    with pytest.raises(UserError) as caught:
        quality.report(db, reader, collection_id)
    assert caught.value.status == 403
    service.share(db, owner, collection_id, "write", team_id=team.id)
    assert quality.report(db, reader, collection_id).documents == 5


def test_page_and_api(
    app: FastAPI, loaded: tuple[int, dict[str, int]], tenant: Tenant, db: Session
) -> None:
    collection_id, ids = loaded
    db.add(
        UnansweredQuestion(
            org_id=tenant.org.id, collection_id=collection_id, question="<b>Piscine</b> ?"
        )
    )
    db.commit()
    with TestClient(app) as client:
        login(client, tenant.users["agent"].email)
        collection_page = client.get(f"/collections/{collection_id}").text
        assert f'href="/collections/{collection_id}/quality"' in collection_page
        body = client.get(f"/collections/{collection_id}/quality")
        assert body.status_code == 200
        assert "Documents presque identiques" in body.text and "semblables à" in body.text
        assert "Page vide (sans texte)" in body.text
        assert "&lt;b&gt;Piscine&lt;/b&gt;" in body.text and "<b>Piscine" not in body.text
        api = client.get(f"/api/v1/collections/{collection_id}/quality").json()
        assert api["duplicates"][0]["second"]["id"] == ids["horaires-copie.md"]
        assert api["failed"][0]["error_code"] == "doc_encrypted"
    with TestClient(app) as client:
        login(client, tenant.users["validator"].email)
        assert client.get(f"/collections/{collection_id}/quality").status_code == 404
        assert client.get(f"/api/v1/collections/{collection_id}/quality").status_code == 404
