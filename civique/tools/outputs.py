"""What a tool adds to its outputs' page: the tool's name, its checker's findings on the
current text, the run's parts, the versions before and after a regeneration, and the human
proof-readings (FALC requires one; exports then say who proof-read it).

The output itself is authorised by `governance.validation` (its author, or a reader of the
organisation's outputs); everything here reads the same organisation's rows only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import UserError
from civique.governance.validation import (
    Segment,
    current_text,
    own,
    readable,
    word_diff,
)
from civique.i18n import format_date, gettext
from civique.llm.models import OutputRecord
from civique.textcheck import clean_text
from civique.tools.models import Proofreading, ToolRun
from civique.tools.registry import Finding, Tool, ToolRegistry, UnknownTool, default_registry
from civique.tools.service import run_of, tool_context

NAME_MAX_CHARS = 200


@dataclass
class OutputTool:
    """A tool output's extras on its page."""

    tool: Tool
    run: ToolRun
    inputs: BaseModel | None
    findings: list[Finding]
    previous_id: int | None
    later_ids: list[int]
    proofreadings: list[Proofreading] = field(default_factory=list)
    needs_proofreading: bool = False
    panel: Mapping[str, Any] = field(default_factory=dict)  # the tool's `panel` data

    @property
    def partial(self) -> bool:
        """The model failed before the end: the text holds only the parts it finished."""
        return self.run.status == "partial"


def tool_of(record: OutputRecord, registry: ToolRegistry | None = None) -> Tool | None:
    """The registered tool that made the output, if any."""
    try:
        return (registry or default_registry()).get(record.tool)
    except UnknownTool:
        return None


def inputs_of(tool: Tool, run: ToolRun) -> BaseModel | None:
    """The run's inputs as the tool's model (None if the schema changed since)."""
    try:
        return tool.input_model.model_validate(run.inputs)
    except ValidationError:
        return None


def output_tool(
    session: Session, record: OutputRecord, registry: ToolRegistry | None = None
) -> OutputTool | None:
    """The extras of an output the caller already may read; None for other outputs."""
    tool = tool_of(record, registry)
    run = run_of(session, record) if tool is not None else None
    if tool is None or run is None:
        return None
    inputs = inputs_of(tool, run)
    text = current_text(record)
    # The passages given to the model come with the record: checks verify citations on them.
    context = replace(tool_context(session, record.org_id), sources=tuple(record.sources or ()))
    findings = (
        tool.check(text, inputs, context) if tool.check is not None and inputs is not None else []
    )
    panel = tool.panel(text, inputs, context) if tool.panel is not None else {}
    later = session.scalars(
        select(ToolRun.output_id).where(
            ToolRun.org_id == record.org_id,
            ToolRun.previous_output_id == record.id,
            ToolRun.output_id.is_not(None),
        )
    ).all()
    return OutputTool(
        tool=tool,
        run=run,
        inputs=inputs,
        findings=findings,
        previous_id=run.previous_output_id,
        later_ids=[i for i in later if i is not None],
        proofreadings=proofreadings(session, record),
        needs_proofreading=bool(inputs is not None and tool.needs_proofreading(inputs)),
        panel=panel,
    )


@dataclass(frozen=True)
class Comparison:
    """An output against the version it regenerated."""

    previous: OutputRecord
    current: OutputRecord
    diff: list[Segment]


def compare(session: Session, actor: User, output_id: int) -> Comparison | None:
    """The differences from the previous version's text to this one's; None without one."""
    record = readable(session, actor, output_id)
    run = run_of(session, record)
    if run is None or run.previous_output_id is None:
        return None
    previous = session.get(OutputRecord, run.previous_output_id)
    if previous is None or previous.org_id != record.org_id:
        return None
    return Comparison(previous, record, word_diff(current_text(previous), current_text(record)))


# Proof-reading ----------------------------------------------------------------------------------


def proofreadings(session: Session, record: OutputRecord) -> list[Proofreading]:
    """The output's proof-readings, latest first."""
    return list(
        session.scalars(
            select(Proofreading)
            .where(Proofreading.org_id == record.org_id, Proofreading.output_id == record.id)
            .order_by(Proofreading.id.desc())
        )
    )


def record_proofreading(
    session: Session, actor: User, output_id: int, name: str, role: str, checked_on: str
) -> Proofreading:
    """Note who proof-read one's own output, in what capacity and when (not in the future)."""
    record = own(session, actor, output_id)
    name = clean_text(name, NAME_MAX_CHARS, allow_empty=True)
    role = clean_text(role, NAME_MAX_CHARS, allow_empty=True)
    if not name or not role:
        raise UserError("proofreading_who")
    try:
        day = dt.date.fromisoformat(checked_on.strip())
    except ValueError:
        raise UserError("proofreading_date") from None
    if day > dt.date.today():
        raise UserError("proofreading_date")
    row = Proofreading(
        org_id=record.org_id,
        output_id=record.id,
        name=name,
        role=role,
        checked_on=day,
        recorded_by=actor.id,
    )
    session.add(row)
    session.commit()
    return row


def proofreading_mention(session: Session, record: OutputRecord) -> str | None:
    """The sentence exports add once a proof-reading is recorded (FALC: "relu par …")."""
    found = proofreadings(session, record)
    if not found:
        return None
    latest = found[0]
    tool = tool_of(record)
    values = {"name": latest.name, "role": latest.role, "date": format_date(latest.checked_on)}
    if tool is not None and tool.proofreading_mention:
        return gettext(tool.proofreading_mention, **values)
    return gettext("Proof-read by %(name)s (%(role)s) on %(date)s.", **values)


def tool_notice(record: OutputRecord) -> str | None:
    """The warning the output's tool puts on its outputs and exports, translated; or None."""
    tool = tool_of(record)
    return gettext(tool.notice) if tool is not None and tool.notice else None
