"""Uploading and managing documents in the browser pages: many files, ZIPs, duplicates, versions,
progress, download and delete (also while ingesting), with each file's own outcome."""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.orm import Session

from civique.app import create_app
from civique.demo_documents import demo_files
from civique.documents import files, ingest, search
from civique.documents.models import Chunk, Document, DocumentSection, DocumentVersion
from civique.documents.service import create_collection, share
from civique.orgs.models import Team, TeamMember
from civique.settings import Settings
from tests.documents.files import scan_image, scanned_pdf, zip_bomb
from tests.helpers import Tenant, login

PDF = "reglement-cimetiere.pdf"
DOCX = next(name for name, _ in demo_files() if name.endswith(".docx"))
CORRUPT_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a PDF body\n%%EOF"


def demo(name: str) -> bytes:
    """The bytes of a demo document."""
    return dict(demo_files())[name]


def zipped(members: dict[str, bytes]) -> bytes:
    """A ZIP archive holding these files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def enqueued(app: FastAPI) -> list[int]:
    """The versions the routes hand to the job queue (recorded instead of queued)."""
    seen: list[int] = []
    app.state.jobs.enqueue_ingestion = seen.append
    return seen


@pytest.fixture
def collection(db: Session, tenant: Tenant) -> int:
    """A personal collection of the agent."""
    return create_collection(db, tenant.users["agent"], "Arrêtés", "personal").id


def upload(
    client: TestClient, csrf: str, collection_id: int, named: list[tuple[str, bytes]]
) -> Any:
    """Send files through the collection page's form."""
    parts = [("files", (name, data, "application/octet-stream")) for name, data in named]
    return client.post(
        f"/collections/{collection_id}/documents", data={"csrf_token": csrf}, files=parts
    )


def outcomes(page: str) -> list[str]:
    """The outcome lines of the upload result, as text."""
    block = page.split('class="upload-outcomes"', 1)[1].split("</ul>", 1)[0]
    items = block.split("<li")[1:]
    return [html.unescape(re.sub(r"<[^>]+>", "", "<li" + item)).strip() for item in items]


def run_ingestion(app: FastAPI) -> int:
    """Ingest every queued version here (the tests run no worker)."""
    return ingest.run_pending(app.state.jobs.ingest)


def test_each_file_gets_its_outcome_and_the_rest_go_on(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    collection: int,
    enqueued: list[int],
    db: Session,
) -> None:
    client, csrf = agent_client
    sent = [(PDF, demo(PDF)), ("vide.txt", b""), ("abime.pdf", CORRUPT_PDF), (DOCX, demo(DOCX))]
    response = upload(client, csrf, collection, sent)
    assert response.status_code == 200
    lines = outcomes(response.text)
    assert len(lines) == 4
    assert lines[0].startswith(PDF) and "Ajouté, en cours de traitement" in lines[0]
    assert "vide.txt · Refusé : Le fichier est vide." in lines[1]
    assert "abime.pdf" in lines[2] and "Ajouté" in lines[2]  # only reading it shows the damage
    assert "Ajouté" in lines[3]
    queued = db.scalars(select(DocumentVersion.id).order_by(DocumentVersion.id)).all()
    assert enqueued == list(queued) and len(queued) == 3
    assert run_ingestion(app) == 3
    page = html.unescape(client.get(f"/collections/{collection}").text)
    assert page.count("Prêt") == 2
    assert "Échec" in page and "Le fichier est endommagé ou n'est pas un fichier PDF valide" in page
    assert "Langue : français" in page


def test_a_zip_is_unpacked_and_a_zip_bomb_refused(
    agent_client: tuple[TestClient, str], collection: int, enqueued: list[int], db: Session
) -> None:
    client, csrf = agent_client
    archive = zipped(
        {"dossier/" + PDF: demo(PDF), "__MACOSX/._x": b"x", "note.md": b"# Note\n\nTexte."}
    )
    response = upload(
        client, csrf, collection, [("lot.zip", archive), ("bombe.zip", zip_bomb(10**10))]
    )
    lines = outcomes(response.text)
    assert len(lines) == 3, lines
    assert lines[0].startswith(PDF) and "Ajouté" in lines[0]
    assert lines[1].startswith("note.md") and "Ajouté" in lines[1]
    assert lines[2].startswith("bombe.zip") and "bombe de décompression" in lines[2]
    assert len(enqueued) == 2
    names = set(db.scalars(select(Document.filename)).all())
    assert names == {PDF, "note.md"}


def test_a_duplicate_is_told_and_a_same_name_makes_a_new_version(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    collection: int,
    enqueued: list[int],
    db: Session,
    tenant: Tenant,
) -> None:
    client, csrf = agent_client
    first = b"Arrete municipal : le marche se tient le mardi sur la place des Tilleuls.\n" * 3
    upload(client, csrf, collection, [("marche.txt", first)])
    run_ingestion(app)
    again = outcomes(upload(client, csrf, collection, [("copie.txt", first)]).text)
    assert "Déjà dans la collection" in again[0] and "« marche »" in again[0]
    second = b"Arrete municipal : le marche se tient desormais le jeudi, place de la Gare.\n" * 3
    lines = outcomes(upload(client, csrf, collection, [("marche.txt", second)]).text)
    assert "Ajouté" in lines[0]
    assert len(enqueued) == 2
    run_ingestion(app)
    document = db.scalar(select(Document))
    assert document is not None
    page = client.get(f"/documents/{document.id}").text
    assert "Remplacée par une version plus récente" in page and "Prêt" in page
    rows = db.scalars(select(DocumentVersion).order_by(DocumentVersion.number)).all()
    assert [(v.number, v.status) for v in rows] == [(1, "superseded"), (2, "ready")]
    agent = tenant.users["agent"]
    assert search.ranked(db, agent, "mardi Tilleuls", None, mode="keyword") == []
    hits = search.ranked(db, agent, "jeudi Gare", None, mode="keyword")
    assert hits and {h.version_id for h in hits} == {rows[1].id}
    old = client.get(f"/documents/{document.id}/versions/1/file")
    assert old.content == first  # the old version is kept in the history


def test_new_version_from_the_document_page(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    collection: int,
    enqueued: list[int],
    db: Session,
) -> None:
    client, csrf = agent_client
    upload(client, csrf, collection, [("horaires.txt", b"Mairie ouverte le lundi de 9 h a 12 h.")])
    document = db.scalar(select(Document))
    assert document is not None
    response = client.post(
        f"/documents/{document.id}/versions",
        data={"csrf_token": csrf},
        files={"file": ("horaires-2027.txt", b"Mairie ouverte le mardi de 9 h a 17 h.")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Version 2 ajoutée" in page
    assert [v.filename for v in db.scalars(select(DocumentVersion))] == ["horaires.txt"] * 2
    empty = client.post(
        f"/documents/{document.id}/versions",
        data={"csrf_token": csrf},
        files={"file": ("vide.txt", b"")},
    )
    assert empty.status_code == 400 and "Le fichier est vide." in empty.text


def test_status_json_follows_the_ingestion(
    app: FastAPI, agent_client: tuple[TestClient, str], collection: int, enqueued: list[int]
) -> None:
    client, csrf = agent_client
    upload(client, csrf, collection, [(PDF, demo(PDF))])
    page = client.get(f"/collections/{collection}").text
    assert f'data-status-url="/collections/{collection}/documents/status"' in page
    before = client.get(f"/collections/{collection}/documents/status").json()
    assert before["active"] is True
    assert [(d["status"], d["label"]) for d in before["documents"]] == [("queued", "En attente")]
    run_ingestion(app)
    after = client.get(f"/collections/{collection}/documents/status").json()
    assert after["active"] is False
    (doc,) = after["documents"]
    assert doc["status"] == "ready" and doc["label"] == "Prêt" and doc["done"] == doc["total"] > 0
    assert "Langue : français" in doc["details"]
    assert "data-status-url" not in client.get(f"/collections/{collection}").text


def test_download_gives_the_original_as_an_attachment(
    agent_client: tuple[TestClient, str], collection: int, enqueued: list[int], db: Session
) -> None:
    client, csrf = agent_client
    upload(client, csrf, collection, [("Règlement été.pdf", demo(PDF))])
    document_id = db.scalar(select(Document.id))
    response = client.get(f"/documents/{document_id}/versions/1/file")
    assert response.status_code == 200 and response.content == demo(PDF)
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert (
        disposition.startswith("attachment;")
        and "R%C3%A8glement%20%C3%A9t%C3%A9.pdf" in disposition
    )
    assert client.get(f"/documents/{document_id}/versions/2/file").status_code == 404


def _index_rows(db: Session, table: str) -> int:
    if not inspect(db.get_bind()).has_table(table):
        return 0  # made with the first vector
    return int(db.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def test_delete_removes_chunks_index_rows_and_the_file(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    collection: int,
    enqueued: list[int],
    db: Session,
) -> None:
    client, csrf = agent_client
    upload(client, csrf, collection, [(PDF, demo(PDF)), (DOCX, demo(DOCX))])
    run_ingestion(app)
    document = db.scalar(select(Document).where(Document.filename == PDF))
    assert document is not None
    version = db.scalar(select(DocumentVersion).where(DocumentVersion.document_id == document.id))
    assert version is not None
    stored = app.state.jobs.ingest.store.path(version.storage_key)
    own = db.scalar(select(func.count()).select_from(Chunk).where(Chunk.document_id == document.id))
    vectors = _index_rows(db, "chunk_vectors")
    assert stored.exists() and own
    document_id = document.id
    response = client.post(
        f"/documents/{document_id}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert (
        response.status_code == 303 and response.headers["location"] == f"/collections/{collection}"
    )
    assert "a été supprimé" in client.get(response.headers["location"]).text
    db.expire_all()
    assert db.get(Document, document_id) is None
    left = select(func.count()).select_from(Chunk).where(Chunk.document_id == document_id)
    assert db.scalar(left) == 0
    assert _index_rows(db, "chunk_vectors") == vectors - own
    assert not stored.exists()
    assert db.scalar(select(func.count()).select_from(Document)) == 1  # the other one stays
    without_csrf = client.post(f"/documents/{document_id}/delete", follow_redirects=False)
    assert without_csrf.status_code in (403, 404)


def test_delete_between_parse_and_embedding_stops_the_job_cleanly(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    collection: int,
    enqueued: list[int],
    db: Session,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, csrf = agent_client
    upload(client, csrf, collection, [(PDF, demo(PDF))])
    ctx = app.state.jobs.ingest
    document_id = db.scalar(select(Document.id))
    assert document_id is not None
    parse_step = ingest._parse_step

    def parse_then_delete(session: Session, *args: Any) -> None:
        parse_step(session, *args)  # sections and chunks are written, embedding comes next
        with app.state.sessions() as other:
            files.delete_document(other, ctx.store, tenant.users["agent"], document_id)

    monkeypatch.setattr(ingest, "_parse_step", parse_then_delete)
    assert ingest.process(ctx, enqueued[0]) in ("cancelled", "skipped")
    db.expire_all()
    for model in (Document, DocumentVersion, DocumentSection, Chunk):
        assert db.scalar(select(func.count()).select_from(model)) == 0, model
    assert _index_rows(db, "chunk_vectors") == 0
    assert not any(p.is_file() for p in Path(ctx.store.root).rglob("*"))


def test_delete_while_the_file_is_read_stops_the_job_cleanly(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    collection: int,
    enqueued: list[int],
    db: Session,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, csrf = agent_client
    upload(client, csrf, collection, [(PDF, demo(PDF))])
    ctx = app.state.jobs.ingest
    document_id = db.scalar(select(Document.id))
    assert document_id is not None
    parse = ingest.parse

    def deleted_while_parsing(*args: Any) -> Any:
        parsed = parse(*args)
        with app.state.sessions() as other:
            files.delete_document(other, ctx.store, tenant.users["agent"], document_id)
        return parsed

    monkeypatch.setattr(ingest, "parse", deleted_while_parsing)
    assert ingest.process(ctx, enqueued[0]) == "cancelled"
    db.expire_all()
    for model in (Document, DocumentVersion, DocumentSection, Chunk):
        assert db.scalar(select(func.count()).select_from(model)) == 0, model


def test_a_reader_sees_documents_but_cannot_upload_or_delete(
    app: FastAPI, db: Session, tenant: Tenant, collection: int, enqueued: list[int]
) -> None:
    owner, reader = tenant.users["agent"], tenant.users["validator"]
    team = Team(org_id=tenant.org.id, name="Lecteurs")
    db.add(team)
    db.flush()
    db.add(TeamMember(team_id=team.id, user_id=reader.id))
    db.commit()
    share(db, owner, collection, "read", team_id=team.id)
    outcome = files.add_file(
        db, app.state.jobs.ingest.store, app.state.settings, owner, collection, "avis.txt", b"Avis."
    )
    with TestClient(app) as client:
        csrf = login(client, reader.email)
        page = client.get(f"/collections/{collection}").text
        assert "avis" in page and f'action="/collections/{collection}/documents"' not in page
        assert upload(client, csrf, collection, [("intrus.txt", b"Intrus")]).status_code == 403
        document_page = client.get(f"/documents/{outcome.document_id}").text
        assert "Supprimer le document" not in document_page
        deleted = client.post(f"/documents/{outcome.document_id}/delete", data={"csrf_token": csrf})
        assert deleted.status_code == 403
        assert client.get(f"/documents/{outcome.document_id}/versions/1/file").content == b"Avis."
    assert db.scalar(select(func.count()).select_from(Document)) == 1
    assert enqueued == []


@pytest.fixture
def small_app(settings: Settings) -> Iterator[FastAPI]:
    """The app with tiny upload limits: 3,000 bytes and 2 files per sending, 1,000 per file."""
    limited = settings.model_copy(
        update={
            "documents_max_upload_bytes": 3000,
            "documents_max_files": 2,
            "documents_max_file_bytes": 1000,
        }
    )
    application = create_app(limited)
    yield application
    application.state.engine.dispose()


def test_uploads_above_the_limits_are_refused_with_a_message(
    small_app: FastAPI, tenant: Tenant, collection: int
) -> None:
    with TestClient(small_app) as client:
        csrf = login(client, tenant.users["agent"].email)
        big = upload(client, csrf, collection, [("gros.txt", b"a" * 5000)])
        assert big.status_code == 413
        assert "L'envoi est trop volumineux : la limite est de 3000 octets" in html.unescape(
            big.text
        )
        many = upload(client, csrf, collection, [(f"{n}.txt", b"x %d" % n) for n in range(3)])
        assert many.status_code == 413, many.text[-3000:]
        assert "Trop de fichiers à la fois" in many.text
        # a normal form elsewhere still has the usual limit
        assert (
            client.post("/collections", data={"csrf_token": csrf, "name": "x" * 2500}).status_code
            != 413
        )
    with small_app.state.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Document)) == 0


def test_the_list_tells_progress_ocr_and_a_lying_extension(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    collection: int,
    enqueued: list[int],
    db: Session,
) -> None:
    client, csrf = agent_client
    scan = scanned_pdf([scan_image()])
    lying = b"# Marche\n\nLe marche se tient le mardi matin sur la place des Tilleuls.\n"
    upload(client, csrf, collection, [("arrete-scanne.pdf", scan), ("marche.pdf", lying)])
    ctx = app.state.jobs.ingest
    with ctx.sessions() as session:  # read the scan, stop before its passages are embedded
        version = ingest.claim(session, enqueued[0], 60)
        assert version is not None
        ingest._parse_step(session, ctx, version)
        version.lease_until = None  # as if its worker stopped there: the next one resumes it
        session.commit()
    status = client.get(f"/collections/{collection}/documents/status").json()
    scanned = next(d for d in status["documents"] if d["status"] == "embedding")
    assert scanned["active"] and scanned["total"] > 0 and scanned["done"] == 0
    assert f"0 passages indexés sur {scanned['total']}" in scanned["details"]
    assert "Texte reconnu (OCR) sur les pages 1" in scanned["details"]
    page = client.get(f"/collections/{collection}").text
    assert f'<progress max="{scanned["total"]}" value="0"' in page
    run_ingestion(app)
    page = html.unescape(client.get(f"/collections/{collection}").text)
    assert "Le nom du fichier indique PDF, mais il s'agit d'un fichier Markdown" in page
    assert page.count("Prêt") == 2 and "<progress" not in page


def test_a_zip_with_too_many_files_is_refused_alone(
    small_app: FastAPI, tenant: Tenant, collection: int
) -> None:
    members = {f"{n}.txt": f"Note {n}".encode() for n in range(3)}
    with TestClient(small_app) as client:
        csrf = login(client, tenant.users["agent"].email)
        lines = outcomes(upload(client, csrf, collection, [("lot.zip", zipped(members))]).text)
    assert len(lines) == 1 and "Trop de fichiers à la fois : 3, la limite est de 2." in lines[0]


def test_an_older_version_finishing_last_does_not_take_search_back(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    collection: int,
    enqueued: list[int],
    db: Session,
    tenant: Tenant,
) -> None:
    client, csrf = agent_client
    upload(client, csrf, collection, [("avis.txt", b"Enquete publique sur le canal du Midi.")])
    upload(client, csrf, collection, [("avis.txt", b"Enquete publique sur la route des Cretes.")])
    first, second = enqueued
    ctx = app.state.jobs.ingest
    # Two workers: one holds the first version while the other finishes the newer one.
    with app.state.sessions() as other_worker:
        assert ingest.claim(other_worker, first, 60) is not None
    assert ingest.process(ctx, second) == "ready"
    with app.state.sessions() as other_worker:
        other_worker.execute(
            update(DocumentVersion).where(DocumentVersion.id == first).values(lease_until=None)
        )
        other_worker.commit()
    assert ingest.process(ctx, first) == "superseded"
    db.expire_all()
    document = db.scalar(select(Document))
    assert document is not None and document.current_version_id == second
    assert set(db.scalars(select(Chunk.version_id)).all()) == {second}
    agent = tenant.users["agent"]
    assert search.ranked(db, agent, "canal Midi", None, mode="keyword") == []
    assert search.ranked(db, agent, "route Cretes", None, mode="keyword")
    assert client.get(f"/documents/{document.id}/versions/1/file").status_code == 200


def test_a_file_above_the_file_limit_is_refused_and_the_other_goes_on(
    small_app: FastAPI, tenant: Tenant, collection: int
) -> None:
    with TestClient(small_app) as client:
        csrf = login(client, tenant.users["agent"].email)
        sent = [("gros.txt", b"Texte long. " * 150), ("court.txt", b"Texte court.")]
        lines = outcomes(upload(client, csrf, collection, sent).text)
    assert "gros.txt · Refusé : Le fichier est trop volumineux : 1800 octets" in lines[0]
    assert lines[1].startswith("court.txt · Ajouté")
