"""Each organisation's settings of the tools: on or off, and whether their outputs need a
validator (the tool's default, always, or never). No row: on, with the tool's default.

`validation.needs_validation` asks `requires_validation` here, after the instance's setting and
the AI-use policy (either of those is enough to require it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.db.base import utcnow
from civique.errors import Forbidden, UserError
from civique.governance import audit
from civique.tools.models import VALIDATION_CHOICES, OrgTool
from civique.tools.registry import Tool, ToolContext, ToolRegistry, UnknownTool, default_registry

if TYPE_CHECKING:
    from pydantic import BaseModel

    from civique.llm.models import OutputRecord


@dataclass(frozen=True)
class ToolSetting:
    """A tool as one organisation set it."""

    tool: Tool
    enabled: bool = True
    validation: str = "inherit"  # inherit | always | never

    @property
    def needs_validation(self) -> bool:
        """The tool's own rule in the organisation (the policy and the instance may add)."""
        if self.validation == "inherit":
            return self.tool.validation_default
        return self.validation == "always"

    def validation_for(self, inputs: BaseModel | None, context: ToolContext | None) -> bool:
        """The rule for an output of these inputs: the tool's own default may depend on them
        (a refusal letter), the organisation's "always" and "never" do not."""
        if self.validation == "inherit":
            return self.tool.default_validation(inputs, context)
        return self.validation == "always"


def _rows(session: Session, org_id: int) -> dict[str, OrgTool]:
    rows = session.scalars(select(OrgTool).where(OrgTool.org_id == org_id)).all()
    return {row.tool_id: row for row in rows}


def org_settings(
    session: Session, org_id: int, registry: ToolRegistry | None = None
) -> list[ToolSetting]:
    """Every registered tool with the organisation's setting, in registry order."""
    rows = _rows(session, org_id)
    found = []
    for tool in (registry or default_registry()).tools():
        row = rows.get(tool.id)
        found.append(ToolSetting(tool, row.enabled, row.validation) if row else ToolSetting(tool))
    return found


def setting_of(
    session: Session, org_id: int, tool_id: str, registry: ToolRegistry | None = None
) -> ToolSetting:
    """One tool's setting in the organisation (`UnknownTool` when not registered)."""
    tool = (registry or default_registry()).get(tool_id)
    row = session.scalar(
        select(OrgTool).where(OrgTool.org_id == org_id, OrgTool.tool_id == tool_id)
    )
    return ToolSetting(tool, row.enabled, row.validation) if row else ToolSetting(tool)


def requires_validation(
    session: Session, org_id: int, tool_id: str, record: OutputRecord | None = None
) -> bool:
    """True when the tool's own rule in the organisation asks for a validator (for `record`'s
    inputs when given); False for ids that are not registered tools (chat, api.chat: the
    policy decides those)."""
    try:
        setting = setting_of(session, org_id, tool_id)
    except UnknownTool:
        return False
    if record is None or setting.tool.validation_of is None:
        return setting.needs_validation
    from civique.tools.outputs import inputs_of  # they read this module: import at call time
    from civique.tools.service import run_of, tool_context

    run = run_of(session, record)
    inputs = inputs_of(setting.tool, run) if run is not None else None
    return setting.validation_for(inputs, tool_context(session, org_id))


def update_settings(
    session: Session,
    actor: User,
    wanted: Mapping[str, tuple[bool, str]],
    registry: ToolRegistry | None = None,
) -> list[ToolSetting]:
    """Save `tool id → (enabled, validation)` for the actor's organisation; every value is
    checked before anything changes and the differences go to the audit log."""
    if not can(actor.role, "tools.manage"):
        raise Forbidden()
    registry = registry or default_registry()
    for tool_id, (_enabled, choice) in wanted.items():
        try:
            registry.get(tool_id)
        except UnknownTool:
            raise UserError("policy_unknown_tool", tool=tool_id[:80]) from None
        if choice not in VALIDATION_CHOICES:
            raise UserError("tool_bad_validation")
    before = {s.tool.id: s for s in org_settings(session, actor.org_id, registry)}
    rows = _rows(session, actor.org_id)
    changes: dict[str, list[object]] = {}
    for tool_id, (enabled, choice) in wanted.items():
        old = before[tool_id]
        if (old.enabled, old.validation) == (enabled, choice):
            continue
        changes[tool_id] = [
            {"enabled": old.enabled, "validation": old.validation},
            {"enabled": enabled, "validation": choice},
        ]
        row = rows.get(tool_id) or OrgTool(org_id=actor.org_id, tool_id=tool_id)
        row.enabled, row.validation = enabled, choice
        row.updated_at, row.updated_by = utcnow(), actor.id
        session.add(row)
    if changes:
        audit.record(session, actor.org_id, actor, "tools.changed", changes=changes)
        session.commit()
    return org_settings(session, actor.org_id, registry)
