"""The plain-language / FALC tool: its inputs, prompts and checker hook."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from civique.errors import N_
from civique.llm.types import ChatMessage
from civique.tools.plain_language import checks
from civique.tools.plain_language.jargon import DEFAULT_JARGON
from civique.tools.plain_language.jargon_store import jargon_for
from civique.tools.registry import Finding, Tool, ToolContext, delimited

TEXT_MAX_CHARS = 60_000
LEVELS: dict[str, Any] = {
    "plain": N_("Plain administrative language"),
    "falc": N_("FALC (easy to read)"),
}


class PlainLanguageInput(BaseModel):
    """What the agent gives: the text, the level, and optionally who will read it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(
        title=N_("Text to rewrite"),
        description=N_("Paste the administrative text; paragraphs separated by a blank line."),
        min_length=1,
        max_length=TEXT_MAX_CHARS,
        json_schema_extra={"widget": "textarea"},
    )
    level: Literal["plain", "falc"] = Field(
        default="plain",
        title=N_("Level"),
        description=N_(
            "Plain language for every reader; FALC for people with reading difficulties "
            "(it must then be proof-read by a person of the audience)."
        ),
        json_schema_extra={"labels": LEVELS},
    )
    audience: str | None = Field(
        default=None,
        title=N_("Readers"),
        description=N_("Optional: who will read the text, e.g. families applying for a grant."),
        max_length=200,
    )


def build_messages(inputs: BaseModel, context: ToolContext, tool: Tool) -> list[ChatMessage]:
    """The system prompt of the level, and the text as delimited data."""
    assert isinstance(inputs, PlainLanguageInput)
    system = tool.template(inputs.level).render(org_name=context.org_name)
    user = tool.template("request").render(
        audience=delimited("lecteurs", inputs.audience) if inputs.audience else "",
        text=delimited("texte", inputs.text),
    )
    return [ChatMessage("system", system), ChatMessage("user", user)]


def check(text: str, inputs: BaseModel, context: ToolContext) -> list[Finding]:
    """FALC rules (with the organisation's jargon list) and the readability score of the
    rewritten text (see `checks`)."""
    level = inputs.level if isinstance(inputs, PlainLanguageInput) else "plain"
    jargon = jargon_for(context.db(), context.org_id) if context.session else DEFAULT_JARGON
    return checks.findings(text, level, jargon)


TOOL = Tool(
    id="plain_language",
    name=N_("Plain language and FALC"),
    description=N_(
        "Rewrites an administrative text in plain language, or in FALC (easy to read and "
        "understand), and checks the result against the FALC rules."
    ),
    input_model=PlainLanguageInput,
    build_messages=build_messages,
    prompts_dir=Path(__file__).parent / "prompts",
    validation_default=False,
    check=check,
    split_field="text",
    template_of=lambda inputs: str(getattr(inputs, "level", "plain")),
    proofreading=lambda inputs: getattr(inputs, "level", "") == "falc",
    proofreading_mention=N_("FALC proof-read by %(name)s (%(role)s) on %(date)s."),
)
