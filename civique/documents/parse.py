"""Parse an uploaded file into ordered sections with positions (page, heading, sheet, slide)."""

from __future__ import annotations

import logging
from pathlib import PurePath

from civique.documents import office, sniff, text
from civique.documents.pdf import parse_pdf
from civique.documents.types import Notice, ParsedDocument, ParseLimits, Section
from civique.errors import UserError

log = logging.getLogger(__name__)

__all__ = ["Notice", "ParseLimits", "ParsedDocument", "Section", "detect_language", "parse"]


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    """Parse `data` by its content (not its name) within `limits`; raise UserError when unusable."""
    if len(data) > limits.max_bytes:
        raise UserError("doc_too_big", 413, size=len(data), limit=limits.max_bytes)
    if not data.strip():
        raise UserError("doc_empty", 422)
    media_type = sniff.sniff(data, filename, limits)
    notices = _extension_notices(filename, media_type)
    document = _parse_as(media_type, data, limits)
    if media_type == sniff.EML:
        _add_attachments(document, data, limits)
    document.title = document.title or PurePath(filename).stem or filename
    document.notices = notices + document.notices
    document.sections = [s for s in (_tidied(s) for s in document.sections) if s.text]
    if not document.sections:
        raise UserError("doc_no_text", 422)
    document.language = detect_language(document.sections)
    return document


def _add_attachments(document: ParsedDocument, data: bytes, limits: ParseLimits) -> None:
    """Read an e-mail's attached files (one level: an attached e-mail's own attachments are not
    opened); each becomes sections labelled with its name; an unreadable one is a notice."""
    for name, content in text.eml_attachments(data):
        try:
            if sniff.sniff(content, name, limits) == sniff.EML:
                raise UserError("doc_unsupported", kind="EML")
            attached = _parse_as(sniff.sniff(content, name, limits), content, limits)
        except UserError as exc:
            params = {"name": name, "reason": exc.code}
            document.notices.append(Notice("doc_attachment_skipped", params))
            continue
        for section in attached.sections:
            label = f"{name} — {section.label}" if section.label else name
            document.sections.append(Section(text=section.text, page=section.page, label=label))


def _extension_notices(filename: str, media_type: str) -> list[Notice]:
    """Tell the user when the file name's extension does not match the content."""
    declared = sniff.EXTENSIONS.get(sniff.extension_of(filename))
    if declared is None or declared == media_type:
        return []
    if declared in sniff.TEXT_FAMILY and media_type in sniff.TEXT_FAMILY:
        return []  # a .txt with Markdown headings, or a .csv that is prose: both read as text
    return [Notice("doc_type_mismatch", {"declared": sniff.extension_of(filename).upper(),
                                         "detected": sniff.KIND_NAMES[media_type]})]


def _parse_as(media_type: str, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """Run the parser for `media_type`, turning library failures into a 'corrupt file' error."""
    if media_type == sniff.PDF:
        return _parse_pdf(data, limits)
    try:
        sections, title, pages = _parse_other(media_type, data, limits)
    except UserError:
        raise
    except office.OFFICE_ERRORS as exc:
        log.info("unreadable %s: %r", media_type, exc)
        raise UserError("doc_corrupt", 422, kind=sniff.KIND_NAMES[media_type]) from exc
    return ParsedDocument(title=title or "", media_type=media_type, language=None,
                          sections=sections, page_count=pages)


def _parse_pdf(data: bytes, limits: ParseLimits) -> ParsedDocument:
    """PDF: one section per page; a scan with no readable text is refused with its own error."""
    result = parse_pdf(data, limits)
    if not result.sections and result.image_pages:
        raise UserError("doc_scan_unreadable", 422)
    notices = []
    if result.damaged_pages:
        pages = ", ".join(str(p) for p in result.damaged_pages)
        notices.append(Notice("doc_pages_damaged", {"pages": pages}))
    return ParsedDocument(title=result.title or "", media_type=sniff.PDF, language=None,
                          sections=result.sections, ocr_pages=result.ocr_pages,
                          page_count=result.page_count, notices=notices)


def _parse_other(media_type: str, data: bytes,
                 limits: ParseLimits) -> tuple[list[Section], str | None, int | None]:
    """Dispatch the non-PDF formats; returns sections, title and page (slide) count."""
    if media_type == sniff.PPTX:
        return office.parse_pptx(data, limits)
    if media_type == sniff.EML:
        return (*text.parse_eml(data), None)
    parsers = {sniff.DOCX: office.parse_docx, sniff.XLSX: office.parse_xlsx,
               sniff.ODT: office.parse_odt, sniff.ODS: office.parse_ods}
    if media_type in parsers:
        return (*parsers[media_type](data), None)
    decoded = text.decode(data)
    if media_type == sniff.HTML:
        return (*text.parse_html(decoded), None)
    if media_type == sniff.MARKDOWN:
        return (*text.parse_markdown(decoded), None)
    if media_type == sniff.CSV:
        return text.parse_csv(decoded), None, None
    return text.parse_text(decoded), None, None


def _tidied(section: Section) -> Section:
    """The section with layout whitespace collapsed (offsets are taken on this text)."""
    return Section(text=text.tidy(section.text), page=section.page, label=section.label)


def detect_language(sections: list[Section], sample_chars: int = 5000) -> str | None:
    """ISO 639-1 code of the main language (py3langid), or None when the text is too short."""
    sample = "\n".join(section.text for section in sections)[:sample_chars]
    if sum(ch.isalpha() for ch in sample) < 20:
        return None
    import py3langid  # loads its small model on first use

    code, _score = py3langid.classify(sample)
    return str(code)
