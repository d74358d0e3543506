"""The demo collection of the fictional "Commune d'Exemple": shipped files and checked questions."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

_PACKAGE = "civique.demo_documents"


def demo_files() -> list[tuple[str, bytes]]:
    """Every shipped demo file as (filename, bytes), sorted by name."""
    folder = resources.files(_PACKAGE).joinpath("files")
    entries = [entry for entry in folder.iterdir()
               if entry.is_file() and not entry.name.startswith(".")]
    return [(entry.name, entry.read_bytes()) for entry in sorted(entries, key=lambda e: e.name)]


def demo_questions() -> list[dict[str, Any]]:
    """The demo questions with where their answer is (document, page, exact text), or none."""
    text = resources.files(_PACKAGE).joinpath("questions.json").read_text(encoding="utf-8")
    questions: list[dict[str, Any]] = json.loads(text)
    return questions
