"""Tables of the organisation's AI-use policy and of its usage charter (versions, acceptances)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, Timestamped, utcnow


class OrgPolicy(Base):
    """One organisation's AI-use policy; no row means the defaults (nothing validated, nothing
    purged, no legal hold)."""

    __tablename__ = "org_policies"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    # Tool ids whose outputs a validator approves before they leave the building.
    validation_tools: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Retention periods in days; None keeps forever.
    conversations_days: Mapped[int | None] = mapped_column(Integer, default=None)
    documents_days: Mapped[int | None] = mapped_column(Integer, default=None)
    audio_days: Mapped[int | None] = mapped_column(Integer, default=None)
    vault_days: Mapped[int | None] = mapped_column(Integer, default=None)
    register_days: Mapped[int | None] = mapped_column(Integer, default=None)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class Charter(Timestamped, Base):
    """One published version of an organisation's usage charter (never changed afterwards)."""

    __tablename__ = "charters"
    __table_args__ = (UniqueConstraint("org_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)  # Markdown, rendered sanitised
    published_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class CharterAcceptance(Base):
    """A user accepted one version of the charter, at a given time."""

    __tablename__ = "charter_acceptances"
    __table_args__ = (UniqueConstraint("charter_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    charter_id: Mapped[int] = mapped_column(
        ForeignKey("charters.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
