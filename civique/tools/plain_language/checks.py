"""The checker hook of the plain-language tool: it asks the deterministic FALC rule checker
(`falc.check`) and the Kandel–Moles readability score (`readability.kandel_moles`), and turns
their results into the registry's `Finding`s."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, cast

from civique.errors import N_
from civique.i18n import format_number, gettext
from civique.tools.registry import Finding, Severity

# Words the checker flags as jargon when the organisation has not edited its own list yet.
DEFAULT_JARGON = ("afférent", "susmentionné", "nonobstant", "subséquemment", "ledit", "ladite")
_SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")

N_("Readability (Kandel–Moles): %(score)s out of 100.")
N_("The rule checker is not installed on this instance: the text was not checked.")


def _module(name: str) -> ModuleType | None:
    """One of the checker modules, or None while it is not installed."""
    try:
        return importlib.import_module(f"civique.tools.plain_language.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"civique.tools.plain_language.{name}":
            raise
        return None


def findings(text: str, level: str, jargon: tuple[str, ...] = DEFAULT_JARGON) -> list[Finding]:
    """Every rule violation of `text` with its place, then the readability score."""
    falc, readability = _module("falc"), _module("readability")
    if falc is None or readability is None:
        message = "The rule checker is not installed on this instance: the text was not checked."
        return [Finding("checker_missing", gettext(message), "info")]
    found = [_finding(v) for v in falc.check(text, jargon=list(jargon))]
    score = readability.kandel_moles(text)
    value = float(getattr(score, "score", score))
    found.append(
        Finding(
            "readability",
            gettext(
                "Readability (Kandel–Moles): %(score)s out of 100.",
                score=format_number(round(value, 1)),
            ),
            "info",
        )
    )
    return found


def _finding(violation: Any) -> Finding:
    """A checker violation (an object or a dict) as a `Finding`."""
    get = (
        violation.get if isinstance(violation, dict) else lambda k, d=None: getattr(violation, k, d)
    )
    severity = str(get("severity", "warning"))
    start, end, paragraph = get("start"), get("end"), get("paragraph")
    return Finding(
        code=str(get("code", get("rule", "rule"))),
        message=str(get("message", "")),
        severity=cast(Severity, severity if severity in _SEVERITIES else "warning"),
        start=int(start) if start is not None else None,
        end=int(end) if end is not None else None,
        paragraph=int(paragraph) if paragraph is not None else None,
        excerpt=str(get("excerpt", get("text", "")) or ""),
    )
