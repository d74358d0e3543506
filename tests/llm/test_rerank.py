"""Reranking: the OpenAI-compatible provider against a fake /rerank server, the gateway's record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.app import create_app
from civique.llm.gateway import CallContext, GatewayError
from civique.llm.models import ModelCall
from civique.llm.providers.embedded import EmbeddedProvider
from civique.llm.types import ProviderError
from civique.settings import ProviderConfig, Settings
from tests.helpers import Tenant, make_tenant
from tests.live import closed_port, serve_in_thread

QUERY = "horaires de la piscine"
DOCUMENTS = [
    "La piscine ouvre à 9 h.",
    "Le conseil municipal se réunit le lundi soir à la mairie.",
    "Horaires.",
    "Une médiathèque prête livres, disques et jeux.",
]
# The fake server scores by length, so the expected scores are known without trusting its order.
EXPECTED = [float(len(text)) for text in DOCUMENTS]
BAD_MODELS = ["missing", "twice", "outside", "word", "nan", "html", "broken", "flag"]


@dataclass
class Server:
    """What the fake rerank server received."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)


def _scored(texts: list[str], key: str) -> list[dict[str, Any]]:
    rows = [{"index": i, key: float(len(text))} for i, text in enumerate(texts)]
    return sorted(rows, key=lambda row: -row[key])  # servers answer best first, not in order


def _bad(model: str, rows: list[dict[str, Any]]) -> Response | None:
    if model == "broken":
        return JSONResponse({"error": "no"}, 500)
    if model == "html":
        return PlainTextResponse("<html>proxy error page</html>")
    if model == "nan":  # not JSON strictly speaking, yet Python's parser accepts it
        nan = [*rows[:-1], {**rows[-1], "relevance_score": float("nan")}]
        return Response(json.dumps({"results": nan}), media_type="application/json")
    changed = {
        "missing": rows[:-1],
        "twice": [*rows[:-1], {**rows[0]}],
        "outside": [*rows[:-1], {**rows[-1], "index": len(rows)}],
        "word": [*rows[:-1], {**rows[-1], "relevance_score": "high"}],
        "flag": [*rows[:-1], {**rows[-1], "index": True}],
    }.get(model)
    return JSONResponse({"results": changed}) if changed is not None else None


def make_server(state: Server) -> FastAPI:
    """vLLM/Jina-like /v1/rerank (`results`, `relevance_score`) and TEI-like /rerank (bare list)."""
    server = FastAPI()

    @server.post("/v1/rerank")
    async def openai_like(request: Request) -> Response:
        body = await request.json()
        state.requests.append({"path": "v1/rerank", "body": body})
        rows = _scored(body["documents"], "relevance_score")
        bad = _bad(body["model"], rows)
        if bad is not None:
            return bad
        for row in rows:
            row["document"] = {"text": body["documents"][row["index"]]}
        return JSONResponse({"id": "rerank-1", "model": body["model"], "results": rows})

    @server.post("/rerank")
    async def tei_like(request: Request) -> Response:
        body = await request.json()
        state.requests.append({"path": "rerank", "body": body})
        return JSONResponse(_scored(body["texts"], "score"))

    return server


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The fake rerank server, served once for the module."""
    state = Server()
    with serve_in_thread(make_server(state)) as url:
        state.url = url
        yield state


@pytest.fixture
def rerank_app(settings: Settings, server: Server) -> Iterator[FastAPI]:
    """Civique with a vLLM-like and a TEI-like reranking server configured."""
    server.requests.clear()
    providers = [
        ProviderConfig(
            name="vllm", base_url=f"{server.url}/v1", rerank_models=["bge", *BAD_MODELS],
            chat_models=["chat"],
        ),
        ProviderConfig(name="tei", base_url=server.url, rerank_models=["bge"]),
        ProviderConfig(
            name="public", base_url=server.url, rerank_models=["bge"],
            classification_ceiling="public",
        ),
        ProviderConfig(name="closed", base_url=f"http://127.0.0.1:{closed_port()}",
                       rerank_models=["bge"]),
    ]
    application = create_app(settings.model_copy(update={"providers": providers}))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def org(rerank_app: FastAPI) -> Iterator[tuple[Tenant, Session]]:
    """An organisation that enabled none of the reranking models, and a database session."""
    with rerank_app.state.sessions() as session:
        yield make_tenant(session, "delta", ["fake/echo"]), session


def _ctx(tenant: Tenant, classification: str = "internal") -> CallContext:
    agent = tenant.users["agent"]
    return CallContext(org_id=tenant.org.id, user_id=agent.id, role=agent.role,
                       tool="documents.search", classification=classification)


def _calls(session: Session) -> list[ModelCall]:
    session.rollback()
    return list(session.scalars(select(ModelCall).order_by(ModelCall.id)))


async def test_scores_come_back_in_the_documents_order(
    rerank_app: FastAPI, org: tuple[Tenant, Session], server: Server
) -> None:
    tenant, session = org
    scores = await rerank_app.state.gateway.rerank(_ctx(tenant), "vllm/bge", QUERY, DOCUMENTS)
    assert scores == EXPECTED
    assert server.requests == [{
        "path": "v1/rerank",
        "body": {"model": "bge", "query": QUERY, "documents": DOCUMENTS, "texts": DOCUMENTS,
                 "top_n": len(DOCUMENTS)},
    }]
    [call] = _calls(session)
    assert (call.kind, call.model_id, call.status, call.tool) == (
        "rerank", "vllm/bge", "ok", "documents.search"
    )
    assert call.tokens_in > 0 and call.user_id == tenant.users["agent"].id


async def test_the_tei_answer_a_bare_list_is_read_too(
    rerank_app: FastAPI, org: tuple[Tenant, Session], server: Server
) -> None:
    tenant, _ = org
    scores = await rerank_app.state.gateway.rerank(_ctx(tenant), "tei/bge", QUERY, DOCUMENTS)
    assert scores == EXPECTED
    assert [r["path"] for r in server.requests] == ["rerank"]


@pytest.mark.parametrize("model", BAD_MODELS)
async def test_an_answer_that_does_not_score_each_document_once_is_refused(
    rerank_app: FastAPI, org: tuple[Tenant, Session], model: str
) -> None:
    tenant, session = org
    with pytest.raises(GatewayError) as caught:
        await rerank_app.state.gateway.rerank(_ctx(tenant), f"vllm/{model}", QUERY, DOCUMENTS)
    assert caught.value.code == "upstream"
    [call] = _calls(session)
    assert (call.kind, call.status, call.error) == ("rerank", "error", "upstream")


async def test_a_server_that_is_down_is_unavailable(
    rerank_app: FastAPI, org: tuple[Tenant, Session]
) -> None:
    tenant, session = org
    with pytest.raises(GatewayError) as caught:
        await rerank_app.state.gateway.rerank(_ctx(tenant), "closed/bge", QUERY, DOCUMENTS)
    assert caught.value.code == "unavailable"
    [call] = _calls(session)
    assert (call.kind, call.model_id, call.status, call.error) == (
        "rerank", "closed/bge", "error", "unavailable"
    )


async def test_the_platform_reranker_skips_the_org_list_but_not_the_checks(
    rerank_app: FastAPI, org: tuple[Tenant, Session], server: Server
) -> None:
    tenant, session = org
    gateway = rerank_app.state.gateway
    cases = [
        ({"model_id": "vllm/bge", "platform": False}, "internal", "model_not_allowed"),
        ({"model_id": "vllm/chat"}, "internal", "wrong_kind"),
        ({"model_id": "nowhere/bge"}, "internal", "unknown_model"),
        ({"model_id": "public/bge"}, "internal", "classification"),
        ({"model_id": "vllm/bge"}, "personal", "classification"),
    ]
    for kwargs, level, code in cases:
        with pytest.raises(GatewayError) as caught:
            await gateway.rerank(_ctx(tenant, level), query=QUERY, documents=DOCUMENTS, **kwargs)
        assert caught.value.code == code, kwargs
    assert server.requests == [] and _calls(session) == []  # refused before leaving
    assert await gateway.rerank(_ctx(tenant, "public"), "public/bge", QUERY, DOCUMENTS) == EXPECTED


async def test_nothing_to_rerank_calls_no_server(
    rerank_app: FastAPI, org: tuple[Tenant, Session], server: Server
) -> None:
    tenant, _ = org
    assert await rerank_app.state.gateway.rerank(_ctx(tenant), "vllm/bge", QUERY, []) == []
    assert server.requests == []


async def test_the_fake_reranker_scores_the_share_of_query_words(
    app: FastAPI, tenant: Tenant, db: Session
) -> None:
    scores = await app.state.gateway.rerank(_ctx(tenant), "fake/rerank", QUERY, DOCUMENTS)
    assert scores == [0.5, 0.25, 0.25, 0.0]  # piscine+la, la, horaires, none (of 4 words)
    [call] = _calls(db)
    assert (call.kind, call.model_id, call.status) == ("rerank", "fake/rerank", "ok")


async def test_the_embedded_provider_has_no_reranker(settings: Settings) -> None:
    with pytest.raises(ProviderError) as caught:
        await EmbeddedProvider(settings).rerank("any", QUERY, DOCUMENTS)
    assert caught.value.code == "bad_request"


def test_rerank_models_are_listed_with_their_kind(rerank_app: FastAPI) -> None:
    kinds = {m.id: m.kind for m in rerank_app.state.gateway.registry.models()}
    assert kinds["vllm/bge"] == kinds["tei/bge"] == kinds["fake/rerank"] == "rerank"
    assert kinds["vllm/chat"] == "chat"
    assert sum(kind == "rerank" for kind in kinds.values()) == 5 + len(BAD_MODELS)  # fake too
