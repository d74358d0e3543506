"""The tool registry (DESIGN.md §3): each drafting tool is a plugin declaring its input schema,
its prompt templates (files next to it), the action it requires, its validation default, its
export formats and two hooks, `build_messages` and `check`.

Built-in tools register themselves like any plugin: each package has a `register(registry)`
function, and `BUILTIN` lists the packages `default_registry()` calls.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.llm.types import ChatMessage, ModelInfo

if TYPE_CHECKING:
    from civique.llm.gateway import Gateway
    from civique.tools.forms import FormField

Severity = Literal["info", "warning", "error"]
FORMATS = ("docx", "odt", "pdf")
# Packages whose `register(registry)` adds the built-in tools, in the order pages list them.
BUILTIN = (
    "civique.tools.plain_language",
    "civique.tools.letters",
    "civique.tools.deliberation",
    "civique.tools.translation",
)

_TEMPLATE_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.v(?P<version>\d+)\.txt$")


@dataclass(frozen=True)
class Finding:
    """One result of a tool's checker: what is wrong, and where (offsets or a paragraph)."""

    code: str
    message: str
    severity: Severity = "warning"
    start: int | None = None  # character offsets in the checked text
    end: int | None = None
    paragraph: int | None = None  # 1-based, when the place is a whole paragraph
    excerpt: str = ""


@dataclass(frozen=True)
class PromptTemplate:
    """One version of a prompt, kept as a file `<name>.v<N>.txt` next to its tool."""

    tool_id: str
    name: str
    version: str
    path: Path

    @property
    def full_name(self) -> str:
        """How the output records name it: `<tool>.<name>`."""
        return f"{self.tool_id}.{self.name}"

    def render(self, **values: Any) -> str:
        """The template filled in a sandbox: values are data, never code or instructions."""
        return _sandbox().from_string(self.path.read_text("utf-8")).render(**values).strip()


@functools.cache
def _sandbox() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)


def delimited(label: str, text: str) -> str:
    """User text as a delimited block of data; a closing marker inside it is neutralised so the
    text cannot end the block and speak as instructions."""
    tag = label.upper()
    cleaned = text.replace(f"</{tag}>", f"</ {tag}>")
    return f"<{tag}>\n{cleaned}\n</{tag}>"


@dataclass(frozen=True)
class ToolContext:
    """What a tool's hooks may read besides its inputs: the organisation, the acting user and a
    database session (checks and `gather` load the organisation's data with them), and what
    `gather` found: `sources` (passages given to the model, kept with the output record) and
    `extra` (anything else the tool prepared, e.g. a letterhead or a glossary)."""

    org_name: str
    language: str = "fr"
    org_id: int = 0
    session: Session | None = field(default=None, compare=False, repr=False)
    actor: User | None = field(default=None, compare=False, repr=False)
    sources: tuple[dict[str, Any], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def db(self) -> Session:
        """The session of this context (hooks that read the database need one)."""
        if self.session is None:
            raise RuntimeError("this tool context has no database session")
        return self.session


@dataclass(frozen=True)
class FormExtras:
    """What a tool adds to its form for one organisation and model: choices computed then (e.g.
    the organisation's glossaries) replacing a field's widget by a select, and notes shown
    above the form, as (severity, translated text)."""

    choices: Mapping[str, list[tuple[str, str]]] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)


BuildMessages = Callable[[BaseModel, "ToolContext", "Tool"], list[ChatMessage]]
Check = Callable[[str, BaseModel, "ToolContext"], list[Finding]]
# Before the prompt is built: look things up (documents to ground on, the letterhead, a
# glossary) and return the context enriched with them. Async: it may search through the gateway.
Gather = Callable[[BaseModel, "ToolContext", "Gateway"], Awaitable["ToolContext"]]
# The form's choices and notes for this organisation and the model that will run (None: none).
MakeFormExtras = Callable[["ToolContext", "ModelInfo | None"], FormExtras]
# Data for the tool's own panel on the output page, from the current text and the inputs.
Panel = Callable[[str, "BaseModel | None", "ToolContext"], Mapping[str, Any]]
# Form options known only at run time: the choices a field names with `choices_from`, and the
# sub-fields of a `dict` field named with `fields_from` (given the values typed so far).
Choices = Callable[[str, "ToolContext"], list[tuple[str, str]]]
Subfields = Callable[[str, Mapping[str, Any], "ToolContext"], list["FormField"]]


@dataclass(frozen=True)
class Tool:
    """A tool's declaration. `name` and `description` are English source strings (`N_`),
    translated where shown; `split_field` names the long text that may be run in parts."""

    id: str
    name: str
    description: str
    input_model: type[BaseModel]
    build_messages: BuildMessages
    prompts_dir: Path
    action: str = "tools.use"
    validation_default: bool = False
    formats: tuple[str, ...] = FORMATS
    check: Check | None = None
    gather: Gather | None = None
    split_field: str | None = None
    # The prompt a run is recorded under (its name and version), chosen from the inputs.
    template_of: Callable[[BaseModel], str] | None = None
    # Whether an output needs a human proof-reading (FALC does), and the sentence exports then
    # carry, with %(name)s, %(role)s and %(date)s (an English source string).
    proofreading: Callable[[BaseModel], bool] | None = None
    proofreading_mention: str | None = None
    # A warning every output of the tool carries, on its page and in its exported files (an
    # English source string), e.g. "legal validity not guaranteed" for deliberations.
    notice: str | None = None
    form_extras: MakeFormExtras | None = None
    form_template: str | None = None  # included above the form (e.g. links to a tool's pages)
    # The output page includes `panel_template` with `panel`'s data (e.g. a side-by-side view).
    panel: Panel | None = None
    panel_template: str | None = None
    choices: Choices | None = None
    subfields: Subfields | None = None
    # Whether outputs of these inputs need validation when the organisation keeps the tool's
    # default (a refusal letter does, other letters do not); else `validation_default`.
    validation_of: Callable[[BaseModel, ToolContext], bool] | None = None
    # The shortest answer a run must leave room for (a letter is longer than its inputs).
    min_reply_tokens: int = 256
    templates: dict[str, PromptTemplate] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.formats) - set(FORMATS)
        if unknown or not self.formats:
            raise ValueError(f"tool {self.id}: unknown output formats {sorted(unknown)}")
        self.templates.update(load_templates(self.id, self.prompts_dir))

    def needs_proofreading(self, inputs: BaseModel) -> bool:
        """True when outputs of these inputs must be proof-read by a person."""
        return self.proofreading is not None and self.proofreading(inputs)

    def default_validation(self, inputs: BaseModel | None, context: ToolContext | None) -> bool:
        """The tool's own validation rule for outputs of these inputs (None: unknown inputs)."""
        if self.validation_of is not None and inputs is not None and context is not None:
            return self.validation_of(inputs, context)
        return self.validation_default

    def main_template(self, inputs: BaseModel) -> PromptTemplate:
        """The prompt the output record names for a run with these inputs."""
        if self.template_of is not None:
            return self.template(self.template_of(inputs))
        return next(iter(self.templates.values()))

    def template(self, name: str) -> PromptTemplate:
        """The latest version of the named prompt."""
        try:
            return self.templates[name]
        except KeyError:
            raise LookupError(f"tool {self.id} has no prompt {name!r}") from None


def load_templates(tool_id: str, directory: Path) -> dict[str, PromptTemplate]:
    """The latest version of each prompt file in `directory` (`plain.v1.txt`, `plain.v2.txt`…)."""
    found: dict[str, PromptTemplate] = {}
    for path in sorted(directory.glob("*.txt")):
        match = _TEMPLATE_FILE.match(path.name)
        if match is None:
            raise ValueError(f"prompt file {path.name}: name it <name>.v<N>.txt")
        name, version = match["name"], match["version"]
        if name not in found or int(version) > int(found[name].version):
            found[name] = PromptTemplate(tool_id, name, version, path)
    return found


class UnknownTool(LookupError):
    """No tool is registered under this id."""


class ToolRegistry:
    """The tools this instance offers, by id, in registration order."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, tool: Tool) -> None:
        """Add a tool; an id registered twice is a programming error."""
        if tool.id in self._tools:
            raise ValueError(f"tool {tool.id!r} is already registered")
        if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", tool.id):
            raise ValueError(f"tool id {tool.id!r}: lower-case letters, digits and _")
        self._tools[tool.id] = tool

    def get(self, tool_id: str) -> Tool:
        """The tool, or `UnknownTool`."""
        try:
            return self._tools[tool_id]
        except KeyError:
            raise UnknownTool(tool_id) from None

    def tools(self) -> list[Tool]:
        """Every registered tool."""
        return list(self._tools.values())

    def enabled(self, disabled: Iterable[str]) -> list[Tool]:
        """The tools an organisation did not switch off."""
        off = set(disabled)
        return [t for t in self._tools.values() if t.id not in off]


def build_registry(packages: Iterable[str] = BUILTIN) -> ToolRegistry:
    """A registry with the tools of `packages`, each adding its own through `register()`."""
    registry = ToolRegistry()
    for package in packages:
        importlib.import_module(package).register(registry)
    return registry


@functools.cache
def default_registry() -> ToolRegistry:
    """The built-in tools, built on first use (nothing happens at import time)."""
    return build_registry()
