"""Table of an organisation's changes to the default jargon list of the FALC checker."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, Timestamped


class JargonChange(Timestamped, Base):
    """A term the organisation added (or whose suggestion it changed), or a default it removed."""

    __tablename__ = "org_jargon"
    __table_args__ = (UniqueConstraint("org_id", "term_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    term: Mapped[str] = mapped_column(String(100))
    term_key: Mapped[str] = mapped_column(String(100))  # folded: case and accents ignored
    suggestion: Mapped[str] = mapped_column(String(200), default="")
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
