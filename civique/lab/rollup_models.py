"""Weekly rollups of the dashboards' raw tables, one row per person and cell (see rollups.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, utcnow

# The problems of feedback.PROBLEMS, one counter column each (same order).
PROBLEM_COLUMNS = ("factual_error", "wrong_citation", "tone", "legal", "bias", "other")
MARK_COLUMNS = ("mark_1", "mark_2", "mark_3", "mark_4", "mark_5")


class LabOutputsWeekly(Base):
    """Outputs of one person in one ISO week, unit (of the output), tool and model."""

    __tablename__ = "lab_outputs_weekly"
    __table_args__ = (
        Index("ix_lab_outputs_weekly_read", "org_id", "week", "unit_id", "tool", "model_id",
              "user_id", "outputs"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    week: Mapped[date] = mapped_column(Date)  # the Monday
    unit_id: Mapped[int | None] = mapped_column(Integer, default=None)
    tool: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(200))
    # No foreign key: an erased account empties the rollups of its organisation (rollups.py).
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    outputs: Mapped[int] = mapped_column(Integer)


class LabCallsWeekly(Base):
    """Model calls of one person in one ISO week, tool and model, with their cost."""

    __tablename__ = "lab_calls_weekly"
    __table_args__ = (
        Index("ix_lab_calls_weekly_read", "org_id", "week", "tool", "model_id", "user_id",
              "calls", "tokens_in", "tokens_out", "energy_wh"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    week: Mapped[date] = mapped_column(Date)
    tool: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    calls: Mapped[int] = mapped_column(Integer)
    tokens_in: Mapped[int] = mapped_column(Integer)
    tokens_out: Mapped[int] = mapped_column(Integer)
    energy_wh: Mapped[float] = mapped_column(Float)


class LabFeedbackWeekly(Base):
    """Feedback of one person on the outputs of one ISO week, unit, tool, model and author."""

    __tablename__ = "lab_feedback_weekly"
    __table_args__ = (Index("ix_lab_feedback_weekly_read", "org_id", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    week: Mapped[date] = mapped_column(Date)  # the week of the outputs, not of the feedback
    unit_id: Mapped[int | None] = mapped_column(Integer, default=None)
    tool: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(200))
    output_user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    user_id: Mapped[int] = mapped_column(Integer)
    feedback: Mapped[int] = mapped_column(Integer)
    minutes_n: Mapped[int] = mapped_column(Integer)
    minutes_sum: Mapped[int] = mapped_column(Integer)
    without_n: Mapped[int] = mapped_column(Integer)
    without_sum: Mapped[int] = mapped_column(Integer)
    satisfaction_n: Mapped[int] = mapped_column(Integer)
    satisfaction_sum: Mapped[int] = mapped_column(Integer)
    mark_1: Mapped[int] = mapped_column(Integer)
    mark_2: Mapped[int] = mapped_column(Integer)
    mark_3: Mapped[int] = mapped_column(Integer)
    mark_4: Mapped[int] = mapped_column(Integer)
    mark_5: Mapped[int] = mapped_column(Integer)
    factual_error: Mapped[int] = mapped_column(Integer)
    wrong_citation: Mapped[int] = mapped_column(Integer)
    tone: Mapped[int] = mapped_column(Integer)
    legal: Mapped[int] = mapped_column(Integer)
    bias: Mapped[int] = mapped_column(Integer)
    other: Mapped[int] = mapped_column(Integer)


class LabRollupWeek(Base):
    """A closed ISO week of an organisation whose rollup rows are complete and current."""

    __tablename__ = "lab_rollup_weeks"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
