"""What the register's JSON API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class RegisterItem(BaseModel):
    """One output in a list of the register."""

    id: int
    created_at: datetime
    user: str | None
    unit: str | None
    tool: str
    model: str
    model_version: str
    validation: str


class RegisterList(BaseModel):
    """A page of the register."""

    items: list[RegisterItem]
    total: int
    page: int
    pages: int


class RegisterEventOut(BaseModel):
    """An event of an output: `intact` is false when the row no longer matches its hash."""

    seq: int
    at: datetime
    kind: str
    by: str | None
    hash: str
    intact: bool
    details: dict[str, Any]


class RegisterEntry(RegisterItem):
    """An output with everything the register knows of it.

    `checks` says, for `input`, `output` and `final`, whether the stored text still matches the
    digest the register holds (null: nothing to compare). `registered` is false for outputs made
    before the register existed.
    """

    prompt_template: str
    prompt_template_version: str
    status: str
    input: list[dict[str, str]]
    output: str
    final_text: str | None
    sources: list[dict[str, Any]]
    registered: bool
    checks: dict[str, bool | None]
    events: list[RegisterEventOut]


class ChainBreak(BaseModel):
    """The first broken link of a chain."""

    seq: int
    reason: str
    message: str


class ChainCheck(BaseModel):
    """One chain's check: entries read, its head, and the first break if any."""

    entries: int
    head_seq: int
    head_hash: str
    broken: ChainBreak | None


class CheckResult(BaseModel):
    """The integrity check of the register and the audit log of the caller's organisation."""

    ok: bool
    register_chain: ChainCheck
    audit_chain: ChainCheck


class CheckRequest(BaseModel):
    """Optionally, a head of the register noted earlier (`hash` or `seq:hash`) that must still be
    in the chain: this also catches a tail removed together with the stored head."""

    expect_head: str | None = Field(default=None, max_length=80)


class DecisionOut(BaseModel):
    """A validator's last decision on an output."""

    decision: str  # approved | rejected
    by: str | None
    at: datetime
    comment: str


class OutputOut(BaseModel):
    """An output as its author or a reader sees it through the API: the texts only once it may
    leave Civique (`text_withheld` says when they are held back)."""

    id: int
    created_at: datetime
    author: str | None
    tool: str
    model: str
    model_version: str
    validation: str
    needs_validation: bool
    exportable: bool
    text_withheld: bool
    decision: DecisionOut | None
    submitted_at: datetime | None
    sources: list[dict[str, Any]]
    output: str | None
    final_text: str | None


class ValidateRequest(BaseModel):
    """A validator's decision."""

    decision: str = Field(max_length=20, description="approve or reject")
    comment: str = Field(default="", max_length=2000, description="required to reject")


class QueueItem(BaseModel):
    """A pending output in the validators' queue."""

    id: int
    tool: str
    author: str | None
    created_at: datetime
    submitted_at: datetime | None


class QueueOut(BaseModel):
    """The outputs awaiting the caller's decision, oldest first."""

    items: list[QueueItem]
