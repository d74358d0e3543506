"""The translation tool: its inputs, the glossary it enforces, its prompts and its checker."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from civique.errors import N_, NotFound, UserError
from civique.i18n import gettext
from civique.llm.types import ChatMessage, ModelInfo
from civique.tools.findings import Finding as CheckerFinding
from civique.tools.findings import shown
from civique.tools.registry import Finding, FormExtras, Tool, ToolContext, delimited
from civique.tools.text import paragraphs
from civique.tools.translation import glossary as glossary_check
from civique.tools.translation import quality
from civique.tools.translation.align import side_by_side
from civique.tools.translation.glossary import LANGUAGES, Glossary
from civique.tools.translation.support import LEVEL_LABELS, support

if TYPE_CHECKING:
    from civique.llm.gateway import Gateway

TEXT_MAX_CHARS = 60_000
LanguageCode = Literal["fr", "en", "de", "it", "es", "pt", "ar", "uk", "ti", "sq"]
REGISTERS: dict[str, str] = {
    "formal": N_("Formal (official letter)"),
    "neutral": N_("Neutral"),
    "simple": N_("Simple words (readers new to the language)"),
}
# What the prompt asks for each register, and each language's name as the model reads it.
_REGISTER_PROMPTS = {
    "formal": "formal and polite, as in an official letter",
    "neutral": "neutral and clear",
    "simple": "simple everyday words and short sentences, for readers new to the language",
}
PROMPT_NAMES: dict[str, str] = {
    "fr": "French",
    "en": "English",
    "de": "German",
    "it": "Italian",
    "es": "Spanish",
    "pt": "Portuguese",
    "ar": "Arabic (العربية)",
    "uk": "Ukrainian (українська, Cyrillic script)",
    "ti": "Tigrinya (ትግርኛ, Ge'ez script)",
    "sq": "Albanian (shqip)",
}
_LANGUAGE_LABELS: dict[str, Any] = dict(LANGUAGES)  # typed for pydantic's JSON schema
_REGISTER_LABELS: dict[str, Any] = dict(REGISTERS)
MACHINE_TRANSLATION = N_("Machine translation — to be proof-read.")
MISSING_GLOSSARY = N_("This glossary does not exist or you may not see it.")


class TranslationInput(BaseModel):
    """What the agent gives: the languages, the text, and optionally a glossary and a register."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source_language: LanguageCode = Field(
        default="fr",
        title=N_("From"),
        description=N_("The language of the text."),
        json_schema_extra={"labels": _LANGUAGE_LABELS},
    )
    target_language: LanguageCode = Field(
        default="en",
        title=N_("Into"),
        description=N_("The language to translate into."),
        json_schema_extra={"labels": _LANGUAGE_LABELS},
    )
    text: str = Field(
        title=N_("Text to translate"),
        description=N_("Paste the text; paragraphs separated by a blank line."),
        min_length=1,
        max_length=TEXT_MAX_CHARS,
        json_schema_extra={"widget": "textarea"},
    )
    glossary_id: int | None = Field(
        default=None,
        title=N_("Glossary"),
        description=N_("Optional: the organisation's glossary whose terms must be used."),
        ge=1,
    )
    tone: Literal["formal", "neutral", "simple"] | None = Field(
        default=None,
        title=N_("Tone"),
        description=N_("Optional: the tone of the translation."),
        json_schema_extra={"labels": _REGISTER_LABELS},
    )


def _inputs(inputs: BaseModel) -> TranslationInput:
    assert isinstance(inputs, TranslationInput)
    return inputs


# Before running ----------------------------------------------------------------------------------


def check_support(inputs: TranslationInput, model_id: str) -> str:
    """The support level of the run's model for the target language; refused if unsupported."""
    if inputs.source_language == inputs.target_language:
        raise UserError("translation_same_language", 422)
    level = support(model_id, inputs.target_language)
    if level == "unsupported":
        raise UserError(
            "translation_unsupported",
            422,
            language=gettext(LANGUAGES[inputs.target_language]),
            model=model_id,
        )
    return level


def load_glossary(context: ToolContext, inputs: TranslationInput) -> Glossary:
    """The chosen glossary's entries for the target language (empty without a glossary)."""
    if inputs.glossary_id is None or context.session is None:
        return Glossary()
    from civique.tools.translation.glossaries import checker_glossary

    try:
        return checker_glossary(
            context.db(), context.org_id, inputs.glossary_id, inputs.target_language
        )
    except NotFound:
        from civique.tools.service import InvalidInputs

        errors = {"glossary_id": gettext(MISSING_GLOSSARY)}
        raise InvalidInputs(errors, gettext("Glossary")) from None


async def gather(inputs: BaseModel, context: ToolContext, gateway: Gateway) -> ToolContext:
    """Refuse a language the model does not support, and load the glossary for the prompt."""
    from civique.tools.service import chat_model

    given = _inputs(inputs)
    if context.actor is not None:
        model = chat_model(gateway, context.db(), context.actor)
        level = check_support(given, model.id)
    else:
        level = "unknown"
    found = load_glossary(context, given)
    return dataclasses.replace(
        context, extra={**context.extra, "glossary": found, "support": level}
    )


def form_extras(context: ToolContext, model: ModelInfo | None) -> FormExtras:
    """The organisation's glossaries as choices, and each target language's support level for
    the model that will run, with a warning for poor and refused languages."""
    from civique.tools.translation.glossaries import list_glossaries

    choices: dict[str, list[tuple[str, str]]] = {}
    if context.actor is not None:
        rows = list_glossaries(context.db(), context.actor)
        choices["glossary_id"] = [(str(row.id), row.name) for row in rows]
    if model is None:
        return FormExtras(choices=choices)
    levels = {code: support(model.id, code) for code in LANGUAGES if code != "fr"}
    choices["target_language"] = [
        (code, f"{gettext(name)} — {gettext(LEVEL_LABELS[levels[code]])}")
        if code in levels
        else (code, gettext(name))
        for code, name in LANGUAGES.items()
    ]
    return FormExtras(choices=choices, notes=_support_notes(levels, model))


def _support_notes(levels: Mapping[str, str], model: ModelInfo) -> list[tuple[str, str]]:
    def names(level: str) -> str:
        return ", ".join(gettext(LANGUAGES[c]) for c, v in levels.items() if v == level)

    notes = []
    if names("poor"):
        notes.append(
            (
                "warning",
                gettext(
                    "With the model %(model)s, translations into %(languages)s are poor "
                    "(measured): have them checked by a fluent reader before use.",
                    model=model.id,
                    languages=names("poor"),
                ),
            )
        )
    if names("unsupported"):
        notes.append(
            (
                "warning",
                gettext(
                    "The model %(model)s cannot translate into %(languages)s: such runs are "
                    "refused.",
                    model=model.id,
                    languages=names("unsupported"),
                ),
            )
        )
    return notes


# The prompt --------------------------------------------------------------------------------------


def build_messages(inputs: BaseModel, context: ToolContext, tool: Tool) -> list[ChatMessage]:
    """The translation rules with the mandated terms, and the text as delimited data."""
    given = _inputs(inputs)
    names = {
        "source_name": PROMPT_NAMES[given.source_language],
        "target_name": PROMPT_NAMES[given.target_language],
    }
    found: Glossary = context.extra.get("glossary") or Glossary()
    # Only the terms of this text: a long glossary would fill the model's context.
    entries = glossary_check.applicable_entries(given.text, given.target_language, found)
    system = tool.template("system").render(
        org_name=context.org_name,
        register=_REGISTER_PROMPTS.get(given.tone or "", ""),
        terms=[(e.term, e.translation) for e in entries],
        **names,
    )
    user = tool.template("request").render(text=delimited("text", given.text), **names)
    return [ChatMessage("system", system), ChatMessage("user", user)]


# After running -----------------------------------------------------------------------------------


def check(text: str, inputs: BaseModel, context: ToolContext) -> list[Finding]:
    """Glossary terms not used (placed in the source), a paragraph count that differs, and a
    translation that does not look like the target language."""
    given = _inputs(inputs)
    found = context.extra.get("glossary")
    if found is None:
        found = _stored_glossary(context, given)
    violations = glossary_check.check(given.text, text, given.target_language, found)
    results = [dataclasses.replace(f, start=None, end=None) for f in shown(violations, given.text)]
    results.extend(shown(_shape(text, given), text))
    return results


def _stored_glossary(context: ToolContext, inputs: TranslationInput) -> Glossary:
    try:
        return load_glossary(context, inputs)
    except UserError:  # deleted since the run: nothing left to check against
        return Glossary()


def _shape(text: str, inputs: TranslationInput) -> list[CheckerFinding]:
    found: list[CheckerFinding] = []
    source, target = len(paragraphs(inputs.text)), len(paragraphs(text))
    if source != target:
        found.append(
            CheckerFinding(
                "translation.paragraphs",
                N_(
                    "The source has %(source)s paragraphs and the translation %(target)s: one may "
                    "be missing, merged or added."
                ),
                params={"source": source, "target": target},
            )
        )
    language = inputs.target_language
    if text.strip() and quality.script_share(text, language) < 0.5:
        found.append(
            CheckerFinding(
                "translation.script",
                N_("Most of the translation is not written in the script of %(language)s."),
                severity="error",
                params={"language": gettext(LANGUAGES[language])},
            )
        )
    elif quality.is_language(text, language) is False:
        found.append(
            CheckerFinding(
                "translation.language",
                N_("The translation does not look like %(language)s."),
                params={"language": gettext(LANGUAGES[language])},
            )
        )
    return found


def panel(text: str, inputs: BaseModel | None, context: ToolContext) -> Mapping[str, Any]:
    """The output page's side-by-side view: source and translation paragraph by paragraph."""
    if not isinstance(inputs, TranslationInput):
        return {}
    return {
        "pairs": side_by_side(inputs.text, text),
        "source_language": LANGUAGES[inputs.source_language],
        "target_language": LANGUAGES[inputs.target_language],
        "target_code": inputs.target_language,
    }


TOOL = Tool(
    id="translation",
    name=N_("Translation"),
    description=N_(
        "Translates a text or a document between French and other languages, with the "
        "organisation's glossary enforced and checked; marked as machine translation."
    ),
    input_model=TranslationInput,
    build_messages=build_messages,
    prompts_dir=Path(__file__).parent / "prompts",
    validation_default=False,
    check=check,
    gather=gather,
    split_field="text",
    template_of=lambda inputs: "system",
    notice=MACHINE_TRANSLATION,
    form_extras=form_extras,
    form_template="tools/translation_form.html",
    panel=panel,
    panel_template="tools/translation_panel.html",
)
