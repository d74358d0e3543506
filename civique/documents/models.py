"""Tables of collections, their shares, documents, versions, sections and chunks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, Timestamped, utcnow

SCOPES = ("personal", "team", "unit", "organisation", "public")
ORG_WIDE = ("organisation", "public")
RIGHTS = ("read", "write")


class Collection(Timestamped, Base):
    """A set of documents; `scope` says who reads it, besides the teams and units shared with."""

    __tablename__ = "collections"
    __table_args__ = (
        CheckConstraint("scope != 'team' OR team_id IS NOT NULL", name="team_scope"),
        CheckConstraint("scope != 'unit' OR unit_id IS NOT NULL", name="unit_scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    scope: Mapped[str] = mapped_column(String(16))
    # Kept when the owner's account goes: an organisation-wide collection outlives its creator.
    owner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True, default=None
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True, default=None
    )


class CollectionShare(Timestamped, Base):
    """A collection opened to one team or one unit of its organisation, to read or to write."""

    __tablename__ = "collection_shares"
    __table_args__ = (CheckConstraint("(team_id IS NULL) != (unit_id IS NULL)", name="one_target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True, default=None
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True, default=None
    )
    right: Mapped[str] = mapped_column(String(8), default="read")


VERSION_STATES = ("queued", "parsing", "embedding", "ready", "failed", "superseded", "cancelled")
ACTIVE_STATES = ("queued", "parsing", "embedding")


class Document(Timestamped, Base):
    """A file in a collection; its versions hold the bytes, its current version is searchable."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255))
    # The version searched and cited (the newest that finished ingesting); None until one has.
    current_version_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocumentVersion(Timestamped, Base):
    """One uploaded file of a document, and how far its ingestion went."""

    __tablename__ = "document_versions"
    __table_args__ = (Index("ix_document_versions_collection_sha", "collection_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    org_id: Mapped[int] = mapped_column(Integer, index=True)
    collection_id: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(120), default="")
    storage_key: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    page_count: Mapped[int | None] = mapped_column(Integer, default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    ocr_pages: Mapped[list[int]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A worker holds the version until this time; a later worker may take it over (restart).
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class DocumentSection(Base):
    """The text of one page, slide, sheet or headed section of a version, as parsed."""

    __tablename__ = "document_sections"
    __table_args__ = (Index("ix_document_sections_version_ordinal", "version_id", "ordinal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id", ondelete="CASCADE")
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer, default=None)
    label: Mapped[str | None] = mapped_column(String(300), default=None)
    text: Mapped[str] = mapped_column(Text)


class Chunk(Base):
    """A passage of a version's section: what is indexed, retrieved and cited."""

    __tablename__ = "chunks"
    __table_args__ = (Index("ix_chunks_collection_document", "collection_id", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer)
    collection_id: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[int] = mapped_column(Integer, index=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    # Offsets run from `start` in section `section` to `end` in section `end_section` (ordinals).
    section: Mapped[int] = mapped_column(Integer)
    end_section: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer, default=None)
    label: Mapped[str | None] = mapped_column(String(300), default=None)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    embedded: Mapped[bool] = mapped_column(Boolean, default=False)


class UnansweredQuestion(Timestamped, Base):
    """A question the documents of the selected collections could not answer."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer, index=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class CitationUse(Timestamped, Base):
    """A document cited (verified) in an answer: feeds the "never used" quality report."""

    __tablename__ = "citation_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer, index=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    chunk_id: Mapped[int | None] = mapped_column(Integer, default=None)
    output_id: Mapped[int | None] = mapped_column(Integer, default=None)


class IndexSetting(Base):
    """Facts about the search index, e.g. which embedding model and dimension built its vectors."""

    __tablename__ = "index_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(300))
