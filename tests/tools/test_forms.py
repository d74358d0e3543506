"""A tool's input schema as a form: every field type, the posted values, translated errors."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from civique.i18n import load_catalogs, reset_locale, set_locale
from civique.tools.forms import field_errors, fields_of, parse_form


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Everything(BaseModel):
    title: str = Field(title="Title", description="Short title", max_length=20)
    body: str = Field(title="Body", json_schema_extra={"widget": "textarea"}, min_length=1)
    level: Literal["plain", "falc"] = Field(
        "plain", title="Level", json_schema_extra={"labels": {"falc": "FALC"}}
    )
    colour: Colour | None = Field(None, title="Colour")
    copies: int = Field(1, title="Copies", ge=1, le=10)
    rate: float | None = Field(None, title="Rate")
    due: dt.date | None = Field(None, title="Due")
    urgent: bool = Field(False, title="Urgent")


def test_every_field_type_gets_its_widget() -> None:
    fields = {f.name: f for f in fields_of(Everything)}
    assert {n: f.widget for n, f in fields.items()} == {
        "title": "text",
        "body": "textarea",
        "level": "select",
        "colour": "select",
        "copies": "number",
        "rate": "number",
        "due": "date",
        "urgent": "checkbox",
    }
    assert fields["title"].required and fields["title"].max_length == 20
    assert fields["title"].help == "Short title"
    assert not fields["level"].required and fields["level"].default == "plain"
    assert fields["level"].choices == (("plain", "plain"), ("falc", "FALC"))
    assert fields["colour"].choices == (("red", "red"), ("blue", "blue"))
    assert (fields["copies"].minimum, fields["copies"].maximum) == (1, 10)
    assert fields["rate"].step == "any" and fields["copies"].step == "1"


def test_posted_strings_become_typed_inputs() -> None:
    raw = parse_form(
        Everything,
        {
            "title": "Avis",
            "body": "Texte",
            "level": "falc",
            "colour": "",
            "copies": "3",
            "rate": "",
            "due": "2026-03-31",
            "urgent": "1",
        },
    )
    parsed = Everything.model_validate(raw)
    assert parsed.copies == 3 and parsed.due == dt.date(2026, 3, 31) and parsed.urgent
    assert parsed.colour is None and parsed.rate is None
    unticked = Everything.model_validate(parse_form(Everything, {"title": "A", "body": "B"}))
    assert unticked.urgent is False


@pytest.fixture
def french() -> Iterator[None]:
    load_catalogs()
    token = set_locale("fr")
    yield
    reset_locale(token)


def test_errors_name_each_field_in_french(french: None) -> None:
    raw = parse_form(
        Everything,
        {
            "title": "x" * 30,
            "body": "",
            "level": "autre",
            "copies": "douze",
            "due": "31/03/2026",
        },
    )
    with pytest.raises(ValidationError) as caught:
        Everything.model_validate(raw)
    errors = field_errors(Everything, caught.value)
    assert errors == {
        "title": "20 caractères au plus.",
        "body": "Ce champ est obligatoire.",
        "level": "Choisissez l'une des valeurs proposées.",
        "copies": "Saisissez un nombre entier.",
        "due": "Saisissez une date sous la forme année-mois-jour, par exemple 2026-03-31.",
    }
