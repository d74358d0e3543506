"""Chat through the web routes: post, stream, stop, regenerate, rename, delete, bad input."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.chat.models import Message
from civique.llm.models import ModelCall, OutputRecord
from tests.helpers import Tenant


def _events(client: TestClient, reply_id: int) -> list[tuple[str, dict[str, object]]]:
    with client.stream("GET", f"/chat/messages/{reply_id}/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = "".join(response.iter_text())
    events = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def _new_conversation(client: TestClient, csrf: str) -> int:
    response = client.post("/chat", data={"csrf_token": csrf, "model_id": "fake/echo"},
                           follow_redirects=False)
    assert response.status_code == 303
    return int(response.headers["location"].rsplit("/", 1)[1])


def _ask(client: TestClient, csrf: str, conv: int, text: str) -> dict[str, object]:
    response = client.post(f"/chat/{conv}/messages", data={"csrf_token": csrf, "text": text},
                           headers={"accept": "application/json"})
    return {"status": response.status_code, **response.json()}


def test_message_streams_and_is_recorded(agent_client: tuple[TestClient, str], db: Session,
                                         tenant: Tenant) -> None:
    client, csrf = agent_client
    conv = _new_conversation(client, csrf)
    posted = _ask(client, csrf, conv, "Quels documents pour un acte de naissance ?")
    assert posted["status"] == 200
    events = _events(client, int(posted["reply_id"]))  # type: ignore[arg-type]
    kinds = [k for k, _ in events]
    assert kinds.count("delta") > 3 and kinds[-1] == "done"
    streamed = "".join(str(d["text"]) for k, d in events if k == "delta")
    assert "acte de naissance" in streamed
    assert "acte de naissance" in str(events[-1][1]["html"])
    reply = db.get(Message, posted["reply_id"])
    assert reply is not None and reply.status == "done" and reply.content == streamed
    call = db.scalars(select(ModelCall)).one()
    assert (call.user_id, call.org_id, call.tool, call.model_id) == (
        tenant.users["agent"].id, tenant.org.id, "chat", "fake/echo")
    assert call.tokens_out > 3 and call.status == "ok"
    record = db.get(OutputRecord, reply.output_id)
    assert record is not None and record.output == streamed
    assert record.prompt_template == "chat.free" and record.model_version == "fake-1"
    assert record.input[-1]["content"] == "Quels documents pour un acte de naissance ?"
    page = client.get(f"/chat/{conv}")
    assert "acte de naissance" in page.text
    # the stream of a finished reply replays it instead of generating again
    assert _events(client, int(posted["reply_id"]))[-1][0] == "done"  # type: ignore[arg-type]
    assert db.scalars(select(ModelCall)).all().__len__() == 1


def test_bad_messages_are_refused_and_nothing_is_stored(agent_client: tuple[TestClient, str],
                                                        db: Session) -> None:
    client, csrf = agent_client
    conv = _new_conversation(client, csrf)
    empty = _ask(client, csrf, conv, "   ")
    assert empty["status"] == 400 and "vide" in str(empty["error"])
    long = _ask(client, csrf, conv, "a" * 8001)
    assert long["status"] == 400 and "8001" in str(long["error"])
    control = _ask(client, csrf, conv, "bonjour\x00\x07")
    assert control["status"] == 400 and "contrôle" in str(control["error"])
    assert db.scalars(select(Message)).all() == []


def test_provider_failure_keeps_message_and_offers_retry(agent_client: tuple[TestClient, str],
                                                         db: Session) -> None:
    client, csrf = agent_client
    conv = _new_conversation(client, csrf)
    posted = _ask(client, csrf, conv, "Test [[fake:fail]]")
    events = _events(client, int(posted["reply_id"]))  # type: ignore[arg-type]
    assert events[-1][0] == "error"
    assert "ne répond pas" in str(events[-1][1]["message"])
    question = db.get(Message, posted["question_id"])
    assert question is not None and question.content == "Test [[fake:fail]]"
    reply = db.get(Message, posted["reply_id"])
    assert reply is not None and (reply.status, reply.error) == ("error", "unavailable")
    call = db.scalars(select(ModelCall)).one()
    assert (call.status, call.error) == ("error", "unavailable")
    # retry = regenerate the failed reply
    response = client.post(f"/chat/messages/{posted['reply_id']}/regenerate",
                           data={"csrf_token": csrf})
    assert response.status_code == 200
    db.expire_all()
    assert db.get(Message, posted["reply_id"]).status == "superseded"  # type: ignore[union-attr]


def test_regenerate_with_another_turn(agent_client: tuple[TestClient, str], db: Session) -> None:
    client, csrf = agent_client
    conv = _new_conversation(client, csrf)
    posted = _ask(client, csrf, conv, "Première question")
    first = _events(client, int(posted["reply_id"]))  # type: ignore[arg-type]
    response = client.post(f"/chat/messages/{posted['reply_id']}/regenerate",
                           data={"csrf_token": csrf})
    new_id = response.json()["reply_id"]
    second = _events(client, new_id)
    assert second[-1][0] == "done" and first[-1][1]["html"] == second[-1][1]["html"]
    visible = client.get(f"/chat/{conv}").text
    assert visible.count("Première question") >= 2  # question + echoed once (old reply hidden)
    assert f'id="m{posted["reply_id"]}"' not in visible


def test_stop_keeps_partial_answer(app, agent_client: tuple[TestClient, str], db: Session) -> None:  # type: ignore[no-untyped-def]
    client, csrf = agent_client
    conv = _new_conversation(client, csrf)
    posted = _ask(client, csrf, conv, "mot " * 300)
    reply_id = int(posted["reply_id"])  # type: ignore[arg-type]
    client.post(f"/chat/messages/{reply_id}/stop", data={"csrf_token": csrf})
    events = _events(client, reply_id)
    assert events[-1][0] == "done" and events[-1][1]["status"] == "stopped"
    assert db.get(Message, reply_id).status == "stopped"  # type: ignore[union-attr]


def test_rename_and_delete(agent_client: tuple[TestClient, str], db: Session) -> None:
    client, csrf = agent_client
    conv = _new_conversation(client, csrf)
    response = client.post(f"/chat/{conv}/rename", data={"csrf_token": csrf,
                                                         "title": "Urbanisme : permis"})
    assert response.status_code == 200 and "Urbanisme : permis" in response.text
    bad = client.post(f"/chat/{conv}/rename", data={"csrf_token": csrf, "title": ""})
    assert bad.status_code == 400 and "vide" in bad.text
    response = client.post(f"/chat/{conv}/delete", data={"csrf_token": csrf})
    assert response.status_code == 200
    assert client.get(f"/chat/{conv}").status_code == 404


def test_forms_without_csrf_are_refused(agent_client: tuple[TestClient, str]) -> None:
    client, _csrf = agent_client
    response = client.post("/chat", data={"model_id": "fake/echo"})
    assert response.status_code == 403 and "expiré" in response.text
    response = client.post("/chat", data={"model_id": "fake/echo", "csrf_token": "forged"})
    assert response.status_code == 403


def test_unknown_model_is_refused(agent_client: tuple[TestClient, str]) -> None:
    client, csrf = agent_client
    response = client.post("/chat", data={"csrf_token": csrf, "model_id": "nope/none"})
    assert response.status_code == 400 and "existe pas" in response.text


def test_title_is_plain_text_from_the_first_message() -> None:
    from civique.chat.service import _title_from

    assert _title_from("Rédige un **court** message :\n- point un\n- point deux", 120) == (
        "Rédige un court message : point un point deux")
    assert _title_from("## Objet : `permis` de construire", 120) == "Objet : permis de construire"
    long = _title_from("mot " * 40, 120)
    assert len(long) == 60 and long.endswith("…")
    assert _title_from("Article 12. Le maire - adjoint", 120) == "Article 12. Le maire - adjoint"
    assert _title_from("***", 120) == "***"  # nothing left: keep what was typed


def test_reply_left_streaming_by_a_dead_server_can_be_regenerated(
    agent_client: tuple[TestClient, str], db: Session
) -> None:
    client, csrf = agent_client
    conv = _new_conversation(client, csrf)
    posted = _ask(client, csrf, conv, "Question avant la panne")
    stuck = db.get(Message, posted["reply_id"])
    assert stuck is not None
    stuck.status, stuck.content = "streaming", "Début de répo"
    db.commit()
    page = client.get(f"/chat/{conv}").text
    assert "Début de répo" in page and "regenerate" in page
    response = client.post(f"/chat/messages/{stuck.id}/regenerate", data={"csrf_token": csrf})
    assert response.status_code == 200
    assert _events(client, response.json()["reply_id"])[-1][0] == "done"
