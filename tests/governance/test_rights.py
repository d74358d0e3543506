"""A user's rights: the ZIP of their data (page and API) and deleting their conversations."""

from __future__ import annotations

import io
import json
import zipfile

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.auth.service import create_api_token
from civique.chat.models import Conversation
from civique.documents import files, service
from civique.governance.vault import VaultEntry
from tests.governance.outside import MODEL, chat_once, install
from tests.helpers import Tenant, login


def _zip(data: bytes) -> dict[str, object]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: archive.read(name) if name.startswith("files/")
            else json.loads(archive.read(name)) if name.endswith(".json")
            else archive.read(name).decode()
            for name in archive.namelist()
        }


def test_the_zip_holds_the_users_data_and_nobody_elses(
    app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    install(app, db, tenant.org.id)
    with TestClient(app) as client:
        csrf = login(client, tenant.users["agent"].email)
        chat_once(client, csrf, "fake/echo", "Horaires de la déchetterie ?")
        chat_once(client, csrf, MODEL, "Répondre à Mme Nadia Berset, AVS 756.9217.0769.85.")
        agent = tenant.users["agent"]
        collection = service.create_collection(db, agent, "Mes notes", "personal")
        ctx = app.state.jobs.ingest
        files.add_file(db, ctx.store, ctx.settings, agent, collection.id, "note.txt",
                       b"Note de service sur les horaires.")
        create_api_token(db, agent, "outil interne")
        with TestClient(app) as other:
            other_csrf = login(other, other_tenant.users["agent"].email)
            chat_once(other, other_csrf, "fake/echo", "Question de la commune B")
        response = client.post("/account/data/export", data={"csrf_token": csrf})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    found = _zip(response.content)
    assert found["account.json"]["email"] == agent.email  # type: ignore[index]
    conversations = found["conversations.json"]
    assert len(conversations) == 2  # type: ignore[arg-type]
    texts = json.dumps(conversations, ensure_ascii=False)
    assert "déchetterie" in texts and "Nadia Berset" in texts and "commune B" not in texts
    outputs = found["outputs.json"]
    assert len(outputs) == 2  # type: ignore[arg-type]
    sent = json.dumps(outputs, ensure_ascii=False)
    assert "[PERSONNE_1]" in sent and "Nadia Berset" not in sent  # as the model saw it
    assert found["documents.json"][0]["filename"] == "note.txt"  # type: ignore[index]
    file_name = found["documents.json"][0]["file"]  # type: ignore[index]
    assert found[file_name] == b"Note de service sur les horaires."  # type: ignore[index]
    tokens = found["api_tokens.json"]
    assert tokens[0]["name"] == "outil interne" and "token_hash" not in tokens[0]  # type: ignore[index]
    assert any(a["action"] == "auth.login" for a in found["activity.json"])  # type: ignore[union-attr,index]
    assert "LISEZ-MOI.txt" in found


def test_files_beyond_the_limit_are_listed_not_included(
    app: FastAPI, db: Session, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, csrf = agent_client
    agent = tenant.users["agent"]
    collection = service.create_collection(db, agent, "Gros", "personal")
    ctx = app.state.jobs.ingest
    files.add_file(db, ctx.store, ctx.settings, agent, collection.id, "gros.txt", b"x" * 5000)
    app.state.settings.rights_export_max_file_bytes = 1000
    found = _zip(client.post("/account/data/export", data={"csrf_token": csrf}).content)
    assert found["documents.json"][0]["file"] is None  # type: ignore[index]
    assert not [n for n in found if n.startswith("files/")]


def test_the_api_export_needs_a_token(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    _, clear = create_api_token(db, tenant.users["agent"], "export")
    with TestClient(app) as client:
        assert client.get("/api/v1/me/export").status_code == 401
        response = client.get("/api/v1/me/export", headers={"Authorization": f"Bearer {clear}"})
    assert response.status_code == 200
    assert _zip(response.content)["account.json"]["email"] == tenant.users["agent"].email  # type: ignore[index]


def test_deleting_all_conversations_keeps_the_register(
    app: FastAPI, db: Session, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, csrf = agent_client
    install(app, db, tenant.org.id)
    chat_once(client, csrf, MODEL, "Dossier de M. Kilian Rappaz.")
    chat_once(client, csrf, "fake/echo", "Autre question")
    assert db.scalars(select(VaultEntry)).all()
    page = client.get("/account/data")
    assert "2 conversations" in page.text
    assert client.post("/account/conversations/delete", data={}).status_code in (400, 403)
    done = client.post("/account/conversations/delete", data={"csrf_token": csrf})
    assert "2 conversations supprimées" in done.text
    assert db.scalar(select(func.count()).select_from(Conversation)) == 0
    assert db.scalars(select(VaultEntry)).all() == []
    outputs = _zip(client.post("/account/data/export", data={"csrf_token": csrf}).content)
    assert len(outputs["outputs.json"]) == 2  # type: ignore[arg-type]
