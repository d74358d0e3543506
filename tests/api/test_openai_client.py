"""The OpenAI-compatible API driven by the official `openai` client against a real Uvicorn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import openai
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.service import create_api_token, revoke_api_token
from civique.llm.models import ModelCall, OutputRecord
from civique.llm.providers.fake import FakeProvider, fake_reply
from civique.llm.types import ChatMessage, count_words
from civique.orgs.service import set_active, set_org_model
from tests.api.conftest import LiveServer
from tests.helpers import Tenant

SYSTEM = "Tu es l'assistant de la mairie."
QUESTION = "Quels documents faut-il pour refaire une carte d'identité ?"


@pytest.fixture
def oai(live_server: LiveServer, api_token: str) -> Iterator[openai.OpenAI]:
    """The official client, authenticated as the agent of `tenant` (no retries: errors show)."""
    with openai.OpenAI(
        base_url=live_server.api_url, api_key=api_token, max_retries=0, timeout=20
    ) as client:
        yield client


def _client(server: LiveServer, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_url, api_key=token, max_retries=0, timeout=20)


def _calls(db: Session) -> list[ModelCall]:
    db.rollback()  # a fresh snapshot: the server wrote from its own connection
    return list(db.scalars(select(ModelCall).order_by(ModelCall.id)))


def _expected_reply() -> str:
    return fake_reply([ChatMessage("system", SYSTEM), ChatMessage("user", QUESTION)])


def _chat_messages() -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]


def _error_body(exc: openai.APIStatusError) -> dict[str, str]:
    body = exc.body
    assert isinstance(body, dict), body
    return body


# --- models ---------------------------------------------------------------------------------


def test_models_lists_only_what_the_org_allows_for_the_role(
    live_server: LiveServer, oai: openai.OpenAI, db: Session, tenant: Tenant
) -> None:
    admin = tenant.users["org_admin"]
    set_org_model(db, admin, "fake/embed", {"fake/echo", "fake/embed"}, True, ["org_admin"])
    assert [m.id for m in oai.models.list()] == ["fake/echo"]
    _token, admin_token = create_api_token(db, admin, "admin")
    with _client(live_server, admin_token) as as_admin:
        models = {m.id: m for m in as_admin.models.list()}
    assert set(models) == {"fake/echo", "fake/embed"}
    assert models["fake/echo"].owned_by == "fake" and models["fake/echo"].object == "model"
    # the hidden model is refused to the agent, not just unlisted
    with pytest.raises(openai.PermissionDeniedError) as refused:
        oai.embeddings.create(model="fake/embed", input="bonjour")
    assert refused.value.status_code == 403
    assert _error_body(refused.value)["code"] == "model_not_allowed"


# --- chat -----------------------------------------------------------------------------------


def test_chat_completion_returns_the_reply_and_is_recorded(
    oai: openai.OpenAI, db: Session, tenant: Tenant
) -> None:
    completion = oai.chat.completions.create(model="fake/echo", messages=_chat_messages())
    choice = completion.choices[0]
    expected = _expected_reply()
    assert choice.message.content == expected and choice.message.role == "assistant"
    assert choice.finish_reason == "stop" and completion.model == "fake/echo"
    assert completion.id.startswith("chatcmpl-") and completion.object == "chat.completion"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == count_words(f"{SYSTEM}\n{QUESTION}")
    assert completion.usage.completion_tokens == len(expected.split(" "))
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    [call] = _calls(db)
    agent = tenant.users["agent"]
    assert (call.org_id, call.user_id, call.channel, call.tool, call.kind, call.status) == (
        tenant.org.id, agent.id, "api", "api.chat", "chat", "ok")
    assert call.tokens_out == completion.usage.completion_tokens
    record = db.scalars(select(OutputRecord).where(OutputRecord.call_id == call.id)).one()
    assert record.output == expected and record.user_id == agent.id
    assert record.prompt_template == "api.passthrough" and record.model_version == "fake-1"
    assert record.input == _chat_messages()


def test_streamed_chat_arrives_in_pieces_with_usage_at_the_end(
    oai: openai.OpenAI, db: Session, tenant: Tenant
) -> None:
    stream = oai.chat.completions.create(
        model="fake/echo", messages=_chat_messages(), stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    expected = _expected_reply()
    assert len(pieces) == len(expected.split(" ")) and "".join(pieces) == expected
    assert len({c.id for c in chunks}) == 1 and chunks[0].object == "chat.completion.chunk"
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.usage is not None
    assert last.usage.completion_tokens == len(pieces)
    assert last.usage.prompt_tokens == count_words(f"{SYSTEM}\n{QUESTION}")
    [call] = _calls(db)
    assert (call.channel, call.tool, call.status, call.user_id) == (
        "api", "api.chat", "ok", tenant.users["agent"].id)
    assert call.first_token_ms is not None
    record = db.scalars(select(OutputRecord).where(OutputRecord.call_id == call.id)).one()
    assert record.output == expected


def test_max_tokens_cuts_the_answer_with_finish_reason_length(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="fake/echo", messages=_chat_messages(), max_tokens=3
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 3
    assert completion.choices[0].message.content == " ".join(_expected_reply().split(" ")[:3])
    newer = oai.chat.completions.create(
        model="fake/echo", messages=_chat_messages(), max_completion_tokens=2
    )
    assert newer.usage is not None and newer.usage.completion_tokens == 2


def test_developer_role_and_text_parts_are_accepted(oai: openai.OpenAI, db: Session) -> None:
    completion = oai.chat.completions.create(
        model="fake/echo",
        messages=[
            {"role": "developer", "content": SYSTEM},
            {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
        ],
    )
    assert completion.choices[0].message.content == _expected_reply()
    record = db.scalars(select(OutputRecord)).one()
    assert record.input == _chat_messages()  # stored as a plain system message and text


# --- embeddings -----------------------------------------------------------------------------


def _fake_vectors(texts: list[str]) -> list[list[float]]:
    return asyncio.run(FakeProvider().embed("embed", texts)).vectors


def test_embeddings_single_and_batch_keep_order_and_dimensions(
    oai: openai.OpenAI, db: Session
) -> None:
    texts = ["Demande d'acte de naissance", "Permis de construire", "Carte grise", "État civil"]
    expected = _fake_vectors(texts)
    single = oai.embeddings.create(model="fake/embed", input=texts[0])  # base64 by default
    assert len(single.data) == 1 and single.data[0].index == 0
    assert single.data[0].embedding == pytest.approx(expected[0], rel=1e-6)
    assert single.usage.prompt_tokens == count_words(texts[0])
    batch = oai.embeddings.create(model="fake/embed", input=texts, encoding_format="float")
    assert [d.index for d in batch.data] == [0, 1, 2, 3]
    assert all(len(d.embedding) == 8 for d in batch.data)
    assert [d.embedding for d in batch.data] == expected  # exact: sent as JSON floats
    assert batch.usage.prompt_tokens == sum(count_words(t) for t in texts)
    calls = _calls(db)
    assert [(c.kind, c.channel, c.tool, c.status) for c in calls] == [
        ("embedding", "api", "api.embeddings", "ok")] * 2
    assert db.scalars(select(OutputRecord)).all() == []  # vectors are not outputs


def test_embeddings_refuse_empty_and_oversized_batches(oai: openai.OpenAI, db: Session) -> None:
    with pytest.raises(openai.BadRequestError) as empty:
        oai.embeddings.create(model="fake/embed", input=[])
    assert _error_body(empty.value)["code"] == "empty"
    with pytest.raises(openai.BadRequestError) as many:
        oai.embeddings.create(model="fake/embed", input=["mot"] * 257)
    body = _error_body(many.value)
    assert body["code"] == "too_many_inputs" and "257" in body["message"]
    with pytest.raises(openai.BadRequestError) as blank:
        oai.embeddings.create(model="fake/embed", input=["bonjour", "  "])
    assert _error_body(blank.value)["code"] == "empty"
    assert _calls(db) == []


# --- authentication -------------------------------------------------------------------------


def _assert_unauthorized(server: LiveServer, token: str) -> None:
    with _client(server, token) as client, pytest.raises(openai.AuthenticationError) as denied:
        client.models.list()
    assert denied.value.status_code == 401
    assert _error_body(denied.value)["code"] == "unauthorized"
    assert denied.value.response.headers["www-authenticate"] == "Bearer"


def test_missing_invalid_revoked_and_deactivated_tokens_get_401(
    live_server: LiveServer, api_token: str, db: Session, tenant: Tenant
) -> None:
    anonymous = httpx.get(f"{live_server.api_url}/models")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["message"] == "Authentification requise."
    _assert_unauthorized(live_server, "civ_" + "x" * 43)
    _assert_unauthorized(live_server, "sk-not-a-civique-token")
    revoked, revoked_clear = create_api_token(db, tenant.users["validator"], "old")
    revoke_api_token(db, tenant.users["validator"], revoked.id)
    _assert_unauthorized(live_server, revoked_clear)
    # the agent's token works until the agent is deactivated
    with _client(live_server, api_token) as client:
        assert [m.id for m in client.models.list()]
    set_active(db, tenant.users["org_admin"], tenant.users["agent"].id, False)
    _assert_unauthorized(live_server, api_token)


# --- model errors ---------------------------------------------------------------------------


def test_unknown_forbidden_and_wrong_kind_models(
    oai: openai.OpenAI, db: Session, tenant: Tenant
) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        oai.chat.completions.create(model="nowhere/gpt", messages=_chat_messages())
    assert _error_body(unknown.value)["code"] == "unknown_model"
    assert _error_body(unknown.value)["message"] == "Ce modèle n'existe pas."
    set_org_model(db, tenant.users["org_admin"], "fake/echo", {"fake/echo"}, False, [])
    for stream in (False, True):
        with pytest.raises(openai.PermissionDeniedError) as forbidden:
            oai.chat.completions.create(
                model="fake/echo", messages=_chat_messages(), stream=stream
            )
        assert _error_body(forbidden.value)["code"] == "model_not_allowed"
    with pytest.raises(openai.BadRequestError) as wrong:
        oai.chat.completions.create(model="fake/embed", messages=_chat_messages())
    assert _error_body(wrong.value)["code"] == "wrong_kind"
    assert _calls(db) == []  # refusals happen before any call


@pytest.mark.parametrize(
    ("content", "code", "fragment"),
    [
        ("   ", "empty", "vide"),
        ("bonjour\x00\x07", "control_chars", "contrôle"),
        ("a" * 8001, "too_long", "8001"),
    ],
)
def test_bad_messages_get_400_in_french(
    oai: openai.OpenAI, db: Session, content: str, code: str, fragment: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        oai.chat.completions.create(
            model="fake/echo", messages=[{"role": "user", "content": content}]
        )
    body = _error_body(refused.value)
    assert refused.value.status_code == 400
    assert body["code"] == code and fragment in body["message"]
    assert body["type"] == "invalid_request_error"
    assert _calls(db) == []


# --- malformed bodies -----------------------------------------------------------------------


def _raw_post(server: LiveServer, token: str, content: object) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    return httpx.post(
        f"{server.api_url}/chat/completions", headers=headers, content=content, timeout=20
    )


def test_invalid_json_and_invalid_utf8_bodies_get_400(
    live_server: LiveServer, api_token: str
) -> None:
    not_json = _raw_post(live_server, api_token, b'{"model": "fake/echo", "messages": [')
    assert not_json.status_code == 400
    assert not_json.json()["error"] == {
        "code": "invalid_json",
        "message": "Le corps de la requête n'est pas du JSON valide.",
        "type": "invalid_request_error",
    }
    latin1 = '{"model": "fake/echo", "messages": [{"role": "user", "content": "café"}]}'
    not_utf8 = _raw_post(live_server, api_token, latin1.encode("latin-1"))
    assert not_utf8.status_code == 400
    assert not_utf8.json()["error"]["code"] == "invalid_utf8"
    assert not_utf8.json()["error"]["message"] == "La requête n'est pas un texte UTF-8 valide."
    not_object = _raw_post(live_server, api_token, b"[]")
    assert not_object.status_code == 400
    assert not_object.json()["error"]["code"] == "invalid_request"
    several = {"model": "fake/echo", "n": 2, "messages": [{"role": "user", "content": "x"}]}
    refused = _raw_post(live_server, api_token, json.dumps(several).encode())
    assert refused.status_code == 400 and "body.n" in refused.json()["error"]["message"]


def test_null_optional_fields_take_their_defaults(
    live_server: LiveServer, api_token: str
) -> None:
    body = {"model": "fake/echo", "stream": None, "temperature": None, "max_tokens": None,
            "stop": None, "messages": [{"role": "user", "content": QUESTION}]}
    answer = _raw_post(live_server, api_token, json.dumps(body).encode())
    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["content"] == fake_reply(
        [ChatMessage("user", QUESTION)])


def test_bodies_over_the_limit_get_413(
    live_server: LiveServer, oai: openai.OpenAI, api_token: str
) -> None:
    limit = live_server.app.state.settings.api_max_request_bytes
    huge = "a" * (limit + 10)
    with pytest.raises(openai.APIStatusError) as too_large:
        oai.chat.completions.create(model="fake/echo", messages=[{"role": "user", "content": huge}])
    assert too_large.value.status_code == 413
    assert _error_body(too_large.value)["code"] == "too_large"
    # the same body without Content-Length (chunked): counted as it arrives
    body = json.dumps({"model": "fake/echo", "messages": [{"role": "user", "content": huge}]})
    raw = body.encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(raw), 64 * 1024):
            yield raw[start : start + 64 * 1024]

    chunked = _raw_post(live_server, api_token, chunks())
    assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "too_large"


# --- provider failures ----------------------------------------------------------------------


def test_provider_failure_maps_to_503_and_timeout_to_504(
    oai: openai.OpenAI, db: Session
) -> None:
    failing = [{"role": "user", "content": "Bonjour [[fake:fail]]"}]
    for stream in (False, True):
        with pytest.raises(openai.InternalServerError) as failed:
            oai.chat.completions.create(model="fake/echo", messages=failing, stream=stream)
        assert failed.value.status_code == 503
        body = _error_body(failed.value)
        assert body["code"] == "unavailable" and "réessayez" in body["message"]
    with pytest.raises(openai.InternalServerError) as slow:
        oai.chat.completions.create(
            model="fake/echo", messages=[{"role": "user", "content": "[[fake:timeout]]"}]
        )
    assert slow.value.status_code == 504 and _error_body(slow.value)["code"] == "timeout"
    calls = _calls(db)
    assert [(c.status, c.error, c.channel) for c in calls] == [
        ("error", "unavailable", "api"), ("error", "unavailable", "api"),
        ("error", "timeout", "api")]
    assert db.scalars(select(OutputRecord)).all() == []
