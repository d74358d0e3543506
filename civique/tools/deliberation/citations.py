"""Citation checks of a grounded draft: every `[n]` must name a passage the model was given, and
a quotation attached to it must be in that passage (the chat's `grounded.verify` decides).

The passages are read again from the run's recorded sources (`OutputRecord.sources`), in the
output's organisation only; a passage deleted since is a source the check cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.chat import grounded
from civique.documents.models import Chunk
from civique.documents.search import Hit
from civique.errors import N_
from civique.tools.findings import Finding
from civique.tools.registry import ToolContext

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")

UNKNOWN = N_("Source [%(number)s] was not given to the model: remove the citation or check it.")
NONE = N_("Sources were given but the draft cites none: add [1], [2]… where they are used.")
MISQUOTED = N_(
    "%(count)s citation(s) quote words that are not in the cited source: check the quotations."
)


def check(text: str, context: ToolContext) -> list[Finding]:
    """Unknown source numbers (placed on the marker), no citation at all, wrong quotations."""
    numbers = {int(s["n"]) for s in context.sources if s.get("n") is not None}
    found: list[Finding] = []
    markers = list(_MARKER.finditer(text))
    for marker in markers:
        for number in (int(n) for n in re.findall(r"\d+", marker.group(1))):
            if number not in numbers:
                found.append(
                    Finding(
                        "delib.citation_unknown",
                        UNKNOWN,
                        marker.start(),
                        marker.end(),
                        severity="error",
                        params={"number": number},
                    )
                )
    if numbers and not markers:
        found.append(Finding("delib.citation_none", NONE, severity="warning"))
    elif numbers and context.session is not None:
        found += _quotations(text, context.session, context.org_id, context.sources, found)
    return found


def _quotations(
    text: str,
    session: Session,
    org_id: int,
    sources: tuple[Mapping[str, Any], ...],
    unknown: list[Finding],
) -> list[Finding]:
    passages = passages_of(session, org_id, sources)
    if not passages:
        return []
    result = grounded.verify(text, passages, "?")
    unreadable = sum(1 for s in sources if s.get("n") not in {p.number for p in passages})
    misquoted = result.dropped - len(unknown) - _cited(text, unreadable, passages)
    if misquoted <= 0:
        return []
    return [Finding("delib.citation_quote", MISQUOTED, severity="warning",
                    params={"count": misquoted})]


def _cited(text: str, unreadable: int, passages: list[grounded.Passage]) -> int:
    """Markers of sources whose passage is gone: dropped by `verify`, but not misquoted."""
    if not unreadable:
        return 0
    kept = {p.number for p in passages}
    marks = (int(n) for m in _MARKER.finditer(text) for n in re.findall(r"\d+", m.group(1)))
    return sum(1 for n in marks if n not in kept)


def passages_of(
    session: Session, org_id: int, sources: tuple[Mapping[str, Any], ...]
) -> list[grounded.Passage]:
    """The recorded sources' chunks (same organisation) as the passages `verify` reads."""
    ids = [int(s["chunk_id"]) for s in sources if s.get("chunk_id") is not None]
    chunks = {
        c.id: c
        for c in session.scalars(select(Chunk).where(Chunk.org_id == org_id, Chunk.id.in_(ids)))
    }
    passages = []
    for source in sources:
        chunk = chunks.get(int(source.get("chunk_id") or 0))
        if chunk is None or source.get("n") is None:
            continue
        hit = Hit(
            chunk.id, chunk.document_id, chunk.version_id, chunk.collection_id, "",
            str(source.get("title") or ""), "", "", chunk.page, chunk.label, chunk.section,
            chunk.start, chunk.end, chunk.text, 0.0, None, None,
        )
        passages.append(grounded.Passage(int(source["n"]), hit, 0, len(chunk.text)))
    return passages
