"""OpenAI-compatible endpoints, behind personal tokens, through the same gateway and records."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import struct
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute

from civique.api.schemas import (
    MAX_EMBEDDING_INPUTS,
    ChatCompletionRequest,
    EmbeddingRequest,
    PrivacyIn,
    PrivacyPreviewRequest,
)
from civique.auth.models import User
from civique.chat import grounded
from civique.errors import UserError
from civique.governance import validation
from civique.governance.masking_view import masking_from, preview_json
from civique.i18n import gettext
from civique.llm.gateway import CallContext, Completed, Gateway, GatewayError, Privacy
from civique.llm.types import ChatMessage, ChatParams, Delta
from civique.settings import Settings
from civique.textcheck import clean_text
from civique.web.deps import DB, AppSettings, api_error_body, require_api


class _CheckedBodyRoute(APIRoute):
    """Reads the body before FastAPI parses it, so that bad bodies get our own errors.

    FastAPI turns any failure while reading or decoding the body into a generic English 400
    ("There was an error parsing the body"). Two of them deserve better: a body that is not
    UTF-8 (our `invalid_utf8` message), and a body sent without Content-Length that grows past
    `api_max_request_bytes` (`BodyLimitMiddleware` must see its signal to answer 413).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler; the body read here is cached on the request for it."""
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            body = await request.body()  # the size limit's signal propagates to its middleware
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                raise UserError("invalid_utf8") from None
            return await handler(request)

        return checked


router = APIRouter(prefix="/api/v1", tags=["OpenAI-compatible"], route_class=_CheckedBodyRoute)
ApiUser = Annotated[User, Depends(require_api("api.use"))]
STATUS = {
    "unknown_model": 404,
    "model_not_allowed": 403,
    "classification": 403,
    "wrong_kind": 400,
    "unavailable": 503,
    "timeout": 504,
    "busy": 429,
    "upstream": 502,
    "bad_request": 400,
}


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def _ctx(user: User, tool: str) -> CallContext:
    return CallContext(
        org_id=user.org_id,
        user_id=user.id,
        role=user.role,
        tool=tool,
        channel="api",
        prompt_template="api.passthrough",
    )


def _privacy(user: User, wanted: PrivacyIn | None) -> Privacy | None:
    """The vault scope and corrections of an API call (a case key is the caller's own)."""
    if wanted is None:
        return None
    scope = f"api:{user.id}:{wanted.case}" if wanted.case else f"request:{uuid.uuid4().hex}"
    return Privacy(scope, masking_from(wanted.keep, wanted.extra))


@router.post("/privacy/preview")
def privacy_preview(
    request: Request, body: PrivacyPreviewRequest, user: ApiUser, db: DB, settings: AppSettings
) -> dict[str, Any]:
    """What would be masked in `text` for `model`, with the placeholders the case would give
    (nothing is stored, nothing is sent to a model)."""
    text = clean_text(body.text, settings.max_message_chars)
    scope = f"api:{user.id}:{body.case}" if body.case else None
    try:
        info, planned = _gateway(request).preview_masking(
            db, _ctx(user, "api.chat"), body.model, text, scope
        )
    except GatewayError as exc:
        raise UserError(exc.code, 400) from exc
    return {**preview_json(info, planned), "text": text}


def gateway_error_response(exc: GatewayError) -> JSONResponse:
    """An OpenAI-style error for a refused or failed call."""
    status = STATUS.get(exc.code, 502)  # an unforeseen provider code is still not our 500
    return JSONResponse(api_error_body(UserError(exc.code, status)), status_code=status)


@router.get("/models")
def list_models(request: Request, user: ApiUser, db: DB) -> dict[str, Any]:
    """Models the caller may use."""
    models = _gateway(request).allowed_models(db, user.org_id, user.role)
    return {
        "object": "list",
        "data": [
            {
                "id": m.id,
                "object": "model",
                "created": 0,
                "owned_by": m.provider,
                "kind": m.kind,
                "label": m.label,
            }
            for m in models
        ],
    }


def _messages(body: ChatCompletionRequest, settings: Settings) -> list[ChatMessage]:
    return [
        ChatMessage(
            "system" if m.role == "developer" else m.role,
            clean_text(m.text(), settings.max_message_chars),
        )
        for m in body.messages
    ]


def _needs_validation(request: Request, user: User, settings: Settings) -> bool:
    """An answer streamed back through the API cannot wait for a validator: when the
    organisation requires validation for `api.chat`, the API refuses chat completions."""
    with request.app.state.sessions() as session:
        return validation.needs_validation(session, settings, user.org_id, "api.chat")


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    request: Request, body: ChatCompletionRequest, user: ApiUser, settings: AppSettings
) -> Response:
    """Chat completion, streamed as server-sent events when `stream` is true."""
    messages = _messages(body, settings)
    stop = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop or ())
    max_tokens = body.max_completion_tokens or body.max_tokens or 1024
    temperature = 0.3 if body.temperature is None else body.temperature
    params = ChatParams(max_tokens=max_tokens, temperature=temperature, stop=stop)
    gateway = _gateway(request)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    ctx = _ctx(user, "api.chat")
    if await asyncio.to_thread(_needs_validation, request, user, settings):
        raise UserError("validation_api_chat", 403)
    privacy = _privacy(user, body.privacy)
    grounding = None
    if body.collections:
        grounding = await _ground(request, user, ctx, messages, body.collections)
    if grounding is not None and not grounding.passages:
        events: AsyncIterator[Any] = _not_found_events()  # nothing to answer from: no model call
    elif grounding is not None:
        events = gateway.stream_chat(
            grounding.ctx, body.model, grounding.prompt, params, privacy=privacy
        )
    else:
        events = gateway.stream_chat(ctx, body.model, messages, params, privacy=privacy)
    try:  # run until the first event so refusals become proper HTTP errors
        first = await anext(events)
    except GatewayError as exc:
        return gateway_error_response(exc)
    if isinstance(first, Completed) and first.status == "error":
        # Failed before producing anything: a real HTTP error, not a 200 stream carrying one.
        return gateway_error_response(GatewayError(first.error or "upstream", body.model))
    extra = _extra(request, user, grounding)
    if body.stream:
        return StreamingResponse(
            _stream(first, events, completion_id, body.model, extra),
            media_type="text/event-stream",
        )
    text, completed = [], first if isinstance(first, Completed) else None
    if isinstance(first, Delta):
        text.append(first.text)
    async for event in events:
        if isinstance(event, Delta):
            text.append(event.text)
        elif isinstance(event, Completed):
            completed = event
    assert completed is not None
    if completed.status == "error":
        return gateway_error_response(GatewayError(completed.error or "upstream", body.model))
    fields = await extra(completed)
    return JSONResponse(
        {
            **fields,
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": _finish(completed),
                    "message": {"role": "assistant", "content": completed.text},
                }
            ],
            "usage": {
                "prompt_tokens": completed.tokens_in,
                "completion_tokens": completed.tokens_out,
                "total_tokens": completed.tokens_in + completed.tokens_out,
            },
        }
    )


def _finish(completed: Completed) -> str:
    return "length" if completed.finish_reason == "length" else "stop"


async def _stream(
    first: Any,
    events: AsyncIterator[Any],
    completion_id: str,
    model: str,
    extra: Callable[[Completed], Awaitable[dict[str, Any]]],
) -> AsyncIterator[str]:
    created = int(time.time())

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    pending = [first]
    async for event in _chain(pending, events):
        if isinstance(event, Delta):
            yield chunk({"content": event.text})
        elif isinstance(event, Completed):
            if event.status == "error":
                body = api_error_body(UserError(event.error or "upstream"))
                yield f"data: {json.dumps(body, ensure_ascii=False)}\n\n"
            else:
                usage = {
                    "prompt_tokens": event.tokens_in,
                    "completion_tokens": event.tokens_out,
                    "total_tokens": event.tokens_in + event.tokens_out,
                }
                fields = await extra(event)  # streamed text is raw: `citations` is what was checked
                yield chunk({}, _finish(event), usage=usage, **fields)
    yield "data: [DONE]\n\n"


async def _chain(first: list[Any], rest: AsyncIterator[Any]) -> AsyncIterator[Any]:
    for item in first:
        yield item
    async for item in rest:
        yield item


@dataclass
class _Grounding:
    """A grounded API call: checked collections, passages, the prompt and its question."""

    ctx: CallContext
    question: str
    collections: list[int]
    passages: list[grounded.Passage]
    prompt: list[ChatMessage]


async def _ground(
    request: Request,
    user: User,
    ctx: CallContext,
    messages: list[ChatMessage],
    collection_ids: list[int],
) -> _Grounding:
    """Retrieve passages of the requested collections for the last user message."""
    question, previous = grounded.follow_up(messages)
    template = grounded.PROMPT_TEMPLATE
    ctx = dataclasses.replace(ctx, prompt_template=template[0], prompt_template_version=template[1])
    searched = grounded.search_text(question, previous)
    collections, passages, sources = await grounded.prepare(
        _gateway(request), request.app.state.sessions, user, ctx, searched, collection_ids
    )
    ctx = dataclasses.replace(ctx, sources=sources)
    prompt = grounded.build_prompt(passages, question, previous)
    return _Grounding(ctx, question, collections, passages, prompt)


async def _not_found_events() -> AsyncIterator[Any]:
    text = grounded.not_found_answer().text
    yield Delta(text)
    yield Completed(text, "ok", 0, None, 0, 0)


def _extra(
    request: Request, user: User, grounding: _Grounding | None
) -> Callable[[Completed], Awaitable[dict[str, Any]]]:
    """What a grounded answer adds to the response: checked text, citations, flags."""
    base = str(request.base_url).rstrip("/")

    async def fields(completed: Completed) -> dict[str, Any]:
        if grounding is None:
            return {"privacy": completed.privacy}
        result = await asyncio.to_thread(
            grounded.finalise,
            request.app.state.sessions,
            user,
            grounding.collections,
            grounding.question,
            completed.text,
            grounding.passages,
            completed.output_id,
            gettext("unverified"),
        )
        completed.text = result.text
        return {
            "citations": [_api_citation(c, base) for c in result.citations],
            "grounding": result.flags(),
            "privacy": completed.privacy,
        }

    return fields


def _api_citation(citation: grounded.Citation, base: str) -> dict[str, Any]:
    return {
        "index": citation.index,
        "document_id": citation.document_id,
        "title": citation.title,
        "page": citation.page,
        "label": citation.label,
        "quote": citation.quote,
        "source_url": base + citation.source_url,
        "verified": citation.verified,
    }


@router.post("/embeddings", response_model=None)
async def embeddings(
    request: Request, body: EmbeddingRequest, user: ApiUser, settings: AppSettings
) -> Response:
    """Embed one text or a list of texts."""
    inputs = [body.input] if isinstance(body.input, str) else body.input
    if not inputs:
        raise UserError("empty")
    if len(inputs) > MAX_EMBEDDING_INPUTS:
        raise UserError("too_many_inputs", count=len(inputs), limit=MAX_EMBEDDING_INPUTS)
    inputs = [clean_text(t, settings.max_message_chars) for t in inputs]
    try:
        result = await _gateway(request).embed(_ctx(user, "api.embeddings"), body.model, inputs)
    except GatewayError as exc:
        return gateway_error_response(exc)
    return JSONResponse(
        {
            "object": "list",
            "model": body.model,
            "data": [
                {"object": "embedding", "index": i, "embedding": _encode(v, body.encoding_format)}
                for i, v in enumerate(result.vectors)
            ],
            "usage": {"prompt_tokens": result.tokens_in, "total_tokens": result.tokens_in},
        }
    )


def _encode(vector: list[float], encoding_format: str) -> list[float] | str:
    """Floats as JSON numbers, or base64 of little-endian float32 as OpenAI sends them."""
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector
