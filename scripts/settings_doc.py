"""Regenerate the settings table of docs/settings.md from `civique.settings.Settings`."""

from __future__ import annotations

from pathlib import Path

from civique.settings import ProviderConfig, Settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def table() -> str:
    """A Markdown table of every setting: variable, default, description."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        shown = "" if default in ("", None) else f"`{default}`"
        rows.append(f"| `CIVIQUE_{name.upper()}` | {shown} | {field.description} |")
    rows += ["", "Fields of each entry of `CIVIQUE_PROVIDERS`:", "",
             "| field | default | what it does |", "|---|---|---|"]
    for name, field in ProviderConfig.model_fields.items():
        default = "" if field.is_required() else f"`{field.default}`"
        rows.append(f"| `{name}` | {default} | {field.description} |")
    return "\n".join(rows)


def main() -> None:
    """Replace the generated block in docs/settings.md."""
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{table()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
