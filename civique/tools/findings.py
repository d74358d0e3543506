"""What a checker reports: one rule broken (or one thing missing), with its place in the text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from civique.i18n import gettext

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
