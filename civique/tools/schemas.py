"""JSON shapes of the tools API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ToolOut(BaseModel):
    """A tool the caller may run, with the JSON schema of its inputs."""

    id: str
    name: str
    description: str
    needs_validation: bool = Field(description="Outputs need a validator's approval to leave.")
    formats: list[str]
    input_schema: dict[str, Any]


class ToolsOut(BaseModel):
    """The tools on in the caller's organisation."""

    tools: list[ToolOut]


class FindingOut(BaseModel):
    """One result of the tool's checker."""

    code: str
    message: str
    severity: str
    start: int | None = None
    end: int | None = None
    paragraph: int | None = None
    excerpt: str = ""


class RunOut(BaseModel):
    """The output a run produced."""

    output_id: int
    status: str = Field(description="ok, or partial when the model failed before the end.")
    parts: int
    validation: str
    needs_validation: bool
    text_withheld: bool = Field(description="True until a validator approves the output.")
    text: str | None
    findings: list[FindingOut]
