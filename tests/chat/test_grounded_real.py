"""Grounded answers with the real embedded models (e5 retrieval, Qwen answer): slow."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civique.chat.models import Message
from civique.demo_documents import demo_files, demo_questions
from civique.documents import files, ingest
from civique.documents.models import Document, UnansweredQuestion
from civique.documents.service import create_collection
from civique.llm.providers.embedded import EMBED_MODEL_ID
from civique.settings import Settings
from tests.chat.test_grounded_chat import _events
from tests.helpers import embedded_settings, login, make_tenant

pytestmark = pytest.mark.slow
CHAT_MODEL = "embedded/qwen2.5-1.5b-instruct"
# Questions whose answer holds a figure the model repeats (on the demo set, the 1.5B model gets
# a verified citation at the right place for only part of the questions: docs/documents.md).
ANSWERED = [
    "Combien coûte une concession de 30 ans au cimetière ?",
    "Combien coûte la location de la salle des Tilleuls pour un week-end quand on habite la "
    "commune ?",
    "Quand faut-il inscrire son enfant à l'école pour la rentrée 2027 ?",
]
OUT_OF_SCOPE = "À quelle heure ouvre la piscine municipale le dimanche ?"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, embedded_model_file: Path) -> Settings:
    """The real embedded chat model, and e5 as the index's embedding model."""
    return embedded_settings(
        database_url,
        tmp_path,
        embedded_model_file,
        160,
        embedded_embeddings_enabled=True,
        documents_embedding_model=EMBED_MODEL_ID,
    )



def test_demo_questions_get_verified_citations_or_not_found(app: FastAPI, db: Session) -> None:
    tenant = make_tenant(db, "reel", [CHAT_MODEL, EMBED_MODEL_ID])
    agent = tenant.users["agent"]
    collection = create_collection(db, agent, "Commune d'Exemple", "personal")
    ctx = app.state.jobs.ingest
    for name, data in demo_files():
        files.add_file(db, ctx.store, ctx.settings, agent, collection.id, name, data)
    ingest.run_pending(ctx)
    expected = {q["question"]: q for q in demo_questions()}
    right: list[str] = []
    with TestClient(app) as client:
        csrf = login(client, agent.email)
        conv = (
            client.post(
                "/chat", data={"csrf_token": csrf, "model_id": CHAT_MODEL}, follow_redirects=False
            )
            .headers["location"]
            .rsplit("/", 1)[1]
        )
        for question in [*ANSWERED, OUT_OF_SCOPE]:
            posted = client.post(
                f"/chat/{conv}/messages",
                data={"csrf_token": csrf, "text": question, "collections": [collection.id]},
                headers={"accept": "application/json"},
            )
            reply_id = posted.json()["reply_id"]
            assert _events(client, reply_id)[-1][0] == "done"
            reply = db.get(Message, reply_id)
            db.refresh(reply)
            assert reply is not None
            flags = (reply.grounding or {}).get("flags", {})
            print(f"\n{question}\n→ {reply.content}\n  {reply.citations}\n  {flags}")
            if question == OUT_OF_SCOPE:
                assert flags.get("not_found"), reply.content
                continue
            want = expected[question]
            verified = [c for c in reply.citations or [] if c["verified"]]
            places = {
                (db.get(Document, c["document_id"]).filename, c["page"])  # type: ignore[union-attr]
                for c in verified
            }
            if (want["document"], want["page"]) in places:
                right.append(question)
    # The 1.5B model may still say "not found" for one of them (on PostgreSQL the keyword ranking
    # differs, so do the passages): two of three must be cited, verified, at the right place.
    assert len(right) >= 2, right
    assert db.query(UnansweredQuestion).filter_by(question=OUT_OF_SCOPE).count() == 1
