"""The masking preview of the chat: what would be masked before the model sees a message."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response

from civique.auth.models import User
from civique.chat import service
from civique.errors import UserError
from civique.governance.masking_view import preview_json
from civique.llm.gateway import Gateway, GatewayError
from civique.textcheck import clean_text
from civique.web.deps import DB, AppSettings, check_csrf, require

router = APIRouter()
ChatUser = Annotated[User, Depends(require("chat.use"))]
Csrf = [Depends(check_csrf)]
@router.post("/chat/{conversation_id}/privacy", dependencies=Csrf)
def preview(
    request: Request,
    user: ChatUser,
    db: DB,
    settings: AppSettings,
    conversation_id: int,
    text: Annotated[str, Form()] = "",
    model_id: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """What would be masked in this message for the chosen model (nothing is stored)."""
    conv = service.get_conversation(db, user, conversation_id)
    text = clean_text(text, settings.max_message_chars)
    gateway: Gateway = request.app.state.gateway
    ctx = service.call_context(user)
    try:
        info, planned = gateway.preview_masking(
            db, ctx, model_id or conv.model_id, text, service.vault_scope(conv)
        )
    except GatewayError as exc:
        raise UserError(exc.code, 400) from exc
    return JSONResponse({**preview_json(info, planned), "text": text})


def note_html(request: Request, privacy: dict[str, Any]) -> str:
    """The note under a reply saying what was masked, as the page shows it."""
    template = request.app.state.templates.env.get_template("chat/_privacy.html")
    return str(template.render(privacy=privacy))
