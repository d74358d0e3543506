"""Helpers of the governance tests: outputs recorded as the gateway records them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civique.llm.types import ChatMessage, ModelInfo
from civique.llm.usage import CallContext, CallOutcome, record_call
from civique.settings import Settings
from tests.helpers import Tenant

FAKE = ModelInfo("fake/echo", "fake", "chat", "Fake echo", "fake-1")


def make_output(
    db: Session,
    settings: Settings,
    tenant: Tenant,
    text: str = "Brouillon de courrier",
    role: str = "agent",
    tool: str = "chat",
    sources: tuple[dict[str, Any], ...] = (),
) -> int:
    """Record one AI output of `tenant`'s user of `role` (with its register entry); its id."""
    user = tenant.users[role]
    ctx = CallContext(
        org_id=tenant.org.id, user_id=user.id, role=user.role, tool=tool, sources=sources
    )
    messages = [ChatMessage("user", f"Rédige : {text}")]
    _, output_id = record_call(
        db, settings, ctx, FAKE, "chat", CallOutcome("ok", 3, 4), messages, text
    )
    assert output_id is not None
    return output_id
