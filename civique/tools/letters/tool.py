"""The letters tool: a letter drafted from one of the organisation's templates, its variables,
the request it answers and, optionally, passages of collections the user may read (cited [n]);
checked for the template kind's required mentions and for its citations.

The form is in one page: the template (a select of the organisation's enabled templates), then
the chosen template's variables (a group of fields that follows the choice), the request and the
collections. Everything is checked in `gather`, before the prompt, and refused field by field.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.chat import grounded
from civique.documents.search import QUERY_LIMIT
from civique.documents.service import list_collections
from civique.errors import N_, NotFound
from civique.i18n import gettext
from civique.llm.gateway import Gateway
from civique.llm.types import ChatMessage
from civique.llm.usage import CallContext
from civique.tools import forms
from civique.tools.findings import Finding as CheckFinding
from civique.tools.findings import shown
from civique.tools.letters import citations, library, mentions
from civique.tools.registry import Finding, Tool, ToolContext, delimited
from civique.tools.service import InvalidInputs

TOOL_ID = "letters"
REQUEST_MAX_CHARS = 8_000
MAX_COLLECTIONS = 5
PASSAGES = 3  # the embedded model reads 4k tokens: template, request, 3 excerpts and the letter
REPLY_TOKENS = 1_100  # a one-page letter is 300 to 600 words
TEMPLATES_SOURCE, COLLECTIONS_SOURCE, VARIABLES_SOURCE = (
    "letter_templates",
    "readable_collections",
    "template_variables",
)
_TO_COMPLETE = re.compile(r"\[\s*[àa]\s+compl[ée]ter[^\]]*\]", re.IGNORECASE)
_VARIABLE_WIDGETS = {"multiline": "textarea", "date": "date", "amount": "text", "text": "text"}
_HINTS = {
    "date": N_("Day, month and year."),
    "amount": N_("In figures, for example 1 234,50 €."),
}


class LetterInput(BaseModel):
    """The template, its variables, the request answered and the collections to ground on."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    template: str = Field(
        title=N_("Letter template"),
        description=N_("The kind of letter; the fields below follow the template chosen."),
        min_length=1,
        max_length=40,
        json_schema_extra={"choices_from": TEMPLATES_SOURCE},
    )
    variables: dict[str, str] = Field(
        default_factory=dict,
        title=N_("Details of the letter"),
        description=N_("What the template needs; what you leave out is not invented."),
        max_length=library.MAX_VARIABLES,
        json_schema_extra={"fields_from": VARIABLES_SOURCE},
    )
    request: str | None = Field(
        default=None,
        title=N_("Request or context"),
        description=N_(
            "Optional: the letter you answer or the facts of the case, pasted as text. It is "
            "given to the model as data."
        ),
        max_length=REQUEST_MAX_CHARS,
        json_schema_extra={"widget": "textarea"},
    )
    collections: list[int] = Field(
        default_factory=list,
        title=N_("Documents to ground the letter on"),
        description=N_(
            "Optional: collections whose passages the letter may cite ([1], [2]…), e.g. the "
            "regulation applied."
        ),
        max_length=MAX_COLLECTIONS,
        json_schema_extra={"choices_from": COLLECTIONS_SOURCE},
    )


def _inputs(inputs: BaseModel) -> LetterInput:
    assert isinstance(inputs, LetterInput)
    return inputs


# Form options -----------------------------------------------------------------------------------


def choices(source: str, context: ToolContext) -> list[tuple[str, str]]:
    """The enabled templates of the organisation, or the collections the user may read."""
    session = context.db()
    if source == TEMPLATES_SOURCE:
        return [(t.id, t.title_for()) for t in library.list_templates(session, context.org_id)]
    if source == COLLECTIONS_SOURCE and context.actor is not None:
        return [(str(c.id), c.name) for c in list_collections(session, context.actor)]
    return []


def subfields(source: str, values: Any, context: ToolContext) -> list[forms.FormField]:
    """The chosen template's variables as form fields (the first template when none is)."""
    if source != VARIABLES_SOURCE:
        return []
    template = _chosen(context.db(), context.org_id, str(values.get("template") or ""))
    if template is None:
        return []
    return [_variable_field(v) for v in template.variables]


def _chosen(session: Session, org_id: int, template_id: str) -> library.LetterTemplate | None:
    offered = library.list_templates(session, org_id)
    return next((t for t in offered if t.id == template_id), offered[0] if offered else None)


def _variable_field(var: library.Variable) -> forms.FormField:
    return forms.FormField(
        name=f"variables{forms.SUBFIELD_SEPARATOR}{var.name}",
        widget=_VARIABLE_WIDGETS.get(var.type, "text"),
        label=var.label_for(),
        help=_HINTS.get(var.type, ""),
        required=var.required,
        default=None,
        max_length=library.MAX_MULTILINE if var.type == "multiline" else library.MAX_TEXT,
        rows=4,
    )


# Gathering --------------------------------------------------------------------------------------


async def gather(inputs: BaseModel, context: ToolContext, gateway: Gateway) -> ToolContext:
    """The template (one the organisation offers), the variables checked, the collections the
    user may read, the letterhead, and the passages retrieved from those collections."""
    letter = _inputs(inputs)
    session, actor = context.db(), context.actor
    assert actor is not None
    template, errors = _checked(session, actor, letter)
    if errors:
        raise InvalidInputs(errors, _labels(template, errors))
    assert template is not None
    passages = await _passages(gateway, session, actor, letter, template)
    extra = {
        "template": template,
        "letterhead": library.letterhead(session, context.org_id),
        "passages": passages,
    }
    return replace(context, sources=grounded.sources_of(session, passages), extra=extra)


def _checked(
    session: Session, actor: User, letter: LetterInput
) -> tuple[library.LetterTemplate | None, dict[str, str]]:
    """The template and, field by field, what is wrong with the inputs (in the reader's
    language; variables are named `variables.<name>` as in the form)."""
    errors: dict[str, str] = {}
    offered = {t.id: t for t in library.list_templates(session, actor.org_id)}
    template = offered.get(letter.template)
    if template is None:
        errors["template"] = gettext("Choose one of the proposed templates.")
    else:
        for problem in library.check_variables(template, letter.variables):
            errors[f"variables{forms.SUBFIELD_SEPARATOR}{problem.name}"] = problem.message
    if len(grounded.readable_ids(session, actor, letter.collections)) != len(
        set(letter.collections)
    ):
        errors["collections"] = gettext("Choose only collections you may read.")
    return template, errors


def _labels(template: library.LetterTemplate | None, errors: dict[str, str]) -> str:
    """The refused fields' labels in the reader's language, for the summary above the form."""
    own = {f.name: gettext(f.label) for f in forms.fields_of(LetterInput)}
    if template is not None:
        own |= {_variable_field(v).name: v.label_for() for v in template.variables}
    return ", ".join(own.get(name, name) for name in errors)


async def _passages(
    gateway: Gateway,
    session: Session,
    actor: User,
    letter: LetterInput,
    template: library.LetterTemplate,
) -> list[grounded.Passage]:
    """Passages of the chosen collections (each one the user may read) for the letter."""
    if not letter.collections:
        return []
    collections = grounded.checked_collections(session, actor, letter.collections)
    ctx = CallContext(
        org_id=actor.org_id,
        user_id=actor.id,
        role=actor.role,
        tool=TOOL_ID,
        prompt_template=f"{TOOL_ID}.search",
    )
    query = _query(letter, template)
    return await grounded.retrieve(gateway, session, actor, ctx, query, collections, limit=PASSAGES)


def _query(letter: LetterInput, template: library.LetterTemplate) -> str:
    """What the search looks for: the letter's subject and request, then the request text."""
    wanted = [letter.variables.get(n, "") for n in ("subject", "request", "reasons", "object")]
    text = "\n".join(v for v in [*wanted, letter.request or "", template.title] if v and v.strip())
    return text[:QUERY_LIMIT]


# Prompt -----------------------------------------------------------------------------------------


def _template(context: ToolContext, letter: LetterInput) -> library.LetterTemplate:
    """The template `gather` found, or (regeneration checks, tests) the one the inputs name."""
    found = context.extra.get("template")
    if isinstance(found, library.LetterTemplate):
        return found
    return library.get_template(context.db(), context.org_id, letter.template)


def build_messages(inputs: BaseModel, context: ToolContext, tool: Tool) -> list[ChatMessage]:
    """The letter rules, then the filled skeleton, the variables, the request and the sources,
    each as delimited data."""
    letter = _inputs(inputs)
    template = _template(context, letter)
    passages = list(context.extra.get("passages") or [])
    system = tool.template("letter").render(
        org_name=context.org_name,
        kind_label=gettext(library.KIND_LABELS[template.kind]).lower(),
        template_title=template.title_for("fr"),
        has_sources=bool(passages),
    )
    user = tool.template("request").render(
        skeleton=delimited("squelette", library.fill(template, letter.variables)),
        variables=delimited("informations", _variables_text(template, letter.variables)),
        request=delimited("demande", letter.request) if letter.request else "",
        sources="\n".join(grounded.source_block(p) for p in passages),
    )
    return [ChatMessage("system", system), ChatMessage("user", user)]


def _variables_text(template: library.LetterTemplate, values: dict[str, str]) -> str:
    """One line per declared variable: its French label and value, or that it is missing."""
    lines = []
    for var in template.variables:
        value = (values.get(var.name) or "").strip()
        if var.type == "date" and value:
            value = library.fill(replace(template, body=f"{{{{ {var.name} }}}}"), values).strip()
        lines.append(f"- {var.label_for('fr')} : {value or 'non renseigné'}")
    return "\n".join(lines)


# Checks -----------------------------------------------------------------------------------------


def check(text: str, inputs: BaseModel, context: ToolContext) -> list[Finding]:
    """The required mentions of the template's kind, the [À COMPLÉTER] placeholders left, and
    the citations against the passages the model was given."""
    letter = _inputs(inputs)
    try:
        template = _template(context, letter)
    except NotFound:
        return shown([_template_gone()], text)
    found = mentions.check(template.kind, text, letter.variables)
    found += _placeholders(text)
    if context.sources:
        passages = citations.passages_of(context.db(), context.org_id, context.sources)
        found += citations.findings(text, passages, len(context.sources))
    return shown(found, text)


def _template_gone() -> CheckFinding:
    return CheckFinding(
        "letter.template_gone",
        N_("The template of this letter no longer exists: its mentions cannot be checked."),
        severity="warning",
    )


def _placeholders(text: str) -> list[CheckFinding]:
    """Each [À COMPLÉTER …] the model left where a fact was missing."""
    return [
        CheckFinding(
            "letter.to_complete",
            N_("Complete this before sending the letter."),
            start=m.start(),
            end=m.end(),
            severity="error",
        )
        for m in _TO_COMPLETE.finditer(text)
    ]


def needs_validation(inputs: BaseModel, context: ToolContext) -> bool:
    """A refusal letter (a decision against the person) is validated by default; the others
    are not (the organisation may change both on the tools page)."""
    letter = _inputs(inputs)
    try:
        return _template(context, letter).kind == "refusal"
    except NotFound:
        return False


TOOL = Tool(
    id=TOOL_ID,
    name=N_("Letters"),
    description=N_(
        "Drafts a letter from one of your organisation's templates (reply, acknowledgement, "
        "certificate, convocation, missing documents, refusal), optionally citing your "
        "documents, and checks its required mentions."
    ),
    input_model=LetterInput,
    build_messages=build_messages,
    prompts_dir=Path(__file__).parent / "prompts",
    validation_default=False,
    check=check,
    gather=gather,
    template_of=lambda inputs: "letter",
    choices=choices,
    subfields=subfields,
    validation_of=needs_validation,
    min_reply_tokens=REPLY_TOKENS,
)
