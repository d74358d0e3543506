"""The checker hook of the plain-language tool: the deterministic FALC rule checker
(`falc.check`) and the Kandel–Moles readability score, as the registry's `Finding`s."""

from __future__ import annotations

from collections.abc import Iterable

from civique.errors import N_
from civique.i18n import format_number, gettext
from civique.tools.findings import shown
from civique.tools.plain_language import falc, readability
from civique.tools.plain_language.jargon import DEFAULT_JARGON
from civique.tools.registry import Finding

N_("Readability (Kandel–Moles): %(score)s out of 100 (%(level)s).")


def findings(text: str, level: str, jargon: Iterable[str] = DEFAULT_JARGON) -> list[Finding]:
    """Every rule violation of `text` with its place, then the readability score."""
    found = shown(falc.check(text, jargon=jargon), text)
    score = readability.kandel_moles(text)
    found.append(
        Finding(
            "readability",
            gettext(
                "Readability (Kandel–Moles): %(score)s out of 100 (%(level)s).",
                score=format_number(round(score, 1)),
                level=gettext(readability.level_label(score)),
            ),
            "info",
        )
    )
    return found
