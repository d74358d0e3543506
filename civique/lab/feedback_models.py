"""Tables of the Lab's field data: feedback on outputs and the units' irritants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, Timestamped, utcnow


class LabFeedback(Timestamped, Base):
    """One agent's feedback on one output (one per output and user, updated in place)."""

    __tablename__ = "lab_feedback"
    __table_args__ = (
        UniqueConstraint("output_id", "user_id"),
        # Dashboards read one organisation's feedback and join it to its outputs.
        Index("ix_lab_feedback_org_output", "org_id", "output_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    output_id: Mapped[int] = mapped_column(ForeignKey("output_records.id", ondelete="CASCADE"))
    # Personal data of the agent: it goes with their account.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    helped: Mapped[bool] = mapped_column(Boolean)
    minutes_saved: Mapped[int | None] = mapped_column(Integer, default=None)
    minutes_without_ai: Mapped[int | None] = mapped_column(Integer, default=None)
    satisfaction: Mapped[int | None] = mapped_column(Integer, default=None)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The same problems as bits (see feedback.PROBLEMS), so the database counts them.
    problem_flags: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    comment: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    usage: Mapped[str | None] = mapped_column(String(16), default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LabIrritant(Timestamped, Base):
    """A unit's irritant with its quantitative baseline, ranked by potential value."""

    __tablename__ = "lab_irritants"
    __table_args__ = (Index("ix_lab_irritants_org_unit", "org_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    # Kept when the unit is deleted: the innovation leads still see it.
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    minutes_per_task: Mapped[int] = mapped_column(Integer)
    tasks_per_month: Mapped[int] = mapped_column(Integer)
    error_rate: Mapped[float] = mapped_column(Float, default=0.0)  # percent, 0-100
    people_affected: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
