"""The letter template library: built-in templates (files) and an organisation's own (versioned).

A template has a kind among `mentions.KINDS` (so the required-mentions checker applies), declared
variables (text, date, amount, multiline) and a body skeleton where `{{ name }}` stands for a
variable and lines in square brackets are instructions for the model. Built-ins are the files of
`templates/`, TOML front matter between `+++` lines, then the body.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.errors import N_, Forbidden, NotFound, UserError
from civique.governance import audit
from civique.i18n import get_locale, gettext
from civique.orgs.models import Organisation
from civique.tools.letters.library_models import (
    BuiltinTemplateChoice,
    LetterTemplateRow,
    LetterTemplateVersion,
)
from civique.tools.letters.mentions import KINDS

BUILTIN_DIR = Path(__file__).parent / "templates"
VARIABLE_TYPES: dict[str, str] = {
    "text": N_("Text (one line)"),
    "multiline": N_("Text (several lines)"),
    "date": N_("Date"),
    "amount": N_("Amount"),
}
KIND_LABELS: dict[str, str] = {
    "reply": N_("Reply to a request"),
    "acknowledgement": N_("Acknowledgement of receipt"),
    "certificate": N_("Certificate"),
    "convocation": N_("Convocation"),
    "missing_documents": N_("Request for missing documents"),
    "refusal": N_("Refusal"),
}
MAX_TITLE = 200
MAX_BODY = 20_000
MAX_VARIABLES = 30
MAX_TEXT = 300
MAX_MULTILINE = 5_000
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_DATE_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# 1234 · 1 234,56 · 1234.56 · 1’234.50 (Swiss) · CHF 12 · 12 € (non-breaking spaces allowed)
_AMOUNT = re.compile(
    r"^(?:(?:EUR|CHF|€|Fr\.)\s?)?\d{1,3}(?:[\s\u00a0\u202f'’.]?\d{3})*(?:[.,]\d{1,2})?"
    r"(?:\s?(?:€|EUR|CHF|euros?|francs?|Fr\.))?$",
    re.IGNORECASE,
)
FIELD_MESSAGES: dict[str, str] = {
    "letter.required": N_("“%(label)s” is required."),
    "letter.bad_date": N_("“%(label)s”: write a date as day/month/year, for example 12/03/2027."),
    "letter.bad_amount": N_("“%(label)s”: write an amount in figures, for example 1 234,50 €."),
    "letter.too_long": N_("“%(label)s” has at most %(limit)s characters."),
    "letter.one_line": N_("“%(label)s” must fit on one line."),
}


@dataclass(frozen=True)
class Variable:
    """A value the agent gives when drafting a letter from the template."""

    name: str
    label: str
    type: str = "text"
    required: bool = True
    label_en: str = ""

    def label_for(self, lang: str | None = None) -> str:
        """The label in `lang` (the current language by default) when the template has one."""
        return self.label_en if (lang or get_locale()) == "en" and self.label_en else self.label


@dataclass(frozen=True)
class LetterTemplate:
    """One version of a template, built-in or the organisation's own."""

    id: str  # a built-in's name ("refusal"), or an organisation template's number ("12")
    kind: str
    version: int
    title: str
    description: str
    variables: tuple[Variable, ...]
    body: str
    builtin: bool
    enabled: bool = True
    title_en: str = ""
    description_en: str = ""

    @property
    def ref(self) -> str:
        """What an output records to name the template it was drafted from (with `version`)."""
        return f"builtin:{self.id}" if self.builtin else f"org:{self.id}"

    def title_for(self, lang: str | None = None) -> str:
        """The title in `lang` (the current language by default) when the template has one."""
        return self.title_en if (lang or get_locale()) == "en" and self.title_en else self.title

    def description_for(self, lang: str | None = None) -> str:
        """The description in `lang` (the current language by default) when it has one."""
        english = (lang or get_locale()) == "en" and self.description_en
        return self.description_en if english else self.description

    def variable(self, name: str) -> Variable | None:
        """The declared variable called `name`."""
        return next((v for v in self.variables if v.name == name), None)


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one variable's value, for the form to show beside the field."""

    name: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The message in the current language."""
        return gettext(FIELD_MESSAGES[self.code], **self.params)


# Built-in templates ----------------------------------------------------------------------------


def parse_template_file(text: str, builtin_id: str) -> LetterTemplate:
    """A template from its file: TOML front matter between `+++` lines, then the body."""
    parts = text.split("+++", 2)
    if len(parts) != 3 or parts[0].strip():
        raise ValueError(f"{builtin_id}: no +++ front matter")
    meta = tomllib.loads(parts[1])
    variables = tuple(
        Variable(
            v["name"],
            v["label"],
            v.get("type", "text"),
            bool(v.get("required", True)),
            v.get("label_en", ""),
        )
        for v in meta.get("variables", [])
    )
    template = LetterTemplate(
        id=meta["id"],
        kind=meta["kind"],
        version=int(meta.get("version", 1)),
        title=meta["title"],
        description=meta.get("description", ""),
        variables=variables,
        body=parts[2].strip("\n") + "\n",
        builtin=True,
        title_en=meta.get("title_en", ""),
        description_en=meta.get("description_en", ""),
    )
    problems = template_problems(template)
    if template.id != builtin_id or problems:
        raise ValueError(f"{builtin_id}: {problems or 'id differs from the file name'}")
    return template


@functools.cache
def builtins() -> dict[str, LetterTemplate]:
    """The built-in templates by id (read once: they ship with the code)."""
    found = {}
    for path in sorted(BUILTIN_DIR.glob("*.md")):
        found[path.stem] = parse_template_file(path.read_text(encoding="utf-8"), path.stem)
    return found


def template_problems(template: LetterTemplate) -> list[UserError]:
    """Everything wrong with a template's definition (empty: it can be saved or shipped)."""
    problems: list[UserError] = []
    if template.kind not in KINDS:
        problems.append(UserError("letter_kind_invalid"))
    if not template.title.strip() or len(template.title) > MAX_TITLE:
        problems.append(UserError("letter_title_required", limit=MAX_TITLE))
    if not template.body.strip():
        problems.append(UserError("letter_body_required"))
    elif len(template.body) > MAX_BODY:
        problems.append(UserError("letter_body_too_long", limit=MAX_BODY))
    if len(template.variables) > MAX_VARIABLES:
        problems.append(UserError("letter_too_many_variables", limit=MAX_VARIABLES))
    problems += _variable_problems(template.variables)
    declared = {v.name for v in template.variables}
    for name in dict.fromkeys(_PLACEHOLDER.findall(template.body)):
        if name not in declared:
            problems.append(UserError("letter_unknown_variable", name=name))
    return problems


def _variable_problems(variables: Sequence[Variable]) -> list[UserError]:
    problems, seen = [], set()
    for v in variables:
        if not _NAME.match(v.name):
            problems.append(UserError("letter_variable_name", name=v.name))
        elif v.name in seen:
            problems.append(UserError("letter_variable_twice", name=v.name))
        seen.add(v.name)
        if not v.label.strip() or len(v.label) > 200:
            problems.append(UserError("letter_variable_label", name=v.name))
        if v.type not in VARIABLE_TYPES:
            problems.append(UserError("letter_variable_type", name=v.name))
    return problems


# Reading ---------------------------------------------------------------------------------------


def _builtin_choices(session: Session, org_id: int) -> dict[str, bool]:
    stmt = select(BuiltinTemplateChoice).where(BuiltinTemplateChoice.org_id == org_id)
    return {row.builtin_id: row.enabled for row in session.scalars(stmt)}


def _from_row(row: LetterTemplateRow, version: LetterTemplateVersion) -> LetterTemplate:
    variables = tuple(
        Variable(v["name"], v["label"], v.get("type", "text"), bool(v.get("required", True)))
        for v in version.variables
    )
    return LetterTemplate(
        id=str(row.id),
        kind=row.kind,
        version=version.version,
        title=version.title,
        description=version.description,
        variables=variables,
        body=version.body,
        builtin=False,
        enabled=row.enabled,
    )


def _version(session: Session, row: LetterTemplateRow, number: int) -> LetterTemplateVersion:
    found = session.scalar(
        select(LetterTemplateVersion).where(
            LetterTemplateVersion.template_id == row.id, LetterTemplateVersion.version == number
        )
    )
    if found is None:
        raise NotFound()
    return found


def list_templates(
    session: Session, org_id: int, include_disabled: bool = False
) -> list[LetterTemplate]:
    """The organisation's templates: the built-ins, then its own, each at its current version."""
    choices = _builtin_choices(session, org_id)
    found = [_with_enabled(t, choices.get(t.id, True)) for t in builtins().values()]
    rows = session.scalars(
        select(LetterTemplateRow)
        .where(LetterTemplateRow.org_id == org_id)
        .order_by(LetterTemplateRow.id)
    )
    found += [_from_row(row, _version(session, row, row.current_version)) for row in rows]
    return [t for t in found if include_disabled or t.enabled]


def _with_enabled(template: LetterTemplate, enabled: bool) -> LetterTemplate:
    from dataclasses import replace

    return replace(template, enabled=enabled)


def _own_row(session: Session, org_id: int, template_id: str) -> LetterTemplateRow:
    row = session.get(LetterTemplateRow, int(template_id)) if template_id.isdigit() else None
    if row is None or row.org_id != org_id:
        raise NotFound()
    return row


def get_template(
    session: Session, org_id: int, template_id: str, version: int | None = None
) -> LetterTemplate:
    """A template of the organisation (another one's is a 404), its current version or `version`.

    A disabled template is still returned (an output drafted from it names it); callers offering
    templates to choose from use `list_templates`.
    """
    if template_id in builtins():
        template = builtins()[template_id]
        if version is not None and version != template.version:
            raise NotFound()
        return _with_enabled(template, _builtin_choices(session, org_id).get(template_id, True))
    row = _own_row(session, org_id, template_id)
    return _from_row(row, _version(session, row, version or row.current_version))


def versions(session: Session, org_id: int, template_id: str) -> list[LetterTemplate]:
    """Every version of a template, newest first."""
    if template_id in builtins():
        return [get_template(session, org_id, template_id)]
    row = _own_row(session, org_id, template_id)
    stmt = select(LetterTemplateVersion).where(LetterTemplateVersion.template_id == row.id)
    rows = session.scalars(stmt.order_by(LetterTemplateVersion.version.desc()))
    return [_from_row(row, v) for v in rows]


# Variables -------------------------------------------------------------------------------------


def parse_date(value: str) -> date | None:
    """A date written 12/03/2027, 12.03.2027 or 2027-03-12; None if it is not one."""
    value = value.strip()
    match = _DATE_DMY.match(value)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        match = _DATE_ISO.match(value)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None


def check_variables(template: LetterTemplate, values: Mapping[str, str]) -> list[FieldError]:
    """What is wrong with the values given for a template's variables (empty: all good)."""
    errors = []
    for var in template.variables:
        value = (values.get(var.name) or "").strip()
        params: dict[str, Any] = {"label": var.label_for()}
        if not value:
            if var.required:
                errors.append(FieldError(var.name, "letter.required", params))
            continue
        limit = MAX_MULTILINE if var.type == "multiline" else MAX_TEXT
        if len(value) > limit:
            errors.append(FieldError(var.name, "letter.too_long", {**params, "limit": limit}))
        elif var.type != "multiline" and "\n" in value:
            errors.append(FieldError(var.name, "letter.one_line", params))
        elif var.type == "date" and parse_date(value) is None:
            errors.append(FieldError(var.name, "letter.bad_date", params))
        elif var.type == "amount" and not _AMOUNT.match(value):
            errors.append(FieldError(var.name, "letter.bad_amount", params))
    return errors


def _shown(var: Variable | None, value: str, lang: str) -> str:
    if var is not None and var.type == "date":
        parsed = parse_date(value)
        if parsed is not None:
            text = format_date(parsed, format="d MMMM y", locale=lang)
            return text.replace("1 ", "1er ", 1) if lang == "fr" and parsed.day == 1 else text
    return value.strip()


def fill(template: LetterTemplate, values: Mapping[str, str], lang: str = "fr") -> str:
    """The body with each `{{ name }}` replaced by its value (dates written out in full).

    A line holding a variable left empty is dropped, so optional lines ("Vos références : …")
    vanish instead of staying half-filled.
    """
    lines = []
    for line in template.body.splitlines():
        names = _PLACEHOLDER.findall(line)
        if any(not (values.get(n) or "").strip() for n in names):
            continue
        lines.append(
            _PLACEHOLDER.sub(
                lambda m: _shown(template.variable(m[1]), values.get(m[1], ""), lang), line
            )
        )
    return "\n".join(lines) + "\n"


# Changing (administrators) ---------------------------------------------------------------------


def _manage(actor: User) -> None:
    if not can(actor.role, "tools.manage_letter_templates"):
        raise Forbidden()


def _checked(
    kind: str, title: str, description: str, variables: Sequence[Variable], body: str
) -> LetterTemplate:
    draft = LetterTemplate(
        id="new",
        kind=kind,
        version=0,
        title=" ".join(title.split()),
        description=description.strip(),
        variables=tuple(variables),
        body=body.replace("\r\n", "\n").strip("\n") + "\n",
        builtin=False,
    )
    problems = template_problems(draft)
    if problems:
        raise problems[0]
    return draft


def _add_version(
    session: Session, actor: User, row: LetterTemplateRow, draft: LetterTemplate, number: int
) -> None:
    session.add(
        LetterTemplateVersion(
            template_id=row.id,
            org_id=row.org_id,
            version=number,
            title=draft.title,
            description=draft.description,
            body=draft.body,
            created_by=actor.id,
            variables=[
                {"name": v.name, "label": v.label, "type": v.type, "required": v.required}
                for v in draft.variables
            ],
        )
    )
    row.current_version = number


def create_template(
    session: Session,
    actor: User,
    kind: str,
    title: str,
    description: str,
    variables: Sequence[Variable],
    body: str,
) -> LetterTemplate:
    """A new template of the organisation, at version 1."""
    _manage(actor)
    draft = _checked(kind, title, description, variables, body)
    row = LetterTemplateRow(org_id=actor.org_id, kind=draft.kind, enabled=True)
    session.add(row)
    session.flush()
    _add_version(session, actor, row, draft, 1)
    _audit(session, actor, row.id, draft.title, "created", version=1)
    session.commit()
    return get_template(session, actor.org_id, str(row.id))


def update_template(
    session: Session,
    actor: User,
    template_id: str,
    kind: str,
    title: str,
    description: str,
    variables: Sequence[Variable],
    body: str,
) -> LetterTemplate:
    """Save a changed template as a new version (the earlier ones stay, for the outputs)."""
    _manage(actor)
    if template_id in builtins():
        raise UserError("letter_builtin_readonly")
    row = _own_row(session, actor.org_id, template_id)
    draft = _checked(kind, title, description, variables, body)
    row.kind = draft.kind
    number = row.current_version + 1
    _add_version(session, actor, row, draft, number)
    _audit(session, actor, row.id, draft.title, "new_version", version=number)
    session.commit()
    return get_template(session, actor.org_id, template_id)


def set_enabled(session: Session, actor: User, template_id: str, enabled: bool) -> None:
    """Offer a template to the agents, or stop offering it (built-in or own)."""
    _manage(actor)
    if template_id in builtins():
        choice = session.scalar(
            select(BuiltinTemplateChoice).where(
                BuiltinTemplateChoice.org_id == actor.org_id,
                BuiltinTemplateChoice.builtin_id == template_id,
            )
        )
        if choice is None:
            choice = BuiltinTemplateChoice(org_id=actor.org_id, builtin_id=template_id)
            session.add(choice)
        choice.enabled = enabled
        title = builtins()[template_id].title
    else:
        row = _own_row(session, actor.org_id, template_id)
        row.enabled = enabled
        title = _version(session, row, row.current_version).title
    _audit(session, actor, template_id, title, "enabled" if enabled else "disabled")
    session.commit()


def _audit(
    session: Session,
    actor: User,
    template_id: int | str,
    title: str,
    change: str,
    **details: object,
) -> None:
    target = {"kind": "letter_template", "id": template_id, "name": title}
    audit.record(
        session,
        actor.org_id,
        actor,
        "tools.letter_template_changed",
        target=target,
        change=change,
        **details,
    )


# Letterhead ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Letterhead:
    """The header of the organisation's letters: from its branding."""

    name: str
    address_lines: tuple[str, ...]
    phone: str
    email: str
    website: str
    colour: str
    logo_mime: str | None
    logo: bytes | None


def letterhead(session: Session, org: Organisation | int) -> Letterhead:
    """The organisation's letterhead (name, address lines, contact, logo)."""
    row = session.get(Organisation, org) if isinstance(org, int) else org
    if row is None:
        raise NotFound()
    lines = tuple(line.strip() for line in (row.address or "").splitlines() if line.strip())
    return Letterhead(
        name=row.name,
        address_lines=lines,
        phone=row.phone or "",
        email=row.email or "",
        website=row.website or "",
        colour=row.colour,
        logo_mime=row.logo_mime,
        logo=row.logo,
    )
