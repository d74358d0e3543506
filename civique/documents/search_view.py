"""What the search page and API show of a hit: snippets with the query words marked, the type
groups of the filter, the dates of the filter and the link to the passage in its document.

A snippet is a list of (text, marked) parts of the raw passage; the template escapes every part
and wraps the marked ones in <mark>, so document text is never rendered as HTML.
"""

from __future__ import annotations

import re
from datetime import date

from civique.documents import sniff
from civique.documents.index import fold, light_stem, query_terms
from civique.documents.schemas import SearchHit
from civique.documents.search import Hit
from civique.errors import N_, UserError

SNIPPET_CHARS = 320
_WORD = re.compile(r"\w+", re.UNICODE)

# The type filter of the page: a group of media types under a name people know.
TYPE_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": (N_("PDF"), (sniff.PDF,)),
    "text": (N_("Word or text document"), (sniff.DOCX, sniff.ODT)),
    "slides": (N_("Presentation"), (sniff.PPTX,)),
    "sheet": (N_("Spreadsheet"), (sniff.XLSX, sniff.ODS, sniff.CSV)),
    "web": (N_("Web page"), (sniff.HTML,)),
    "plain": (N_("Plain text or Markdown"), (sniff.TEXT, sniff.MARKDOWN)),
    "email": (N_("E-mail"), (sniff.EML,)),
}

Snippet = list[tuple[str, bool]]


def media_types(groups: list[str]) -> tuple[str, ...]:
    """The media types of the chosen type groups (unknown names are ignored)."""
    return tuple(t for g in groups if g in TYPE_GROUPS for t in TYPE_GROUPS[g][1])


def parse_day(value: str) -> date | None:
    """A date from a date field (YYYY-MM-DD); empty means none."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError("search_bad_date") from None


def source_url(document_id: int, chunk_id: int) -> str:
    """Where the passage is shown inside its document."""
    return f"/documents/{document_id}/source?chunk={chunk_id}"


def _stems(query: str) -> list[str]:
    return [light_stem(t) for t in query_terms(query)]


def _matches(text: str, stems: list[str]) -> list[tuple[int, int]]:
    """Spans of the words of `text` that start like a query word (as the index matches)."""
    spans = []
    for word in _WORD.finditer(text):
        folded = fold(word.group())
        if any(folded.startswith(stem) for stem in stems):
            spans.append(word.span())
    return spans


def _window(text: str, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """The stretch of about `width` characters holding the most marked words, at word bounds."""
    if len(text) <= width:
        return 0, len(text)
    best_start, best_count = 0, -1
    for start, _ in spans or [(0, 0)]:
        begin = max(0, start - width // 4)
        count = sum(1 for s, e in spans if s >= begin and e <= begin + width)
        if count > best_count:
            best_start, best_count = begin, count
    begin = best_start
    if begin > 0:  # start at a word, not inside one
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < begin + 30 else begin
    end = min(len(text), begin + width)
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > begin + width // 2 else end
    return begin, end


def snippet(text: str, query: str, width: int = SNIPPET_CHARS) -> Snippet:
    """A stretch of `text` around the query words, as (part, marked) pairs, with … at cuts."""
    text = " ".join(text.split())
    spans = _matches(text, _stems(query))
    begin, end = _window(text, spans, width)
    parts: Snippet = [("… ", False)] if begin > 0 else []
    position = begin
    for start, stop in spans:
        if start < begin or stop > end:
            continue
        if start > position:
            parts.append((text[position:start], False))
        parts.append((text[start:stop], True))
        position = stop
    if position < end:
        parts.append((text[position:end], False))
    if end < len(text):
        parts.append((" …", False))
    return parts


def api_hit(hit: Hit) -> SearchHit:
    """A hit as the API returns it."""
    return SearchHit(
        chunk_id=hit.chunk_id,
        document_id=hit.document_id,
        title=hit.title,
        filename=hit.filename,
        media_type=hit.media_type,
        collection_id=hit.collection_id,
        collection_name=hit.collection_name,
        page=hit.page,
        label=hit.label,
        text=hit.text,
        score=round(hit.score, 6),
        source_url=source_url(hit.document_id, hit.chunk_id),
        rerank_score=hit.rerank_score,
    )
