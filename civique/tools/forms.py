"""A tool's input schema as form fields (the page) and its errors as translated messages.

The web form and the API read the same pydantic model: `fields_of` describes each field for the
template, `parse_form` turns posted strings into the model's input, `field_errors` explains a
`ValidationError` field by field in the reader's language.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from civique.errors import N_
from civique.i18n import gettext

# Why a value was refused, by pydantic error type; the rest say "invalid value".
_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This field is required."),
    "string_too_long": N_("At most %(limit)s characters."),
    "literal_error": N_("Choose one of the proposed values."),
    "enum": N_("Choose one of the proposed values."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "greater_than_equal": N_("At least %(limit)s."),
    "greater_than": N_("More than %(limit)s."),
    "less_than_equal": N_("At most %(limit)s."),
    "less_than": N_("Less than %(limit)s."),
    "date_parsing": N_("Enter a date as year-month-day, for example 2026-03-31."),
    "date_from_datetime_parsing": N_("Enter a date as year-month-day, for example 2026-03-31."),
    "bool_parsing": N_("Tick the box or leave it empty."),
    "extra_forbidden": N_("This field is not part of the tool."),
    "list_type": N_("Invalid value."),
    "too_long": N_("At most %(limit)s choices."),
}
_INVALID = N_("Invalid value.")
_LIMITS = ("max_length", "ge", "gt", "le", "lt")
SUBFIELD_SEPARATOR = "."  # a `dict` field's value `key` is posted as `<field>.<key>`


@dataclass(frozen=True)
class FormField:
    """One field as the form shows it; `label`/`help` are English source strings."""

    name: str
    widget: str  # text | textarea | select | checkboxes | group | number | date | checkbox
    label: str
    help: str
    required: bool
    default: Any
    choices: tuple[tuple[str, str], ...] = ()  # value, label (source string)
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: str = "1"
    rows: int = 12  # a text area's height
    # Options known at run time: the choices' source (`choices_from`) or, for a `group` (a
    # `dict` field), the source of its sub-fields (`fields_from`), resolved by the tool.
    choices_from: str | None = None
    fields_from: str | None = None
    children: tuple[FormField, ...] = ()


def _unwrap(annotation: Any) -> Any:
    """`X | None` → X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _metadata(info: FieldInfo, key: str) -> Any:
    for item in info.metadata:
        if hasattr(item, key):
            return getattr(item, key)
    return None


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _choices(kind: Any, info: FieldInfo) -> tuple[tuple[str, str], ...] | None:
    labels = _extra(info).get("labels") or {}
    if typing.get_origin(kind) is typing.Literal:
        values = [str(v) for v in typing.get_args(kind)]
    elif isinstance(kind, type) and issubclass(kind, enum.Enum):
        values = [str(member.value) for member in kind]
    else:
        return None
    return tuple((v, str(labels.get(v, v))) for v in values)


def _widget(kind: Any, info: FieldInfo) -> str:
    extra = _extra(info)
    if extra.get("choices_from"):
        return "checkboxes" if typing.get_origin(kind) is list else "select"
    if extra.get("fields_from") and typing.get_origin(kind) is dict:
        return "group"
    if kind is bool:
        return "checkbox"
    if kind in (int, float):
        return "number"
    if kind is dt.date:
        return "date"
    return "textarea" if _extra(info).get("widget") == "textarea" else "text"


def fields_of(model: type[BaseModel]) -> list[FormField]:
    """The model's fields in declaration order, as the form shows them."""
    found = []
    for name, info in model.model_fields.items():
        kind = _unwrap(info.annotation)
        choices = _choices(kind, info)
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        if isinstance(default, enum.Enum):
            default = default.value
        found.append(
            FormField(
                name=name,
                widget="select" if choices is not None else _widget(kind, info),
                label=info.title or name,
                help=info.description or "",
                required=info.is_required(),
                default=default,
                choices=choices or (),
                max_length=_metadata(info, "max_length"),
                minimum=_bound(info, "ge", "gt"),
                maximum=_bound(info, "le", "lt"),
                step="any" if kind is float else "1",
                choices_from=_extra(info).get("choices_from"),
                fields_from=_extra(info).get("fields_from"),
            )
        )
    return found


def with_choices(
    fields: list[FormField], choices: Mapping[str, list[tuple[str, str]]]
) -> list[FormField]:
    """The fields with choices computed for the request (a tool's `form_extras`): each named
    field becomes a select of those values (labels already translated)."""
    return [
        dataclasses.replace(f, widget="select", choices=tuple(choices[f.name]))
        if f.name in choices
        else f
        for f in fields
    ]


def resolve(
    fields: list[FormField],
    choices: Callable[[str], list[tuple[str, str]]],
    subfields: Callable[[str], list[FormField]],
) -> list[FormField]:
    """The fields with their run-time options filled in (a tool's choices and sub-fields)."""
    found = []
    for f in fields:
        if f.choices_from:
            f = replace(f, choices=tuple(choices(f.choices_from)))
        if f.fields_from:
            f = replace(f, children=tuple(subfields(f.fields_from)))
        found.append(f)
    return found


def _bound(info: FieldInfo, inclusive: str, exclusive: str) -> float | None:
    value = _metadata(info, inclusive)
    return value if value is not None else _metadata(info, exclusive)


def parse_form(model: type[BaseModel], form: Mapping[str, Any]) -> dict[str, Any]:
    """Posted strings as the model's input: an empty optional field is None, an unticked box
    False; pydantic then converts numbers and dates (and says what is wrong)."""
    raw: dict[str, Any] = {}
    for field in fields_of(model):
        value = form.get(field.name)
        if field.widget == "group":
            raw[field.name] = _group(field.name, form)
        elif field.widget == "checkboxes":
            raw[field.name] = [v for v in _listed(value) if v.strip()]
        elif field.widget == "checkbox":
            raw[field.name] = value not in (None, "", "0", "false")
        elif value is None or (isinstance(value, str) and not value.strip()):
            if field.required:
                raw[field.name] = ""  # refused by the model as missing, named in the errors
        else:
            raw[field.name] = value
    return raw


def _group(name: str, form: Mapping[str, Any]) -> dict[str, str]:
    """The posted `<name>.<key>` values as `{key: value}` (empty ones too: the tool decides)."""
    prefix = name + SUBFIELD_SEPARATOR
    return {
        k.removeprefix(prefix): v
        for k, v in form.items()
        if k.startswith(prefix) and isinstance(v, str)
    }


def _listed(value: Any) -> list[str]:
    """A posted value that may be given several times (ticked boxes) as a list of strings."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def field_errors(model: type[BaseModel], error: ValidationError) -> dict[str, str]:
    """Field name → the reason its value was refused, in the current language."""
    found: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item.get("loc") else "__all__"
        if name in found:
            continue
        context = item.get("ctx") or {}
        limit = next((context[k] for k in _LIMITS if k in context), None)
        if "source_message" in context:  # a tool's own rule: PydanticCustomError, N_ message
            found[name] = gettext(str(context["source_message"]), **context)
            continue
        if item["type"] == "string_too_short" and context.get("min_length", 1) > 1:
            message, limit = N_("At least %(limit)s characters."), context["min_length"]
        else:
            message = _MESSAGES.get(item["type"], _INVALID)
        found[name] = gettext(message, limit=limit) if "%(limit)s" in message else gettext(message)
    return found


def labelled(model: type[BaseModel], errors: Mapping[str, str]) -> str:
    """The refused fields' labels, in the current language, for the summary."""
    labels = {f.name: gettext(f.label) for f in fields_of(model)}
    return ", ".join(labels.get(name, name) for name in errors)
