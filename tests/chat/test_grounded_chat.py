"""Grounded chat end to end with a scripted fake model: UI, API, history, records, ACL, viewer."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.service import create_api_token
from civique.chat import grounded, service
from civique.chat.models import Message
from civique.demo_documents import demo_files
from civique.documents import files, ingest
from civique.documents.models import CitationUse, Document, UnansweredQuestion
from civique.documents.service import create_collection
from civique.llm.models import ModelCall, OutputRecord
from civique.llm.providers import fake
from civique.llm.types import ChatMessage
from tests.chat.test_routes import _events
from tests.helpers import Tenant, login

QUESTION = "Combien coûte une concession de 30 ans au cimetière ?"
SECRET = "Zorglub-secret-7731"
_BLOCK = re.compile(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', re.S)


@dataclass
class Script:
    """The fake model's answers: records every prompt, answers with `reply(prompt)`."""

    prompts: list[list[ChatMessage]]
    reply: Callable[[str], str]


def quoting_reply(prompt: str) -> str:
    """Quote six words of source 1 under [1], and invent a quote under [2]."""
    blocks = dict(_BLOCK.findall(prompt))
    if not blocks:
        return "Pas de sources."
    words = " ".join(blocks["1"].split()[2:8])
    return f"D'après le règlement, « {words} » [1]. Le parking est « gratuit le dimanche » [2]."


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Iterator[Script]:
    """Replace the fake model's echo by a scripted answer, keeping every prompt."""
    recorded = Script([], quoting_reply)

    def scripted(messages: list[ChatMessage]) -> str:
        recorded.prompts.append(list(messages))
        return recorded.reply(messages[-1].content)

    monkeypatch.setattr(fake, "fake_reply", scripted)
    yield recorded


def _ingest(
    app: FastAPI,
    db: Session,
    user_id: int,
    tenant: Tenant,
    name: str,
    documents: list[tuple[str, bytes]],
) -> int:
    owner = next(u for u in tenant.users.values() if u.id == user_id)
    collection = create_collection(db, owner, name, "personal")
    ctx = app.state.jobs.ingest
    for filename, data in documents:
        outcome = files.add_file(db, ctx.store, ctx.settings, owner, collection.id, filename, data)
        assert outcome.status == "queued", outcome
    ingest.run_pending(ctx)
    return collection.id


@pytest.fixture
def cemetery(app: FastAPI, db: Session, tenant: Tenant) -> int:
    """The agent's personal collection holding the cemetery rules (a four-page PDF)."""
    pdf = [f for f in demo_files() if f[0] == "reglement-cimetiere.pdf"]
    return _ingest(app, db, tenant.users["agent"].id, tenant, "Cimetière", pdf)


@pytest.fixture
def secret_collection(app: FastAPI, db: Session, tenant: Tenant) -> int:
    """Another agent's personal collection about the same subject, with a secret word."""
    text = f"Concession de 30 ans au cimetière : tarif confidentiel {SECRET}.\n".encode()
    return _ingest(app, db, tenant.users["validator"].id, tenant, "Privée", [("secret.md", text)])


def _ask(client: TestClient, csrf: str, text: str, collections: list[int]) -> tuple[int, int]:
    response = client.post(
        "/chat", data={"csrf_token": csrf, "model_id": "fake/echo"}, follow_redirects=False
    )
    conv = int(response.headers["location"].rsplit("/", 1)[1])
    posted = client.post(
        f"/chat/{conv}/messages",
        data={"csrf_token": csrf, "text": text, "collections": collections},
        headers={"accept": "application/json"},
    )
    assert posted.status_code == 200, posted.text
    return conv, int(posted.json()["reply_id"])


def _answered(client: TestClient, csrf: str, collection: int) -> int:
    """Ask QUESTION from one collection and read the reply to its end; the reply's id."""
    _conv, reply_id = _ask(client, csrf, QUESTION, [collection])
    _events(client, reply_id)
    return reply_id


def test_grounded_reply_keeps_the_verified_citation_and_drops_the_invented_one(
    agent_client: tuple[TestClient, str], db: Session, cemetery: int, script: Script
) -> None:
    client, csrf = agent_client
    conv, reply_id = _ask(client, csrf, QUESTION, [cemetery])
    events = _events(client, reply_id)
    kind, done = events[-1]
    assert kind == "done"
    # The model saw the fixed system prompt and the sources as data, then the question.
    [prompt] = script.prompts
    assert prompt[0].content == grounded.SYSTEM_PROMPT
    assert prompt[-1].content.rstrip().endswith(f"Question : {QUESTION}")
    assert 1 <= prompt[-1].content.count("</source>") <= grounded.PASSAGES
    reply = db.get(Message, reply_id)
    assert reply is not None and reply.status == "done"
    [citation] = reply.citations or []
    assert citation["index"] == 1 and citation["verified"] is True
    document = db.get(Document, citation["document_id"])
    assert document is not None and document.filename == "reglement-cimetiere.pdf"
    assert citation["page"] in (1, 2, 3, 4)
    assert " ".join(citation["quote"].split()) in " ".join(prompt[-1].content.split())
    assert reply.grounding == {
        "collections": [cemetery],
        "flags": {"dropped": 1, "not_found": False, "uncited": False},
    }
    assert "[citation non vérifiée retirée]" in reply.content  # French is the default language
    assert "[2]" not in reply.content
    # The page shows it now (done event) and after a reload (history).
    html = str(done["citations_html"])
    for shown in (
        escape(document.title),
        escape(citation["source_url"]),
        "Citations non vérifiées retirées : 1.",
    ):
        assert shown in html, shown
    page = client.get(f"/chat/{conv}").text
    assert escape(citation["source_url"]) in page
    assert f'value="{cemetery}" aria-describedby="collections-help" checked' in page
    # Records: the grounded prompt template, and the citation counted once for its output.
    call = db.scalars(select(ModelCall).where(ModelCall.kind == "chat")).one()
    record = db.get(OutputRecord, reply.output_id)
    assert record is not None and record.call_id == call.id
    assert record.prompt_template == "chat.grounded"
    # The register keeps the passages the model was given: document, title, version, page.
    sources = record.sources or []
    assert 1 <= len(sources) == prompt[-1].content.count("</source>")
    assert sources[0]["n"] == 1 and sources[0]["version"] == 1
    assert citation["document_id"] in {s["document_id"] for s in sources}
    assert {s["title"] for s in sources} >= {document.title}
    uses = db.scalars(select(CitationUse)).all()
    assert [(u.document_id, u.chunk_id, u.output_id) for u in uses] == [
        (citation["document_id"], citation["chunk_id"], reply.output_id)
    ]


def test_viewer_opens_the_cited_page_with_the_quote_marked(
    agent_client: tuple[TestClient, str], db: Session, cemetery: int, script: Script
) -> None:
    client, csrf = agent_client
    reply = db.get(Message, _answered(client, csrf, cemetery))
    assert reply is not None
    [citation] = reply.citations or []
    page = client.get(citation["source_url"].split("#")[0])
    assert page.status_code == 200
    marked = re.search(r'<mark class="quote"[^>]*>(.*?)</mark>', page.text, re.S)
    assert marked and " ".join(marked.group(1).split()) == " ".join(
        str(escape(citation["quote"])).split()
    )
    assert f"Page {citation['page']}" in page.text
    assert f"page={citation['page']}" in page.text  # the printed page image
    image = client.get(f"/documents/{citation['document_id']}/page.png?page={citation['page']}")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert image.headers["cache-control"].startswith("private")
    # Plain page navigation.
    other = 2 if citation["page"] != 2 else 3
    nav = client.get(f"/documents/{citation['document_id']}/source?page={other}")
    assert nav.status_code == 200 and f"Page {other}" in nav.text and "<mark" not in nav.text


def test_unanswered_question_is_recorded_for_each_collection(
    agent_client: tuple[TestClient, str],
    db: Session,
    tenant: Tenant,
    app: FastAPI,
    cemetery: int,
    script: Script,
) -> None:
    client, csrf = agent_client
    script.reply = lambda prompt: "Les documents ne contiennent pas la réponse."
    empty = create_collection(db, tenant.users["agent"], "Vide", "personal").id
    question = "À quelle heure ouvre la piscine municipale le dimanche ?"
    conv, reply_id = _ask(client, csrf, question, [cemetery, empty])
    kind, done = _events(client, reply_id)[-1]
    assert kind == "done" and "not-found" in str(done["citations_html"])
    rows = db.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.collection_id)).all()
    assert [(r.collection_id, r.question, r.user_id) for r in rows] == [
        (cemetery, question, tenant.users["agent"].id),
        (empty, question, tenant.users["agent"].id),
    ]
    assert "not-found" in client.get(f"/chat/{conv}").text
    # An empty collection alone: nothing retrieved, no model call, still recorded.
    calls = len(script.prompts)
    _conv, reply_id = _ask(client, csrf, "Une question ?", [empty])
    kind, done = _events(client, reply_id)[-1]
    assert kind == "done" and len(script.prompts) == calls
    assert grounded.NOT_FOUND in str(done["html"])
    assert (
        db.scalar(select(UnansweredQuestion).where(UnansweredQuestion.question == "Une question ?"))
        is not None
    )


def test_unreadable_collection_never_reaches_the_prompt(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    db: Session,
    tenant: Tenant,
    cemetery: int,
    secret_collection: int,
    script: Script,
) -> None:
    client, csrf = agent_client
    response = client.post(
        "/chat", data={"csrf_token": csrf, "model_id": "fake/echo"}, follow_redirects=False
    )
    conv = int(response.headers["location"].rsplit("/", 1)[1])
    refused = client.post(
        f"/chat/{conv}/messages",
        data={"csrf_token": csrf, "text": QUESTION, "collections": [cemetery, secret_collection]},
        headers={"accept": "application/json"},
    )
    assert refused.status_code == 404
    page = client.get(f"/chat/{conv}").text
    assert "Privée" not in page and f'value="{secret_collection}"' not in page
    _answered(client, csrf, cemetery)
    token = create_api_token(db, tenant.users["agent"], "t")[1]
    api = TestClient(app)
    body = {"model": "fake/echo", "messages": [{"role": "user", "content": QUESTION}]}
    headers = {"authorization": f"Bearer {token}"}
    denied = api.post(
        "/api/v1/chat/completions",
        headers=headers,
        json={**body, "collections": [secret_collection]},
    )
    assert denied.status_code == 404
    allowed = api.post(
        "/api/v1/chat/completions", headers=headers, json={**body, "collections": [cemetery]}
    )
    assert allowed.status_code == 200
    assert len(script.prompts) == 2
    assert all(SECRET not in m.content for prompt in script.prompts for m in prompt)
    # The owner of the secret collection does get it: the word is really searchable.
    owner = TestClient(app)
    owner_csrf = login(owner, tenant.users["validator"].email)
    _answered(owner, owner_csrf, secret_collection)
    assert SECRET in script.prompts[-1][-1].content


def test_regenerate_answers_from_the_same_collections(
    agent_client: tuple[TestClient, str], db: Session, cemetery: int, script: Script
) -> None:
    client, csrf = agent_client
    reply_id = _answered(client, csrf, cemetery)
    again = client.post(f"/chat/messages/{reply_id}/regenerate", data={"csrf_token": csrf})
    new_id = int(again.json()["reply_id"])
    _events(client, new_id)
    reply = db.get(Message, new_id)
    assert reply is not None and reply.citations and reply.grounding
    assert reply.grounding["collections"] == [cemetery]


def test_api_answer_carries_checked_citations(
    app: FastAPI, db: Session, tenant: Tenant, cemetery: int, script: Script
) -> None:
    token = create_api_token(db, tenant.users["agent"], "t")[1]
    api = TestClient(app)
    headers = {"authorization": f"Bearer {token}"}
    body = {
        "model": "fake/echo",
        "collections": [cemetery],
        "messages": [
            {"role": "system", "content": "Réponds en anglais."},
            {"role": "user", "content": QUESTION},
        ],
    }
    response = api.post("/api/v1/chat/completions", headers=headers, json=body)
    assert response.status_code == 200
    data = response.json()
    [citation] = data["citations"]
    assert set(citation) == {
        "index",
        "document_id",
        "title",
        "page",
        "label",
        "quote",
        "source_url",
        "verified",
    }
    assert citation["index"] == 1 and citation["verified"] is True
    assert citation["source_url"].startswith("http://testserver/documents/")
    assert data["grounding"] == {"dropped": 1, "not_found": False, "uncited": False}
    content = data["choices"][0]["message"]["content"]
    assert "[1]" in content and "[2]" not in content
    # The client's own system prompt is not used: the fixed grounded one is.
    assert script.prompts[-1][0].content == grounded.SYSTEM_PROMPT
    # Streaming: the citations come in the last chunk, before [DONE].
    with api.stream(
        "POST", "/api/v1/chat/completions", headers=headers, json={**body, "stream": True}
    ) as streamed:
        lines = [line for line in streamed.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    last = json.loads(lines[-2][6:])
    assert last["choices"][0]["finish_reason"] == "stop"
    assert [c["quote"] for c in last["citations"]] == [citation["quote"]]
    uses = db.scalars(select(CitationUse)).all()
    assert len(uses) == 2 and all(u.output_id for u in uses)
    record = db.get(OutputRecord, uses[0].output_id)
    assert record is not None and record.sources
    assert citation["document_id"] in {s["document_id"] for s in record.sources}


def test_interrupted_grounded_reply_is_checked_too(
    app: FastAPI, db: Session, tenant: Tenant, cemetery: int, script: Script
) -> None:
    agent = tenant.users["agent"]
    conv = service.create_conversation(db, agent, "fake/echo")
    _q, reply = service.post_message(
        db, app.state.settings, agent, conv, QUESTION, "fake/echo", [cemetery]
    )

    async def read_until_first_marker() -> str:
        streamer: service.ChatStreamer = app.state.chat_streamer
        events = streamer.stream(agent, reply.id, "Org")
        seen = ""
        async for event in events:
            seen += event.text
            if "[1]" in seen:
                break
        await events.aclose()  # the browser went away
        return seen

    seen = asyncio.run(read_until_first_marker())
    assert "[2]" not in seen
    db.expire_all()
    saved = db.get(Message, reply.id)
    assert saved is not None and saved.status == "stopped"
    assert [c["verified"] for c in saved.citations or []] == [True]
    assert saved.grounding and saved.grounding["flags"]["dropped"] == 0


def test_viewer_says_when_the_cited_version_was_replaced_or_deleted(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    db: Session,
    tenant: Tenant,
    cemetery: int,
    script: Script,
) -> None:
    client, csrf = agent_client
    reply = db.get(Message, _answered(client, csrf, cemetery))
    assert reply is not None
    [citation] = reply.citations or []
    url = citation["source_url"].split("#")[0]
    gone = client.get(f"/documents/{citation['document_id']}/source?chunk=999999")
    assert gone.status_code == 200 and "Le passage cité ne figure plus" in gone.text
    ctx = app.state.jobs.ingest
    other = dict(demo_files())["reglement-salle-polyvalente.pdf"]
    outcome = files.add_file(
        db,
        ctx.store,
        ctx.settings,
        tenant.users["agent"],
        cemetery,
        "reglement-cimetiere.pdf",
        other,
    )
    assert outcome.version == 2
    ingest.run_pending(ctx)
    replaced = client.get(url)
    assert replaced.status_code == 200
    assert "Cette version a été remplacée" in replaced.text and "<mark" not in replaced.text
    assert f"version={outcome.version_id}" in replaced.text  # link to the current version
    files.delete_document(db, ctx.store, tenant.users["agent"], citation["document_id"])
    assert client.get(url).status_code == 404


def test_a_short_follow_up_is_searched_and_asked_with_the_question_before(
    agent_client: tuple[TestClient, str], cemetery: int, script: Script
) -> None:
    client, csrf = agent_client
    conv, reply_id = _ask(client, csrf, QUESTION, [cemetery])
    _events(client, reply_id)
    posted = client.post(
        f"/chat/{conv}/messages",
        data={"csrf_token": csrf, "text": "Et pour 50 ans ?", "collections": [cemetery]},
        headers={"accept": "application/json"},
    ).json()
    _events(client, int(posted["reply_id"]))
    last = script.prompts[-1][-1].content
    assert f"Question précédente : {QUESTION}\nQuestion : Et pour 50 ans ?" in last
    assert "50 ans" in last.split("Question précédente")[0]  # the passages of the follow-up
    # A long question stands on its own.
    long = "Quels sont les horaires d'ouverture du cimetière communal pendant l'été et l'hiver ?"
    posted = client.post(
        f"/chat/{conv}/messages",
        data={"csrf_token": csrf, "text": long, "collections": [cemetery]},
        headers={"accept": "application/json"},
    ).json()
    _events(client, int(posted["reply_id"]))
    assert "Question précédente" not in script.prompts[-1][-1].content


def test_follow_up_rules() -> None:
    user, bot = ChatMessage("user", QUESTION), ChatMessage("assistant", "Réponse.")
    assert grounded.follow_up([user]) == (QUESTION, "")
    assert grounded.follow_up([user, bot, ChatMessage("user", "Et 50 ans ?")]) == (
        "Et 50 ans ?", QUESTION
    )
    assert grounded.search_text("Et 50 ans ?", QUESTION) == f"{QUESTION}\nEt 50 ans ?"
    # Short, but on a new subject: it stands alone.
    new = ChatMessage("user", "Quand ouvre la piscine municipale le dimanche ?")
    assert grounded.follow_up([user, bot, new]) == (new.content, "")
    assert grounded.follow_up([user, bot, ChatMessage("user", "Combien pour 50 ans ?")])[1]
    assert grounded.follow_up([user, bot, ChatMessage("user", "Elle coûte combien ?")])[1]
