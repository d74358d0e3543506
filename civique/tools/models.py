"""Tables of the tools: each organisation's settings of a tool, the runs, and the human
proof-readings FALC requires."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, Timestamped

VALIDATION_CHOICES = ("inherit", "always", "never")


class OrgTool(Base):
    """An organisation's setting of one tool; no row means on, with the tool's validation
    default."""

    __tablename__ = "org_tools"
    __table_args__ = (UniqueConstraint("org_id", "tool_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    tool_id: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # inherit (the tool's default) | always | never
    validation: Mapped[str] = mapped_column(String(8), default="inherit")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class ToolRun(Timestamped, Base):
    """One run of a tool: its inputs, the output it produced (possibly from several parts)
    and the output it regenerates, if any."""

    __tablename__ = "tool_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    tool: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # ok | partial | error | stopped
    error: Mapped[str | None] = mapped_column(String(64), default=None)
    parts_total: Mapped[int] = mapped_column(Integer, default=1)
    parts_done: Mapped[int] = mapped_column(Integer, default=0)
    output_id: Mapped[int | None] = mapped_column(
        ForeignKey("output_records.id", ondelete="SET NULL"), index=True, default=None
    )
    previous_output_id: Mapped[int | None] = mapped_column(
        ForeignKey("output_records.id", ondelete="SET NULL"), default=None
    )
    # The output records of each part, when the text was run in several parts.
    part_output_ids: Mapped[list[int] | None] = mapped_column(JSON, default=None)


class Proofreading(Timestamped, Base):
    """A human proof-reading of an output (FALC requires one by a person of the audience or a
    trained proof-reader)."""

    __tablename__ = "tool_proofreadings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    output_id: Mapped[int] = mapped_column(
        ForeignKey("output_records.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    checked_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
