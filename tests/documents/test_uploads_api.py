"""The documents API (/api/v1): upload with per-file outcomes, list, status, versions, download,
delete, with a personal token, and the same rights as the pages."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.service import create_api_token
from civique.documents import ingest
from civique.documents.models import Chunk, Document
from civique.documents.service import create_collection, share
from civique.orgs.models import Team, TeamMember
from tests.documents.test_uploads import CORRUPT_PDF, PDF, demo, zipped
from tests.helpers import Tenant


def bearer(db: Session, user: User) -> dict[str, str]:
    """The Authorization header of a fresh personal token of `user`."""
    _token, secret = create_api_token(db, user, "documents")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api(app: FastAPI) -> Any:
    """A client without session: only the token authenticates."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def collection(db: Session, tenant: Tenant) -> int:
    """A personal collection of the agent."""
    return create_collection(db, tenant.users["agent"], "Délibérations", "personal").id


def send(
    api: TestClient, headers: dict[str, str], collection: int, named: list[tuple[str, bytes]]
) -> Any:
    """POST files to the collection's documents."""
    parts = [("files", (name, data)) for name, data in named]
    return api.post(f"/api/v1/collections/{collection}/documents", headers=headers, files=parts)


def test_upload_returns_one_outcome_per_file_and_ingestion_follows(
    app: FastAPI, api: TestClient, db: Session, tenant: Tenant, collection: int
) -> None:
    headers = bearer(db, tenant.users["agent"])
    archive = zipped(
        {"a.md": b"# Horaires\n\nLa mairie ouvre le lundi.", "b.md": b"# Tarifs\n\nGratuit."}
    )
    response = send(
        api,
        headers,
        collection,
        [(PDF, demo(PDF)), ("vide.txt", b""), ("lot.zip", archive), ("abime.pdf", CORRUPT_PDF)],
    )
    assert response.status_code == 200
    body = response.json()
    statuses = [(o["filename"], o["status"]) for o in body["data"]]
    assert statuses == [
        (PDF, "queued"),
        ("vide.txt", "refused"),
        ("a.md", "queued"),
        ("b.md", "queued"),
        ("abime.pdf", "queued"),
    ]
    assert (body["queued"], body["refused"], body["duplicate"]) == (4, 1, 0)
    refused = body["data"][1]
    assert refused["error_code"] == "doc_empty" and refused["message"] == "Le fichier est vide."
    again = send(api, headers, collection, [("copie.pdf", demo(PDF))]).json()["data"][0]
    assert again["status"] == "duplicate" and again["document_id"] == body["data"][0]["document_id"]
    listed = api.get(f"/api/v1/collections/{collection}/documents", headers=headers).json()["data"]
    assert {d["latest"]["status"] for d in listed} == {"queued"} and len(listed) == 4
    ingest.run_pending(app.state.jobs.ingest)
    listed = api.get(f"/api/v1/collections/{collection}/documents", headers=headers).json()["data"]
    by_name = {d["filename"]: d for d in listed}
    assert by_name["abime.pdf"]["latest"]["status"] == "failed"
    assert by_name["abime.pdf"]["latest"]["error_code"] == "doc_corrupt"
    assert "endommagé" in by_name["abime.pdf"]["latest"]["error_message"]
    ready = by_name[PDF]
    assert ready["latest"]["status"] == "ready" and ready["searchable_version"] == 1
    assert ready["latest"]["progress_done"] == ready["latest"]["progress_total"] > 0
    assert ready["latest"]["page_count"] == 4 and ready["latest"]["language"] == "fr"


def test_document_versions_download_and_delete(
    app: FastAPI, api: TestClient, db: Session, tenant: Tenant, collection: int
) -> None:
    headers = bearer(db, tenant.users["agent"])
    first = send(api, headers, collection, [("avis.txt", b"Avis de consultation publique.")])
    document_id = first.json()["data"][0]["document_id"]
    ingest.run_pending(app.state.jobs.ingest)
    second = send(api, headers, collection, [("avis.txt", b"Avis de consultation, prolongee.")])
    assert second.json()["data"][0]["version"] == 2
    detail = api.get(f"/api/v1/documents/{document_id}", headers=headers).json()
    assert [v["number"] for v in detail["versions"]] == [2, 1]
    assert detail["latest"]["status"] == "queued" and detail["searchable_version"] == 1
    assert detail["versions"][1]["created_by"] == tenant.users["agent"].name
    old = api.get(f"/api/v1/documents/{document_id}/versions/1/file", headers=headers)
    assert old.content == b"Avis de consultation publique."
    assert old.headers["content-type"].startswith("text/plain")
    assert old.headers["content-disposition"] == 'attachment; filename="avis.txt"'
    assert (
        api.get(f"/api/v1/documents/{document_id}/versions/3/file", headers=headers).status_code
        == 404
    )
    ingest.run_pending(app.state.jobs.ingest)
    deleted = api.delete(f"/api/v1/documents/{document_id}", headers=headers)
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert api.get(f"/api/v1/documents/{document_id}", headers=headers).status_code == 404
    assert db.scalar(select(func.count()).select_from(Chunk)) == 0
    assert db.scalar(select(func.count()).select_from(Document)) == 0


def test_readers_and_outsiders_cannot_change_documents(
    api: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant, collection: int
) -> None:
    owner, reader = tenant.users["agent"], tenant.users["validator"]
    team = Team(org_id=tenant.org.id, name="Lecteurs")
    db.add(team)
    db.flush()
    db.add(TeamMember(team_id=team.id, user_id=reader.id))
    db.commit()
    share(db, owner, collection, "read", team_id=team.id)
    made = send(api, bearer(db, owner), collection, [("avis.txt", b"Avis.")]).json()["data"][0]
    document_id = made["document_id"]
    as_reader = bearer(db, reader)
    assert api.get(f"/api/v1/documents/{document_id}", headers=as_reader).status_code == 200
    refused = send(api, as_reader, collection, [("intrus.txt", b"Intrus.")])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert api.delete(f"/api/v1/documents/{document_id}", headers=as_reader).status_code == 403
    outsider = bearer(db, other_tenant.users["org_admin"])
    assert send(api, outsider, collection, [("intrus.txt", b"Intrus.")]).status_code == 404
    assert api.get(f"/api/v1/documents/{document_id}", headers=outsider).status_code == 404
    assert api.delete(f"/api/v1/documents/{document_id}", headers=outsider).status_code == 404
    assert api.get(f"/api/v1/documents/{document_id}").status_code == 401
    assert db.scalar(select(func.count()).select_from(Document)) == 1


def test_api_upload_limits_and_empty_requests(
    app: FastAPI, api: TestClient, db: Session, tenant: Tenant, collection: int
) -> None:
    headers = bearer(db, tenant.users["agent"])
    empty = api.post(f"/api/v1/collections/{collection}/documents", headers=headers, files=[])
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "upload_no_file"
    # An upload above the general API body limit but within the upload limit is accepted.
    big = b"Registre des deliberations.\n" * (app.state.settings.api_max_request_bytes // 20)
    accepted = send(api, headers, collection, [("registre.txt", big)])
    assert accepted.status_code == 200 and accepted.json()["queued"] == 1
    too_big = api.post(
        f"/api/v1/collections/{collection}/documents",
        headers={
            **headers,
            "Content-Length": str(app.state.settings.documents_max_upload_bytes + 1),
        },
        content=b"x",
    )
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "upload_too_big"
