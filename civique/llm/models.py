"""Tables recording every model call (usage) and every AI-assisted output."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, Timestamped


class ModelCall(Timestamped, Base):
    """Usage of one model call: who, which model, tokens, latency, energy estimate."""

    __tablename__ = "model_calls"
    # The Lab's dashboards read one organisation's calls over a period, from the index alone.
    __table_args__ = (
        Index(
            "ix_model_calls_lab",
            "org_id",
            "created_at",
            "tool",
            "model_id",
            "user_id",
            "tokens_in",
            "tokens_out",
            "energy_wh",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    tool: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # chat | embedding | transcription | rerank
    model_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16), default="web")  # web | api
    status: Mapped[str] = mapped_column(String(16))  # ok | stopped | error | refused
    error: Mapped[str | None] = mapped_column(String(200), default=None)
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    first_token_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    energy_wh: Mapped[float] = mapped_column(Float, default=0.0)


class OutputRecord(Timestamped, Base):
    """An AI-assisted output; its history is in the register (`governance/register.py`)."""

    __tablename__ = "output_records"
    __table_args__ = (
        Index("ix_output_records_org_created", "org_id", "created_at"),
        # The validators' queue: the pending outputs of one organisation.
        Index("ix_output_records_org_validation", "org_id", "validation"),
        # The Lab's dashboards: every column they group by, so that a period is read from the
        # index alone, never from the rows with their long texts.
        Index(
            "ix_output_records_lab",
            "org_id",
            "created_at",
            "unit_id",
            "tool",
            "model_id",
            "user_id",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    call_id: Mapped[int] = mapped_column(ForeignKey("model_calls.id", ondelete="CASCADE"))
    tool: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(200))
    prompt_template: Mapped[str] = mapped_column(String(100))
    prompt_template_version: Mapped[str] = mapped_column(String(20))
    input: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    output: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    # The user's unit when the output was made (the user may move later).
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), default=None
    )
    # not_required | pending | approved | rejected: the validation workflow sets it.
    validation: Mapped[str] = mapped_column(
        String(16), default="not_required", server_default="not_required"
    )
    # Passages given to the model: document id, title, version, page (see CallContext.sources).
    sources: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    final_text: Mapped[str | None] = mapped_column(Text, default=None)
    # What was masked before the model saw the input (counts per kind, placeholders), or that
    # the model was cleared for personal data; the values are in the vault under `vault_scope`.
    privacy: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    vault_scope: Mapped[str | None] = mapped_column(String(80), default=None, index=True)
