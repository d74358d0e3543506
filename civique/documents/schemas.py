"""What the collection pages and the API show of a collection."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class CollectionSummary(BaseModel):
    """A readable collection with its owner, target and the viewer's right on it."""

    id: int
    name: str
    description: str
    scope: str
    owner_name: str | None
    target_name: str | None  # the team or unit of a team or unit collection
    right: str  # "read" | "write" | "manage"
    created_at: datetime


class ShareSummary(BaseModel):
    """A share of a collection with a team or a unit."""

    id: int
    kind: str  # "team" | "unit"
    target_id: int
    target_name: str
    right: str
