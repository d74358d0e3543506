"""Workspace home and chat pages; replies stream to the browser as server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from civique.auth.models import User
from civique.chat import privacy_routes, service
from civique.documents.service import list_collections
from civique.errors import MESSAGES, UserError
from civique.governance.masking_view import masking_from
from civique.i18n import gettext
from civique.lab import feedback as lab_feedback
from civique.llm.gateway import Gateway, cleared_for_personal_data
from civique.llm.types import ModelInfo
from civique.orgs.models import Organisation
from civique.web.deps import (
    DB,
    AppSettings,
    check_csrf,
    csrf_token,
    error_message,
    render,
    require,
)
from civique.web.markdown import render_markdown

router = APIRouter()
ChatUser = Annotated[User, Depends(require("chat.use"))]
Csrf = [Depends(check_csrf)]


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def _models(request: Request, db: DB, user: User) -> list[ModelInfo]:
    return _gateway(request).allowed_models(db, user.org_id, user.role, "chat")


def _pick_model(request: Request, db: DB, user: User, wanted: str | None) -> str:
    models = _models(request, db, user)
    if not models:
        raise UserError("no_model", 409)
    if not wanted:
        return models[0].id
    if wanted not in {m.id for m in models}:
        known = {m.id for m in _gateway(request).registry.models()}
        raise UserError("model_not_allowed" if wanted in known else "unknown_model", 400)
    return wanted


@router.get("/", name="home")
def home(request: Request, user: ChatUser, db: DB) -> Response:
    """Workspace home: start a chat, recent conversations."""
    return render(
        request,
        "home.html",
        models=_models(request, db, user),
        conversations=service.list_conversations(db, user)[:10],
    )


@router.post("/chat", dependencies=Csrf)
def new_conversation(
    request: Request, user: ChatUser, db: DB, model_id: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """Create a conversation and open it."""
    conv = service.create_conversation(db, user, _pick_model(request, db, user, model_id))
    return RedirectResponse(f"/chat/{conv.id}", 303)


@router.get("/chat/{conversation_id}", name="conversation")
def conversation_page(request: Request, user: ChatUser, db: DB, conversation_id: int) -> Response:
    """A conversation with its messages, the model picker and the composer."""
    conv = service.get_conversation(db, user, conversation_id)
    messages = service.messages_of(db, conv)
    return render(
        request,
        "chat/conversation.html",
        conversation=conv,
        messages=messages,
        collections=list_collections(db, user),
        selected=service.last_collections(messages),
        models=_models(request, db, user),
        cleared={m.id for m in _models(request, db, user) if cleared_for_personal_data(m)},
        conversations=service.list_conversations(db, user),
        feedback=lab_feedback.mine_for(db, user, [m.output_id for m in messages if m.output_id]),
        next_url=f"/chat/{conv.id}",
        notice=request.session.pop("flash", None),  # e.g. feedback saved without JavaScript
        error_messages={
            code: gettext(MESSAGES[code])
            for code in ("unavailable", "timeout", "busy", "upstream", "empty")
        },
    )


@router.post("/chat/{conversation_id}/messages", dependencies=Csrf)
def post_message(
    request: Request,
    user: ChatUser,
    db: DB,
    settings: AppSettings,
    conversation_id: int,
    text: Annotated[str, Form()] = "",
    model_id: Annotated[str, Form(max_length=200)] = "",
    collections: Annotated[list[int] | None, Form()] = None,
    keep: Annotated[list[str] | None, Form()] = None,
    extra: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Store the question and a pending reply; the browser then opens the stream.

    `keep` and `extra`: the agent's corrections in the masking preview."""
    conv = service.get_conversation(db, user, conversation_id)
    model = _pick_model(request, db, user, model_id or conv.model_id)
    masking = masking_from(keep, extra)
    question, reply = service.post_message(
        db, settings, user, conv, text, model, collections, masking
    )
    if "application/json" not in request.headers.get("accept", ""):
        return RedirectResponse(f"/chat/{conv.id}#m{reply.id}", 303)
    return JSONResponse(
        {
            "question_id": question.id,
            "reply_id": reply.id,
            "question_html": str(render_markdown(question.content)),
            "title": conv.title,
        }
    )


@router.post("/chat/messages/{message_id}/regenerate", dependencies=Csrf)
def regenerate(
    request: Request,
    user: ChatUser,
    db: DB,
    message_id: int,
    model_id: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Replace a reply by a new one, possibly with another model."""
    model = _pick_model(request, db, user, model_id) if model_id else None
    reply = service.regenerate(db, user, message_id, model)
    return JSONResponse({"reply_id": reply.id})


@router.post("/chat/messages/{message_id}/stop", dependencies=Csrf)
def stop(user: ChatUser, db: DB, message_id: int) -> Response:
    """Stop a running reply (what was generated is kept)."""
    msg = service.request_stop(db, user, message_id)
    return JSONResponse({"status": msg.status})


@router.get("/chat/messages/{message_id}/stream")
async def stream(request: Request, user: ChatUser, message_id: int) -> Response:
    """Server-sent events: queued, delta, done or error."""
    streamer: service.ChatStreamer = request.app.state.chat_streamer
    with request.app.state.sessions() as db:
        org = db.get(Organisation, user.org_id)
        org_name = org.name if org else ""
        service.get_message(db, user, message_id)  # 404 before the stream starts

    async def events() -> AsyncIterator[str]:
        async for event in streamer.stream(user, message_id, org_name):
            yield _sse(request, message_id, event)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def citations_html(
    request: Request, message_id: int, citations: Any, flags: dict[str, Any] | None
) -> str:
    """The citation list under a grounded reply, as the page shows it."""
    template = request.app.state.templates.env.get_template("chat/_citations.html")
    return str(template.render(message_id=message_id, citations=citations, flags=flags))


def _output_link(request: Request, output_id: int) -> str:
    """The link under a reply to its output page, and the feedback widget."""
    template = request.app.state.templates.env.get_template("chat/_output_link.html")
    return str(template.render(output_id=output_id, csrf_token=csrf_token(request)))


def _sse(request: Request, message_id: int, event: service.StreamEvent) -> str:
    if event.kind == "delta":
        data: dict[str, object] = {"text": event.text}
    elif event.kind == "queued":
        data = {
            "position": event.position,
            "message": gettext(
                "Waiting for the model: position %(position)s in the queue.",
                position=event.position,
            ),
        }
    elif event.kind == "done":
        data = {"html": str(render_markdown(event.text)), "status": event.code}
        if event.privacy:
            data["privacy_html"] = privacy_routes.note_html(request, event.privacy)
        if event.output_id:
            data["output_html"] = _output_link(request, event.output_id)
        if event.flags is not None:
            data["citations_html"] = citations_html(
                request, message_id, event.citations, event.flags
            )
    else:
        data = {
            "code": event.code,
            "html": str(render_markdown(event.text)),
            "message": error_message(UserError(event.code)),
        }
    return f"event: {event.kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/chat/{conversation_id}/rename", dependencies=Csrf)
def rename(
    request: Request,
    user: ChatUser,
    db: DB,
    settings: AppSettings,
    conversation_id: int,
    title: Annotated[str, Form()] = "",
) -> Response:
    """Rename a conversation."""
    service.rename(db, settings, user, conversation_id, title)
    return RedirectResponse(f"/chat/{conversation_id}", 303)


@router.post("/chat/{conversation_id}/delete", dependencies=Csrf)
def delete(request: Request, user: ChatUser, db: DB, conversation_id: int) -> Response:
    """Delete a conversation."""
    service.delete(db, _gateway(request).vault, user, conversation_id)
    return RedirectResponse("/", 303)
