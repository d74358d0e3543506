"""The source viewer: one page (or section) of a document version with a cited passage marked.

A citation points at a chunk, and optionally at the quoted words inside it (offsets into the chunk
text). Chunks of merged sections join the section texts with a blank line, so offsets are mapped
back section by section. Superseded versions keep their sections but lose their chunks: a citation
of one still opens the version, with a notice instead of a highlight.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.documents.files import readable_document, section_text
from civique.documents.models import Chunk, Document, DocumentSection, DocumentVersion
from civique.documents.storage import FileStore
from civique.errors import NotFound

PDF = "application/pdf"
_JOINER = 2  # merged sections are joined by "\n\n" in a chunk's text
RENDER_SCALE = 1.5


@dataclass
class Segment:
    """A piece of the page text; `mark` is None, "passage" or "quote"."""

    text: str
    mark: str | None = None


@dataclass
class SourcePage:
    """What the viewer shows."""

    document: Document
    version: DocumentVersion | None
    page: int = 0  # 1-based position of the section among the version's sections
    pages: int = 0
    section: DocumentSection | None = None
    segments: list[Segment] = field(default_factory=list)
    notice: str | None = None  # gone | superseded | not_ready
    current_version: DocumentVersion | None = None

    @property
    def is_pdf(self) -> bool:
        """True when the page can be shown as a rendered image."""
        return self.version is not None and self.version.media_type == PDF


def _version(session: Session, document: Document, version_id: int | None) -> DocumentVersion:
    """A version of `document` (the current one when no id is given)."""
    wanted = version_id if version_id is not None else document.current_version_id
    version = session.get(DocumentVersion, wanted) if wanted is not None else None
    if version is None or version.document_id != document.id:
        raise NotFound()
    return version


def _section_count(session: Session, version_id: int) -> int:
    return int(
        session.scalar(select(func.count()).where(DocumentSection.version_id == version_id)) or 0
    )


def chunk_spans(session: Session, chunk: Chunk) -> list[tuple[int, int, int, int]]:
    """(section ordinal, start, end in the section, offset in the chunk text) per section."""
    spans: list[tuple[int, int, int, int]] = []
    offset = 0
    for ordinal in range(chunk.section, chunk.end_section + 1):
        section = section_text(session, chunk.version_id, ordinal)
        if section is None:
            continue
        start = chunk.start if ordinal == chunk.section else 0
        end = chunk.end if ordinal == chunk.end_section else len(section.text)
        spans.append((ordinal, start, end, offset))
        offset += end - start + _JOINER
    return spans


def highlighted(
    text: str, passage: tuple[int, int], quote: tuple[int, int] | None
) -> list[Segment]:
    """The text cut into plain, passage and quote segments."""
    cuts = sorted({0, len(text), *passage, *(quote or ())})
    segments = []
    for a, b in itertools.pairwise(cuts):
        if a >= b:
            continue
        mark = None
        if quote and quote[0] <= a and b <= quote[1]:
            mark = "quote"
        elif passage[0] <= a and b <= passage[1]:
            mark = "passage"
        segments.append(Segment(text[a:b], mark))
    return segments


def _cited(
    session: Session, chunk: Chunk, start: int | None, end: int | None
) -> tuple[int, list[Segment]] | None:
    """The section ordinal to show for a chunk, with its passage (and quote) marked."""
    spans = chunk_spans(session, chunk)
    if not spans:
        return None
    chosen = spans[0]
    if start is not None:
        chosen = next((s for s in spans if s[3] <= start < s[3] + s[2] - s[1] + _JOINER), chosen)
    ordinal, a, b, offset = chosen
    section = section_text(session, chunk.version_id, ordinal)
    if section is None:
        return None
    quote = None
    if start is not None and end is not None and 0 <= start < end:
        qa = min(max(a, a + start - offset), b)
        qb = min(max(qa, a + end - offset), b)
        quote = (qa, qb) if qb > qa else None
    return ordinal, highlighted(section.text, (a, b), quote)


def source_page(
    session: Session,
    user: User,
    document_id: int,
    chunk_id: int | None = None,
    version_id: int | None = None,
    page: int | None = None,
    start: int | None = None,
    end: int | None = None,
) -> SourcePage:
    """The page to show: the cited chunk's page, or `page` of a version (access checked)."""
    document = readable_document(session, user, document_id)
    current = session.get(DocumentVersion, document.current_version_id or -1)
    chunk = session.get(Chunk, chunk_id) if chunk_id is not None else None
    if chunk is not None and chunk.document_id != document.id:
        chunk = None  # another document's chunk is treated as gone, never shown
    if chunk is not None:
        version_id = chunk.version_id
    try:
        version = _version(session, document, version_id)
    except NotFound:
        if version_id is None:  # nothing ingested yet
            return SourcePage(document, None, notice="not_ready")
        raise
    result = SourcePage(document, version, pages=_section_count(session, version.id))
    result.current_version = current
    ordinal = max(0, (page or 1) - 1)
    cited = _cited(session, chunk, start, end) if chunk is not None and page is None else None
    if chunk_id is not None and chunk is None:
        result.notice = "gone"
    if version.status == "superseded":
        result.notice = "superseded"
    if cited is not None:
        ordinal, result.segments = cited
    result.section = section_text(session, version.id, min(ordinal, max(0, result.pages - 1)))
    if result.section is not None:
        result.page = result.section.ordinal + 1
        if not result.segments:
            result.segments = [Segment(result.section.text)]
    return result


def render_page_png(
    session: Session,
    store: FileStore,
    user: User,
    document_id: int,
    version_id: int | None,
    page: int,
) -> bytes:
    """A PNG image of one page of a PDF version (access checked)."""
    document = readable_document(session, user, document_id)
    version = _version(session, document, version_id)
    if version.media_type != PDF or page < 1 or page > (version.page_count or 0):
        raise NotFound()
    data = store.get(version.storage_key)
    import pypdfium2  # heavy: loaded only when a page image is asked for

    pdf = pypdfium2.PdfDocument(data)
    try:
        bitmap = pdf[page - 1].render(scale=RENDER_SCALE)
        image = bitmap.to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()
    finally:
        pdf.close()
