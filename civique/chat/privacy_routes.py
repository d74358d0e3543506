"""The masking preview of the chat: what would be masked before the model sees a message."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response

from civique.auth.models import User
from civique.chat import service
from civique.errors import UserError
from civique.governance.pii import KIND_LABELS
from civique.governance.pseudonymise import EXTRA_KIND, Masking, Planned
from civique.i18n import gettext
from civique.llm.gateway import Gateway, GatewayError
from civique.llm.types import ModelInfo
from civique.textcheck import clean_text
from civique.web.deps import DB, AppSettings, check_csrf, require

router = APIRouter()
ChatUser = Annotated[User, Depends(require("chat.use"))]
Csrf = [Depends(check_csrf)]
MAX_CORRECTIONS = 50
MAX_CORRECTION_CHARS = 200


def masking_from(keep: list[str] | None, extra: list[str] | None) -> Masking:
    """The agent's corrections, bounded: at most 50 of each, 200 characters each."""
    keep = [k.strip() for k in keep or [] if k.strip()]
    extra = [e.strip() for e in extra or [] if e.strip()]
    if len(keep) > MAX_CORRECTIONS or len(extra) > MAX_CORRECTIONS:
        raise UserError("masking_too_many", limit=MAX_CORRECTIONS)
    if any(len(t) > MAX_CORRECTION_CHARS for t in [*keep, *extra]):
        raise UserError("masking_too_long", limit=MAX_CORRECTION_CHARS)
    return Masking(tuple(keep), tuple(extra))


def kind_label(kind: str) -> str:
    """What a kind of personal data is called in the page."""
    if kind == EXTRA_KIND:
        return gettext("masked by you")
    return gettext(KIND_LABELS.get(kind, kind.lower()))


def finding_json(item: Planned) -> dict[str, Any]:
    """One span of the preview, as the page's script reads it."""
    return {
        "start": item.start,
        "end": item.end,
        "kind": item.kind,
        "label": kind_label(item.kind),
        "text": item.text,
        "placeholder": item.placeholder,
        "valid": item.valid,
    }


def preview_json(info: ModelInfo, planned: list[Planned] | None) -> dict[str, Any]:
    """The preview: whether masking applies, why not, and each span."""
    if planned is None:
        return {
            "applies": False,
            "message": gettext(
                "%(model)s is cleared for personal data: nothing will be masked.",
                model=info.label,
            ),
            "findings": [],
        }
    return {
        "applies": True,
        "message": gettext(
            "%(model)s is not cleared for personal data: what is ticked below is replaced by "
            "placeholders before it is sent, and put back in the answer.",
            model=info.label,
        )
        if planned
        else gettext("No personal data found: the message is sent as it is."),
        "findings": [finding_json(p) for p in planned],
    }


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
