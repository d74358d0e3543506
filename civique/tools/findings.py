"""What a checker reports: one rule broken (or one thing missing), with its place in the text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from civique.i18n import gettext
from civique.tools.registry import Finding as ShownFinding

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One result of a deterministic checker; `message` is an English source string (`N_`)."""

    code: str
    message: str
    start: int | None = None  # character offsets in the checked text, end excluded
    end: int | None = None
    paragraph: int | None = None  # 0-based index of the paragraph (blank-line separated)
    severity: Severity = "warning"
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        """The message in the current language, parameters filled in."""
        return gettext(self.message, **self.params)


def shown(found: list[Finding], text: str) -> list[ShownFinding]:
    """Checker findings as the tool framework shows them: message translated now, paragraph
    1-based, and the excerpt of the text they point at."""
    return [
        ShownFinding(
            code=f.code,
            message=f.render(),
            severity=f.severity,
            start=f.start,
            end=f.end,
            paragraph=f.paragraph + 1 if f.paragraph is not None else None,
            excerpt=text[f.start : f.end][:200] if f.start is not None and f.end else "",
        )
        for f in found
    ]
