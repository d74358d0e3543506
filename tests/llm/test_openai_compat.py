"""The OpenAI-compatible provider, through the gateway, against a fake upstream on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.app import create_app
from civique.auth.service import create_api_token
from civique.llm.gateway import CallContext, Completed, GatewayError
from civique.llm.models import ModelCall, OutputRecord
from civique.llm.types import ChatMessage, ChatParams, Delta
from civique.settings import ProviderConfig, Settings
from tests.helpers import Tenant, make_tenant
from tests.live import closed_port, serve_in_thread

KEY_ENV = "CIVIQUE_TEST_UPSTREAM_KEY"
SECRET = "sk-upstream-7f3a9c1e5b2d4f60"
WORDS = ["Bonjour,", " voici", " la", " réponse", " du", " serveur."]
REPLY = "".join(WORDS)
SLOW_SECONDS = 2.5
MODELS = [
    "upstream/echo", "upstream/gated", "upstream/broken", "upstream/limited", "upstream/refuses",
    "upstream/garbage", "upstream/embed", "upstream/broken-embed", "upstream/garbage-embed",
    "upstream/short-embed", "upstream/limited-embed", "upstream/whisper",
    "hasty/slow", "hasty/stall", "hasty/embed-slow", "closed/echo", "closed/embed",
    "closed/whisper",
]


@dataclass
class Upstream:
    """What the fake upstream received, and a gate the test opens mid-stream."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    chunks_sent: int = 0
    release: threading.Event = field(default_factory=threading.Event)

    def reset(self) -> None:
        """Forget earlier requests and close the gate."""
        self.requests.clear()
        self.chunks_sent = 0
        self.release.clear()


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _chunk(text: str | None = None, finish: str | None = None) -> str:
    delta = {"content": text} if text is not None else {}
    return _sse({"object": "chat.completion.chunk",
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


async def _answer(state: Upstream, model: str) -> AsyncIterator[str]:
    yield ": keep-alive comment, to be ignored\n\n"
    for index, word in enumerate(WORDS):
        state.chunks_sent += 1  # counted before it leaves: the client may see it at once
        yield _chunk(word)
        if index == 0 and model == "gated":  # hold the rest until the test saw the first piece
            deadline = time.monotonic() + 30  # generous: CI machines can be busy
            while not state.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        if index == 1 and model == "stall":
            await asyncio.sleep(SLOW_SECONDS)
    yield _chunk(finish="stop")
    yield _sse({"object": "chat.completion.chunk", "choices": [],
                "usage": {"prompt_tokens": 17, "completion_tokens": len(WORDS)}})
    yield "data: [DONE]\n\n"


def _failure(model: str) -> Response | None:
    status = {"broken": 500, "broken-embed": 500, "limited": 429, "limited-embed": 429,
              "refuses": 400}.get(model)
    if status:
        return JSONResponse({"error": {"message": "no", "type": "server_error"}}, status)
    if model in ("garbage", "garbage-embed"):
        return PlainTextResponse("<html>proxy error page</html>")
    return None


def make_upstream(state: Upstream) -> FastAPI:
    """A small OpenAI-compatible server: chat (SSE), embeddings, transcriptions, models."""
    upstream = FastAPI()

    def note(request: Request, path: str, body: Any) -> None:
        state.requests.append(
            {"path": path, "authorization": request.headers.get("authorization"), "body": body}
        )

    @upstream.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        note(request, "models", None)
        return {"object": "list", "data": [{"id": "echo", "object": "model"}]}

    @upstream.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        note(request, "chat", body)
        model = body["model"]
        if model == "slow":
            await asyncio.sleep(SLOW_SECONDS)
        failure = _failure(model)
        if failure is not None:
            return failure
        return StreamingResponse(_answer(state, model), media_type="text/event-stream")

    @upstream.post("/v1/embeddings")
    async def embeddings(request: Request) -> Response:
        body = await request.json()
        note(request, "embeddings", body)
        if body["model"] == "embed-slow":
            await asyncio.sleep(SLOW_SECONDS)
        failure = _failure(body["model"])
        if failure is not None:
            return failure
        rows = [
            {"object": "embedding", "index": i, "embedding": [float(len(text)), float(i), 0.5]}
            for i, text in enumerate(body["input"])
        ]
        if body["model"] == "short-embed":
            rows = rows[:-1]
        # Servers may answer out of order; the index is what counts.
        return JSONResponse({"object": "list", "data": rows[::-1],
                             "usage": {"prompt_tokens": 3 * len(rows)}})

    @upstream.post("/v1/audio/transcriptions")
    async def transcriptions(request: Request) -> Response:
        form = await request.form()
        upload = form["file"]
        assert not isinstance(upload, str)
        audio = await upload.read()
        note(request, "transcriptions", {"model": form.get("model"),
                                         "language": form.get("language"),
                                         "filename": upload.filename, "audio": audio})
        failure = _failure(str(form.get("model")))
        return failure or JSONResponse({"text": "Le conseil municipal est ouvert."})

    return upstream


@pytest.fixture(scope="module")
def upstream_server() -> Iterator[Upstream]:
    """The fake upstream, served once for the module."""
    state = Upstream()
    with serve_in_thread(make_upstream(state)) as url:
        state.url = url
        yield state


@pytest.fixture
def upstream(upstream_server: Upstream) -> Upstream:
    """The fake upstream with an empty request log."""
    upstream_server.reset()
    return upstream_server


@pytest.fixture
def provider_settings(settings: Settings, upstream: Upstream) -> Settings:
    """Test settings with three servers: the upstream, the same with a short timeout, a dead one."""
    base = f"{upstream.url}/v1"
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    providers = [
        ProviderConfig(
            name="upstream", base_url=base, api_key_env=KEY_ENV,
            chat_models=["echo", "gated", "broken", "limited", "refuses", "garbage"],
            embedding_models=["embed", "broken-embed", "garbage-embed", "short-embed",
                              "limited-embed"],
            audio_models=["whisper"],
            classification_ceiling="internal", timeout_seconds=20,
        ),
        ProviderConfig(name="hasty", base_url=base, chat_models=["slow", "stall"],
                       embedding_models=["embed-slow"], timeout_seconds=1.0),
        ProviderConfig(name="closed", base_url=dead, chat_models=["echo"],
                       embedding_models=["embed"], audio_models=["whisper"]),
    ]
    return settings.model_copy(update={"providers": providers})


@pytest.fixture
def compat_app(provider_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """Civique with the upstream servers configured, and the upstream key in the environment."""
    monkeypatch.setenv(KEY_ENV, SECRET)
    application = create_app(provider_settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def org(compat_app: FastAPI) -> Iterator[tuple[Tenant, Session]]:
    """An organisation allowing every upstream model, and a session on the database."""
    with compat_app.state.sessions() as session:
        yield make_tenant(session, "gamma", MODELS), session


def _ctx(tenant: Tenant, classification: str = "internal") -> CallContext:
    agent = tenant.users["agent"]
    return CallContext(org_id=tenant.org.id, user_id=agent.id, role=agent.role,
                       tool="test.compat", classification=classification)


MESSAGES = [ChatMessage("system", "Sois bref."), ChatMessage("user", "Bonjour !")]


async def _collect(app: FastAPI, ctx: CallContext, model: str) -> list[Any]:
    return [e async for e in app.state.gateway.stream_chat(ctx, model, MESSAGES, ChatParams())]


def _calls(session: Session) -> list[ModelCall]:
    session.rollback()
    return list(session.scalars(select(ModelCall).order_by(ModelCall.id)))


# --- streaming and payloads -----------------------------------------------------------------


async def test_chat_streams_through_the_upstream_piece_by_piece(
    compat_app: FastAPI, org: tuple[Tenant, Session], upstream: Upstream
) -> None:
    tenant, session = org
    pieces: list[str] = []
    seen_when_first_arrived = -1
    completed: Completed | None = None
    stream = compat_app.state.gateway.stream_chat(
        _ctx(tenant), "upstream/gated", MESSAGES, ChatParams(max_tokens=50, temperature=0.1,
                                                             stop=("FIN",)))
    async for event in stream:
        if isinstance(event, Delta):
            if not pieces:
                seen_when_first_arrived = upstream.chunks_sent
                upstream.release.set()
            pieces.append(event.text)
        elif isinstance(event, Completed):
            completed = event
    # the first piece reached us while the upstream was still holding the rest
    assert seen_when_first_arrived == 1
    assert pieces == WORDS
    assert completed is not None and completed.status == "ok" and completed.text == REPLY
    assert (completed.tokens_in, completed.tokens_out) == (17, len(WORDS))
    [request] = upstream.requests
    assert request["body"]["model"] == "gated" and request["body"]["stream"] is True
    assert request["body"]["messages"] == [
        {"role": "system", "content": "Sois bref."}, {"role": "user", "content": "Bonjour !"}]
    assert (request["body"]["max_tokens"], request["body"]["temperature"]) == (50, 0.1)
    assert request["body"]["stop"] == ["FIN"]
    [call] = _calls(session)
    assert (call.model_id, call.status, call.tokens_in, call.tokens_out) == (
        "upstream/gated", "ok", 17, len(WORDS))
    assert call.energy_wh > 0  # Wh per 1k tokens of the server's settings
    record = session.scalars(select(OutputRecord)).one()
    assert record.output == REPLY and record.model_version == "gated"


async def test_embeddings_keep_the_input_order(
    compat_app: FastAPI, org: tuple[Tenant, Session], upstream: Upstream
) -> None:
    tenant, session = org
    texts = ["un", "deux mots", "trois mots ici"]
    result = await compat_app.state.gateway.embed(_ctx(tenant), "upstream/embed", texts)
    assert result.vectors == [[2.0, 0.0, 0.5], [9.0, 1.0, 0.5], [14.0, 2.0, 0.5]]
    assert result.tokens_in == 9
    assert upstream.requests[0]["body"] == {"model": "embed", "input": texts}
    [call] = _calls(session)
    assert (call.kind, call.status, call.tokens_in) == ("embedding", "ok", 9)


async def test_transcription_sends_the_file_model_and_language(
    compat_app: FastAPI, org: tuple[Tenant, Session], upstream: Upstream
) -> None:
    tenant, session = org
    audio = b"OggS\x00\x02" + bytes(range(256)) * 8
    text = await compat_app.state.gateway.transcribe(
        _ctx(tenant), "upstream/whisper", audio, "conseil.ogg", "fr")
    assert text == "Le conseil municipal est ouvert."
    [request] = upstream.requests
    assert request["body"] == {"model": "whisper", "language": "fr", "filename": "conseil.ogg",
                               "audio": audio}
    record = session.scalars(select(OutputRecord)).one()
    assert record.output == text and record.tool == "test.compat"


# --- the API key ----------------------------------------------------------------------------


async def test_the_api_key_is_sent_from_its_env_var_and_never_logged(
    compat_app: FastAPI, org: tuple[Tenant, Session], upstream: Upstream,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tenant, session = org
    caplog.set_level(logging.DEBUG)
    gateway = compat_app.state.gateway
    ctx = _ctx(tenant)
    await _collect(compat_app, ctx, "upstream/echo")
    await gateway.embed(ctx, "upstream/embed", ["texte"])
    await gateway.transcribe(ctx, "upstream/whisper", b"audio", "a.ogg", None)
    await _collect(compat_app, ctx, "upstream/broken")  # failures are logged too, if at all
    ready = await gateway.readiness()
    assert ready["upstream"] is True and ready["closed"] is False
    sent = [r["authorization"] for r in upstream.requests]
    assert [r["path"] for r in upstream.requests][:4] == [
        "chat", "embeddings", "transcriptions", "chat"]
    assert sent[:5] == [f"Bearer {SECRET}"] * 5
    # a server configured without api_key_env gets no Authorization header at all
    assert [r["authorization"] for r in upstream.requests[5:]] == [None]
    assert caplog.records, "expected the HTTP client to log something at DEBUG"
    assert SECRET not in caplog.text
    assert all(SECRET not in str(vars(record)) for record in caplog.records)  # extras too
    calls = _calls(session)
    assert all(SECRET not in f"{c.error} {c.model_id}" for c in calls)


async def test_no_authorization_header_when_the_env_var_is_unset(
    compat_app: FastAPI, org: tuple[Tenant, Session], upstream: Upstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(KEY_ENV)
    tenant, _session = org
    await compat_app.state.gateway.embed(_ctx(tenant), "upstream/embed", ["texte"])
    assert upstream.requests[0]["authorization"] is None


# --- failures -------------------------------------------------------------------------------


async def test_connection_refused_is_unavailable(
    compat_app: FastAPI, org: tuple[Tenant, Session]
) -> None:
    tenant, session = org
    gateway = compat_app.state.gateway
    events = await _collect(compat_app, _ctx(tenant), "closed/echo")
    assert len(events) == 1 and events[0].status == "error" and events[0].error == "unavailable"
    with pytest.raises(GatewayError) as embed:
        await gateway.embed(_ctx(tenant), "closed/embed", ["texte"])
    assert embed.value.code == "unavailable"
    with pytest.raises(GatewayError) as transcribe:
        await gateway.transcribe(_ctx(tenant), "closed/whisper", b"a", "a.ogg", "fr")
    assert transcribe.value.code == "unavailable"
    assert [(c.status, c.error) for c in _calls(session)] == [("error", "unavailable")] * 3


async def test_a_slow_upstream_times_out(
    compat_app: FastAPI, org: tuple[Tenant, Session]
) -> None:
    tenant, session = org
    started = time.monotonic()
    before_first_byte = await _collect(compat_app, _ctx(tenant), "hasty/slow")
    assert [(e.status, e.error) for e in before_first_byte] == [("error", "timeout")]
    stalled = await _collect(compat_app, _ctx(tenant), "hasty/stall")
    assert [e.text for e in stalled if isinstance(e, Delta)] == WORDS[:2]
    assert (stalled[-1].status, stalled[-1].error) == ("error", "timeout")
    with pytest.raises(GatewayError) as embed:
        await compat_app.state.gateway.embed(_ctx(tenant), "hasty/embed-slow", ["texte"])
    assert embed.value.code == "timeout"
    assert time.monotonic() - started < 3 * SLOW_SECONDS  # gave up before the upstream answered
    assert [c.error for c in _calls(session)] == ["timeout"] * 3


@pytest.mark.parametrize(
    ("model", "code"),
    [("upstream/broken", "upstream"), ("upstream/limited", "busy"),
     ("upstream/refuses", "bad_request"), ("upstream/garbage", "upstream")],
)
async def test_http_errors_map_to_gateway_codes(
    compat_app: FastAPI, org: tuple[Tenant, Session], model: str, code: str
) -> None:
    tenant, session = org
    events = await _collect(compat_app, _ctx(tenant), model)
    assert [(e.status, e.error) for e in events] == [("error", code)]
    assert [(c.status, c.error) for c in _calls(session)] == [("error", code)]
    assert session.scalars(select(OutputRecord)).all() == []


@pytest.mark.parametrize(
    ("model", "code"),
    [("upstream/broken-embed", "upstream"), ("upstream/limited-embed", "busy"),
     ("upstream/garbage-embed", "upstream"), ("upstream/short-embed", "upstream")],
)
async def test_embedding_errors_map_to_gateway_codes(
    compat_app: FastAPI, org: tuple[Tenant, Session], model: str, code: str
) -> None:
    tenant, session = org
    with pytest.raises(GatewayError) as failed:
        await compat_app.state.gateway.embed(_ctx(tenant), model, ["un", "deux"])
    assert failed.value.code == code
    assert [(c.status, c.error) for c in _calls(session)] == [("error", code)]


# --- classification -------------------------------------------------------------------------


async def test_data_above_the_server_ceiling_never_leaves(
    compat_app: FastAPI, org: tuple[Tenant, Session], upstream: Upstream
) -> None:
    tenant, session = org
    gateway = compat_app.state.gateway
    personal = _ctx(tenant, "personal")
    with pytest.raises(GatewayError) as chat:
        await _collect(compat_app, personal, "upstream/echo")
    assert chat.value.code == "classification"
    with pytest.raises(GatewayError) as embed:
        await gateway.embed(personal, "upstream/embed", ["Jean Dupont, né le 3 mai 1970"])
    assert embed.value.code == "classification"
    with pytest.raises(GatewayError) as audio:
        await gateway.transcribe(personal, "upstream/whisper", b"a", "a.ogg", "fr")
    assert audio.value.code == "classification"
    assert upstream.requests == [] and _calls(session) == []
    # at the ceiling itself the call goes through
    events = await _collect(compat_app, _ctx(tenant, "internal"), "upstream/echo")
    assert events[-1].status == "ok" and len(upstream.requests) == 1


# --- end to end through Civique's own API ---------------------------------------------------


def test_the_openai_client_streams_through_civique_to_the_upstream(
    compat_app: FastAPI, org: tuple[Tenant, Session], upstream: Upstream
) -> None:
    tenant, session = org
    _token, clear = create_api_token(session, tenant.users["agent"], "e2e")
    with serve_in_thread(compat_app) as url, openai.OpenAI(
        base_url=f"{url}/api/v1", api_key=clear, max_retries=0, timeout=20
    ) as client:
        chunks = list(client.chat.completions.create(
            model="upstream/echo", messages=[{"role": "user", "content": "Bonjour !"}],
            stream=True))
        with pytest.raises(openai.InternalServerError) as broken:
            client.chat.completions.create(
                model="upstream/broken", messages=[{"role": "user", "content": "Bonjour !"}])
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 17
    assert broken.value.status_code == 502
    assert upstream.requests[0]["authorization"] == f"Bearer {SECRET}"
    assert [(c.channel, c.status) for c in _calls(session)] == [("api", "ok"), ("api", "error")]
