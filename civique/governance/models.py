"""Tables of the register of AI-assisted outputs, the admin audit log and their chain heads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from civique.db.base import Base, utcnow


class ChainRow:
    """Columns of one link of a per-organisation hash chain (append-only).

    `actor_id` and `output_id` carry no foreign key on purpose: deleting an account or an output
    must not rewrite (SET NULL) or remove (CASCADE) a link, which would break the chain.
    """

    LINKED: tuple[str, ...] = ()  # extra columns covered by the hash, after the common ones

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed byte for byte
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[object, ...]:
        name = cls.__tablename__  # type: ignore[attr-defined]
        return (
            UniqueConstraint("org_id", "seq", name=f"uq_{name}_org_seq"),
            Index(f"ix_{name}_org_kind", "org_id", "kind"),
            Index(f"ix_{name}_org_at", "org_id", "at"),
        )


class RegisterEvent(ChainRow, Base):
    """An event of the register: an output created, submitted, approved, rejected, edited,
    exported."""

    __tablename__ = "register_events"
    LINKED = ("output_id",)

    output_id: Mapped[int] = mapped_column(Integer, index=True)


class AuditEntry(ChainRow, Base):
    """An entry of the admin audit log: logins, role and policy changes, exports, checks."""

    __tablename__ = "audit_log"


class ChainHead(Base):
    """The last link of a chain, per organisation: the lock appends take, and the stored head
    that reveals a truncated tail."""

    __tablename__ = "chain_heads"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
