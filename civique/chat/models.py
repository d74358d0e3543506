"""Tables of conversations and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, Timestamped, utcnow


class Conversation(Timestamped, Base):
    """A chat belonging to one user of one organisation."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    model_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Message(Timestamped, Base):
    """One turn. Assistant messages move pending → streaming → done | stopped | error."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="done")
    error: Mapped[str | None] = mapped_column(String(64), default=None)
    model_id: Mapped[str | None] = mapped_column(String(200), default=None)
    output_id: Mapped[int | None] = mapped_column(
        ForeignKey("output_records.id", ondelete="SET NULL"), default=None
    )
    # Grounded answers: the verified citations shown under the reply (see chat/grounded.py).
    citations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    # Grounded questions: the collections asked and what verification found (flags, not found).
    grounding: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # A question: the agent's corrections to the masking ({"keep": [...], "extra": [...]}).
    masking: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # A reply: what was masked before the model saw the conversation (no values).
    privacy: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
