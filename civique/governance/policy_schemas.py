"""Bodies of the policy API (`GET/PUT /api/v1/policy`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class RetentionDays(BaseModel):
    """Retention periods in days (1 to 36,500); null keeps forever. Every kind is required in a
    PUT, so that a forgotten field never silently turns into "keep forever"."""

    # `register` would shadow a method of pydantic's models: the field is named otherwise.
    model_config = ConfigDict(extra="forbid", validate_by_name=True, serialize_by_alias=True)

    conversations: int | None
    documents: int | None
    audio: int | None = Field(description="Nothing stores audio yet; the period is kept.")
    vault: int | None
    register_entries: int | None = Field(
        alias="register",
        description="Register entries are kept at least this long and never purged: the "
        "register is a hash chain.",
    )


class PolicyIn(BaseModel):
    """The whole policy, as a PUT replaces it."""

    model_config = ConfigDict(extra="forbid")

    validation_tools: list[str] = Field(max_length=50)
    retention_days: RetentionDays
    legal_hold: bool


class ToolOut(BaseModel):
    """A tool whose outputs may need validation."""

    id: str
    label: str


class CharterOut(BaseModel):
    """The current version of the usage charter."""

    version: int
    published_at: datetime


class PolicyOut(PolicyIn):
    """The policy, the tools it may name, and the current charter."""

    known_tools: list[ToolOut]
    charter: CharterOut | None
    updated_at: datetime | None
