"""Tables of document collections and their shares with teams and units."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, Timestamped

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
