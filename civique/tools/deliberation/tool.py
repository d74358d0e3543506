"""The deliberations and notes tool: its inputs (with the vote's consistency), the passages it
grounds on, its prompts per kind and its checker (structure of the genre, then citations)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from civique.chat import grounded
from civique.documents.search import QUERY_LIMIT
from civique.errors import N_, NotFound
from civique.i18n import gettext
from civique.llm.types import ChatMessage
from civique.llm.usage import CallContext
from civique.tools import findings
from civique.tools.deliberation import checklist, citations
from civique.tools.registry import Finding, Tool, ToolContext, delimited

if TYPE_CHECKING:
    from civique.llm.gateway import Gateway

TOOL_ID = "deliberation"
# A deliberation is drafted in one call: a longer case summary is refused with this limit.
SUMMARY_MAX_CHARS = 6_000
MAX_MEMBERS = 500  # the largest French councils (Paris: 163; big EPCI: about 250)
MAX_COLLECTIONS = 10
KINDS: dict[str, Any] = {
    "fr_commune": N_("Deliberation of a French commune or EPCI"),
    "ch_arrete": N_("Swiss arrêté or décision"),
    "note": N_("Note to elected officials"),
}
# What the request asks the model to write, per kind (the prompts are French).
_WHAT = {
    "fr_commune": "projet de délibération",
    "ch_arrete": "projet d'arrêté ou de décision",
    "note": "note aux élus",
}
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)
NOTICE = N_("Draft — legal validity not guaranteed: have it checked before it is adopted.")


def _count(title: str, description: str) -> Any:
    return Field(default=None, title=title, description=description, ge=0, le=MAX_MEMBERS)


def _rule(code: str, message: str, **params: object) -> PydanticCustomError:
    """A refusal whose translated message the form shows next to the field."""
    return PydanticCustomError(code, message, {"source_message": message, **params})


class DeliberationInput(BaseModel):
    """The case: kind of act, authority, object, summary, dates, optional vote and sources."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["fr_commune", "ch_arrete", "note"] = Field(
        default="fr_commune", title=N_("Kind of document"), json_schema_extra={"labels": KINDS}
    )
    authority: str = Field(
        title=N_("Assembly or authority"),
        description=N_("For example: Conseil municipal de Villebois, Municipalité de Nyon."),
        min_length=1,
        max_length=200,
    )
    title: str = Field(
        title=N_("Object"),
        description=N_("The subject of the decision, as its title will say it."),
        min_length=1,
        max_length=300,
    )
    summary: str = Field(
        title=N_("Case summary"),
        description=N_(
            "The facts, what is decided, amounts and dates, the texts it rests on if you know "
            "them. A deliberation is drafted in one go: at most 6,000 characters."
        ),
        min_length=1,
        max_length=SUMMARY_MAX_CHARS,
        json_schema_extra={"widget": "textarea"},
    )
    meeting_date: dt.date = Field(title=N_("Meeting date"))
    convocation_date: dt.date | None = Field(
        default=None,
        title=N_("Convocation date"),
        description=N_("The day the members were convened (before the meeting)."),
    )
    members_in_office: int | None = Field(
        default=None,
        title=N_("Members in office"),
        description=N_("Optional, as are the attendance and vote fields below."),
        ge=1,
        le=MAX_MEMBERS,
    )
    members_present: int | None = _count(N_("Members present"), "")
    members_represented: int | None = _count(
        N_("Members represented"), N_("Absent members who gave a proxy to a present member.")
    )
    votes_for: int | None = _count(N_("Votes for"), "")
    votes_against: int | None = _count(N_("Votes against"), "")
    votes_abstention: int | None = _count(N_("Abstentions"), "")
    collections: str | None = Field(
        default=None,
        title=N_("Collections to ground on"),
        description=N_(
            "Optional: the numbers of document collections you may read (see Documents), "
            "separated by commas. The draft cites their passages as [1], [2]…"
        ),
        max_length=200,
    )

    @field_validator("convocation_date")
    @classmethod
    def _convened_before(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        meeting = info.data.get("meeting_date")
        if value is not None and meeting is not None and value > meeting:
            raise _rule("delib_convocation_after", N_("The convocation must precede the meeting."))
        return value

    @field_validator("members_present", "members_represented")
    @classmethod
    def _attendance(cls, value: int | None, info: ValidationInfo) -> int | None:
        office, present = info.data.get("members_in_office"), info.data.get("members_present")
        if value is None:
            return value
        represented = info.field_name == "members_represented"
        attending = value + ((present or 0) if represented else 0)
        if office is not None and attending > office:
            raise _rule(
                "delib_attendance",
                N_("Present and represented members (%(total)s) exceed the %(office)s in office."),
                total=attending,
                office=office,
            )
        if represented and present is not None and value > present:
            raise _rule(
                "delib_proxies", N_("Each present member holds at most one proxy (%(limit)s)."),
                limit=present,
            )
        return value

    @field_validator("votes_for", "votes_against", "votes_abstention")
    @classmethod
    def _votes(cls, value: int | None, info: ValidationInfo) -> int | None:
        present = info.data.get("members_present")
        if value is None or present is None:
            return value
        voters = present + (info.data.get("members_represented") or 0)
        earlier = ("votes_for", "votes_against", "votes_abstention")
        total = value + sum(
            info.data.get(name) or 0 for name in earlier[: earlier.index(str(info.field_name))]
        )
        if total > voters:
            raise _rule(
                "delib_votes",
                N_("Votes for, against and abstentions (%(total)s) exceed the %(voters)s "
                   "members present or represented."),
                total=total,
                voters=voters,
            )
        return value

    @field_validator("collections")
    @classmethod
    def _collection_numbers(cls, value: str | None) -> str | None:
        if not value:
            return None
        numbers = re.split(r"[\s,;]+", value.strip(" ,;"))
        if not all(n.isdigit() for n in numbers) or len(numbers) > MAX_COLLECTIONS:
            raise _rule(
                "delib_collections",
                N_("Give at most %(limit)s collection numbers separated by commas, e.g. 3, 7."),
                limit=MAX_COLLECTIONS,
            )
        return ", ".join(dict.fromkeys(str(int(n)) for n in numbers))

    @property
    def collection_ids(self) -> list[int]:
        """The chosen collections' ids."""
        return [int(n) for n in self.collections.split(",")] if self.collections else []


# Grounding ----------------------------------------------------------------------------------------


async def gather(inputs: BaseModel, context: ToolContext, gateway: Gateway) -> ToolContext:
    """The passages of the chosen collections the user may read (any other refused), kept as
    the run's sources."""
    assert isinstance(inputs, DeliberationInput)
    if not inputs.collection_ids or context.actor is None:
        return context
    session, actor = context.db(), context.actor
    try:
        collections = grounded.checked_collections(session, actor, inputs.collection_ids)
    except NotFound:
        from civique.tools.service import InvalidInputs  # the runner imports the tools

        message = gettext("You cannot read one of these collections, or it does not exist.")
        raise InvalidInputs(
            {"collections": message}, gettext(N_("Collections to ground on"))
        ) from None
    ctx = CallContext(org_id=actor.org_id, user_id=actor.id, role=actor.role, tool=TOOL_ID)
    query = f"{inputs.title}\n{inputs.summary}"[:QUERY_LIMIT]
    passages = await grounded.retrieve(gateway, session, actor, ctx, query, collections)
    return dataclasses.replace(
        context, sources=grounded.sources_of(session, passages), extra={"passages": passages}
    )


# Prompt -------------------------------------------------------------------------------------------


def french_date(day: dt.date) -> str:
    """A date written out in French, whatever the reader's language: "1er mars 2027"."""
    months = _MONTHS
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {months[day.month - 1]} {day.year}"


def facts(inputs: DeliberationInput) -> str:
    """The dates and numbers the agent gave, one per line, for the model to copy."""
    lines = [f"Séance du {french_date(inputs.meeting_date)}"]
    if inputs.convocation_date:
        lines.append(f"Convocation du {french_date(inputs.convocation_date)}")
    named = (
        ("Membres en exercice", inputs.members_in_office),
        ("Présents", inputs.members_present),
        ("Représentés", inputs.members_represented),
        ("Pour", inputs.votes_for),
        ("Contre", inputs.votes_against),
        ("Abstentions", inputs.votes_abstention),
    )
    lines += [f"{label} : {value}" for label, value in named if value is not None]
    return "\n".join(lines)


def build_messages(inputs: BaseModel, context: ToolContext, tool: Tool) -> list[ChatMessage]:
    """The kind's system prompt, then sources and the agent's text as delimited data."""
    assert isinstance(inputs, DeliberationInput)
    system = tool.template(inputs.kind).render(
        org_name=context.org_name, authority=grounded.neutralise(inputs.authority)
    )
    passages = context.extra.get("passages") or []
    user = tool.template("request").render(
        sources="\n".join(grounded.source_block(p) for p in passages),
        title=delimited("objet", inputs.title),
        facts=delimited("elements", facts(inputs)),
        summary=delimited("expose", inputs.summary),
        what=_WHAT[inputs.kind],
    )
    return [ChatMessage("system", system), ChatMessage("user", user)]


# Checker ------------------------------------------------------------------------------------------


def check(text: str, inputs: BaseModel, context: ToolContext) -> list[Finding]:
    """The genre's structural checklist, then the citations against the run's sources."""
    kind = inputs.kind if isinstance(inputs, DeliberationInput) else "fr_commune"
    found = checklist.check(text, kind)
    found += citations.check(text, context)
    return findings.shown(found, text)


TOOL = Tool(
    id=TOOL_ID,
    name=N_("Deliberations and notes"),
    description=N_(
        "Drafts a council deliberation (French commune or EPCI), a Swiss arrêté or décision, "
        "or a note to elected officials from a case summary and your documents, with citations "
        "and a structural checklist."
    ),
    input_model=DeliberationInput,
    build_messages=build_messages,
    prompts_dir=Path(__file__).parent / "prompts",
    validation_default=True,
    check=check,
    gather=gather,
    template_of=lambda inputs: str(getattr(inputs, "kind", "fr_commune")),
    notice=NOTICE,
)
