"""The chat's masking preview and its corrections, through the web routes."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.chat.models import Message
from civique.governance.vault import VaultEntry
from civique.llm.models import OutputRecord
from tests.governance.outside import MODEL, Outside, install
from tests.helpers import Tenant

TEXT = "Merci de répondre à M. Hugo Baertschi, AVS 756.9217.0769.85, pour le dossier Hirondelle."


def _conversation(client: TestClient, csrf: str, model: str) -> int:
    response = client.post("/chat", data={"csrf_token": csrf, "model_id": model},
                           follow_redirects=False)
    return int(response.headers["location"].rsplit("/", 1)[1])


def _stream(client: TestClient, reply_id: int) -> dict[str, str]:
    with client.stream("GET", f"/chat/messages/{reply_id}/stream") as response:
        raw = "".join(response.iter_text())
    last = raw.strip().split("\n\n")[-1]
    lines = dict(line.split(": ", 1) for line in last.splitlines())
    assert lines["event"] == "done"
    data: dict[str, str] = json.loads(lines["data"])
    return data


def test_preview_then_send_with_corrections(
    app: FastAPI, db: Session, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, csrf = agent_client
    outside: Outside = install(app, db, tenant.org.id)
    conv = _conversation(client, csrf, MODEL)
    preview = client.post(
        f"/chat/{conv}/privacy",
        data={"text": TEXT, "model_id": MODEL},
        headers={"X-CSRF-Token": csrf},
    ).json()
    assert preview["applies"] is True and "pas autorisé" in preview["message"]
    found = {f["text"]: f for f in preview["findings"]}
    assert found["Hugo Baertschi"]["placeholder"] == "[PERSONNE_1]"
    assert found["756.9217.0769.85"]["placeholder"] == "[AVS_1]"
    assert db.scalars(select(VaultEntry)).all() == []  # a preview stores nothing
    # The agent keeps the AVS number in clear (say it is a test number) and masks "Hirondelle".
    posted = client.post(
        f"/chat/{conv}/messages",
        data={"csrf_token": csrf, "text": TEXT, "model_id": MODEL,
              "keep": ["756.9217.0769.85"], "extra": ["Hirondelle"]},
        headers={"accept": "application/json"},
    ).json()
    done = _stream(client, posted["reply_id"])
    sent = outside.sent()
    assert "Hugo Baertschi" not in sent and "Hirondelle" not in sent
    assert "756.9217.0769.85" in sent and "[DONNEE_1]" in sent
    assert "Hugo Baertschi" in done["html"]  # restored for the agent
    assert "[PERSONNE_1]" in done["privacy_html"] and "[DONNEE_1]" in done["privacy_html"]
    reply = db.get(Message, posted["reply_id"])
    assert reply is not None and reply.privacy is not None and reply.privacy["masked"] == 2
    question = db.get(Message, posted["question_id"])
    assert question is not None
    assert question.masking == {"keep": ["756.9217.0769.85"], "extra": ["Hirondelle"]}
    record = db.get(OutputRecord, reply.output_id)
    assert record is not None and record.vault_scope == f"conversation:{conv}"
    # The next turn keeps the corrections and the numbering.
    posted = client.post(
        f"/chat/{conv}/messages",
        data={"csrf_token": csrf, "text": "Et pour Hugo Baertschi, quel délai ?",
              "model_id": MODEL},
        headers={"accept": "application/json"},
    ).json()
    _stream(client, posted["reply_id"])
    sent = outside.sent()
    assert "Hirondelle" not in sent and sent.count("[PERSONNE_1]") >= 2
    # The page says what was masked under the reply.
    page = client.get(f"/chat/{conv}").text
    assert "privacy-note" in page
    # Deleting the conversation deletes its vault entries; the register keeps the pseudonyms.
    client.post(f"/chat/{conv}/delete", data={"csrf_token": csrf})
    assert db.scalars(select(VaultEntry)).all() == []
    db.expire_all()
    assert db.get(OutputRecord, record.id) is not None


def test_a_cleared_model_is_said_so_and_nothing_is_detected(
    agent_client: tuple[TestClient, str],
) -> None:
    client, csrf = agent_client
    conv = _conversation(client, csrf, "fake/echo")
    preview = client.post(
        f"/chat/{conv}/privacy",
        data={"text": TEXT, "model_id": "fake/echo"},
        headers={"X-CSRF-Token": csrf},
    ).json()
    assert preview == {
        "applies": False,
        "message": "Modèle de test (écho) est autorisé pour les données personnelles : "
        "rien ne sera masqué.",
        "findings": [],
        "text": TEXT,
    }
    page = client.get(f"/chat/{conv}").text
    assert 'data-cleared="yes"' in page


def test_bad_corrections_and_previews_are_refused(
    app: FastAPI, db: Session, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, csrf = agent_client
    install(app, db, tenant.org.id)
    conv = _conversation(client, csrf, MODEL)
    too_many = client.post(
        f"/chat/{conv}/messages",
        data={"csrf_token": csrf, "text": "Bonjour", "extra": [f"x{i}" for i in range(51)]},
        headers={"accept": "application/json"},
    )
    assert too_many.status_code == 400 and "50" in too_many.json()["error"]["message"]
    assert db.scalars(select(Message)).all() == []
    empty = client.post(f"/chat/{conv}/privacy", data={"text": " "},
                        headers={"X-CSRF-Token": csrf})
    assert empty.status_code == 400
    unknown = client.post(f"/chat/{conv}/privacy", data={"text": "a", "model_id": "nope/x"},
                          headers={"X-CSRF-Token": csrf})
    assert unknown.status_code == 400
    no_csrf = client.post(f"/chat/{conv}/privacy", data={"text": "a"})
    assert no_csrf.status_code in (400, 403)
