"""JSON shapes of the feedback API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class FeedbackIn(BaseModel):
    """A feedback or a change to it: the fields left out are kept as they were."""

    helped: bool | None = Field(default=None, description="required the first time")
    minutes_saved: int | None = Field(default=None, description="0 to 480")
    minutes_without_ai: int | None = Field(
        default=None, description="how long the task takes without AI, 0 to 480"
    )
    satisfaction: int | None = Field(default=None, description="1 to 5")
    problems: list[str] | None = Field(
        default=None,
        max_length=6,
        description="among factual_error, wrong_citation, tone, legal, bias, other",
    )
    comment: str | None = Field(default=None, max_length=1000)
    usage: str | None = Field(default=None, description="as_is, edited or discarded")


class FeedbackOut(BaseModel):
    """The caller's feedback on an output (`given` false and empty fields when none yet)."""

    output_id: int
    given: bool
    helped: bool | None = None
    minutes_saved: int | None = None
    minutes_without_ai: int | None = None
    satisfaction: int | None = None
    problems: list[str] = Field(default_factory=list)
    comment: str = ""
    usage: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
