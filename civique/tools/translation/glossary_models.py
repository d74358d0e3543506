"""Tables of an organisation's translation glossaries and their entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, Timestamped, utcnow


class GlossaryRow(Timestamped, Base):
    """A named glossary of an organisation: French terms and their mandated translations."""

    __tablename__ = "glossaries"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source_language: Mapped[str] = mapped_column(String(8), default="fr")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GlossaryEntryRow(Base):
    """One mandated translation of a term into one language (one per term and language)."""

    __tablename__ = "glossary_entries"
    __table_args__ = (UniqueConstraint("glossary_id", "term_key", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    glossary_id: Mapped[int] = mapped_column(
        ForeignKey("glossaries.id", ondelete="CASCADE"), index=True
    )
    # Kept beside the glossary's so that every lookup filters by tenant without a join.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(String(200))
    # The term without case, accents or repeated spaces: two spellings are one entry.
    term_key: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    translation: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(String(200), default="")
