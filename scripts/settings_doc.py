"""Regenerate the settings table of docs/settings.md from `civique.settings.Settings`."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from civique.settings import CasePattern, ProviderConfig, Settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def table() -> str:
    """A Markdown table of every setting: variable, default, description."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        if isinstance(default, list) and default and isinstance(default[0], BaseModel):
            default = json.dumps([d.model_dump() for d in default], ensure_ascii=False)
        shown = "" if default in ("", None) else f"`{default}`"
        rows.append(f"| `CIVIQUE_{name.upper()}` | {shown} | {field.description} |")
    rows += ["", "Fields of each entry of `CIVIQUE_PROVIDERS`:", ""]
    rows += _fields(ProviderConfig)
    rows += ["", "Fields of each entry of `CIVIQUE_PII_CASE_PATTERNS`:", ""]
    rows += _fields(CasePattern)
    return "\n".join(rows)


def _fields(model: type[BaseModel]) -> list[str]:
    rows = ["| field | default | what it does |", "|---|---|---|"]
    for name, field in model.model_fields.items():
        default = "" if field.is_required() else f"`{field.default}`"
        rows.append(f"| `{name}` | {default} | {field.description} |")
    return rows


def main() -> None:
    """Replace the generated block in docs/settings.md."""
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{table()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
