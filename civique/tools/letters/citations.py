"""Citations of a drafted letter checked against the passages the model was given.

The output record keeps the passages as `sources` (chunk ids, numbered as the model saw them);
the chunks are read again here, in the output's organisation only, and the letter's `[n]`
markers and quotations go through `chat.grounded.verify`, the same check as grounded answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.chat import grounded
from civique.documents.models import Chunk
from civique.documents.search import Hit
from civique.errors import N_
from civique.tools.findings import Finding

_DROPPED = "\x00"  # what verify writes in place of a refused marker: never in a letter
# The markers `verify` reads ([1], [1, 2], [source 3]), and what it leaves for a refused one.
_ANY_MARKER = re.compile(
    r"\[(?:sources?\s*)?\d{1,3}(?:\s*[,;]\s*(?:sources?\s*)?\d{1,3})*\]", re.IGNORECASE
)
_CHECKED_MARKER = re.compile(rf"{_ANY_MARKER.pattern}|\[{_DROPPED}\]", re.IGNORECASE)


def passages_of(
    session: Session, org_id: int, sources: Sequence[dict[str, Any]]
) -> list[grounded.Passage]:
    """The passages recorded with an output, read again from their chunks (a chunk deleted
    since, e.g. a document re-indexed, is left out: its citations then count as refused)."""
    ids = [int(s["chunk_id"]) for s in sources if s.get("chunk_id") is not None]
    if not ids:
        return []
    stmt = select(Chunk).where(Chunk.org_id == org_id, Chunk.id.in_(ids))
    chunks = {c.id: c for c in session.scalars(stmt)}
    found = []
    for source in sources:
        chunk = chunks.get(int(source.get("chunk_id") or 0))
        if chunk is not None:
            found.append(
                grounded.Passage(int(source["n"]), _hit(chunk, source), 0, len(chunk.text))
            )
    return found


def _hit(chunk: Chunk, source: dict[str, Any]) -> Hit:
    return Hit(
        chunk_id=chunk.id,
        document_id=chunk.document_id,
        version_id=chunk.version_id,
        collection_id=chunk.collection_id,
        collection_name="",
        title=str(source.get("title") or ""),
        filename="",
        media_type="",
        page=chunk.page,
        label=chunk.label,
        section=chunk.section,
        start=chunk.start,
        end=chunk.end,
        text=chunk.text,
        score=0.0,
        keyword_rank=None,
        vector_rank=None,
    )


def findings(text: str, passages: list[grounded.Passage], given: int) -> list[Finding]:
    """What is wrong with the letter's citations: markers naming a source that was not given
    or quoting words its source does not hold (errors, placed on the first one), and a note
    when sources were given but none is cited."""
    result = grounded.verify(text, passages, _DROPPED)
    found: list[Finding] = []
    if result.dropped:
        place = _first_refused(text, result.text)
        found.append(
            Finding(
                "letter.citation_unverified",
                N_(
                    "Citations not verified: %(num)s. Their number names no source given to "
                    "the model, or the quoted words are not in that source: check them or "
                    "remove them."
                ),
                start=place[0] if place else None,
                end=place[1] if place else None,
                severity="error",
                params={"num": result.dropped},
            )
        )
    if given and not _ANY_MARKER.search(text):
        found.append(
            Finding(
                "letter.no_citation",
                N_("Sources were given but the letter cites none ([1], [2]…)."),
                severity="info",
            )
        )
    return found


def _first_refused(text: str, checked: str) -> tuple[int, int] | None:
    """The offsets in `text` of the first marker `verify` refused: it rewrites every marker in
    place, so the refused one is the marker of the same rank in the letter."""
    ranks = [m.group(0) == f"[{_DROPPED}]" for m in _CHECKED_MARKER.finditer(checked)]
    if True not in ranks:
        return None
    markers = list(_ANY_MARKER.finditer(text))
    rank = ranks.index(True)
    return (markers[rank].start(), markers[rank].end()) if rank < len(markers) else None
