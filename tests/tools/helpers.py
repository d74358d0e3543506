"""Helpers of the tools tests: tool outputs recorded as a run records them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from civique.settings import Settings
from civique.tools.models import ToolRun
from tests.governance.outputs import make_output
from tests.helpers import Tenant


def make_tool_output(
    db: Session, settings: Settings, tenant: Tenant, text: str, level: str = "plain"
) -> int:
    """An output of the plain-language tool by `tenant`'s agent, with its run; its id."""
    output_id = make_output(db, settings, tenant, text, tool="plain_language")
    agent = tenant.users["agent"]
    db.add(
        ToolRun(
            org_id=tenant.org.id,
            user_id=agent.id,
            tool="plain_language",
            inputs={"text": f"Texte source : {text}", "level": level, "audience": None},
            model_id="fake/echo",
            status="ok",
            parts_done=1,
            output_id=output_id,
        )
    )
    db.commit()
    return output_id
