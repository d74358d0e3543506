"""PDF text per page with pypdfium2; OCR with Tesseract for pages that are only images."""

from __future__ import annotations

import logging
import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from civique.documents.types import ParseLimits, Section
from civique.errors import UserError

log = logging.getLogger(__name__)

# pdfium's FPDF_GetLastError value for a missing or wrong password.
_ERR_PASSWORD = 4
_WORD = re.compile(r"\w{2,}")


class PdfText:
    """What a PDF yielded: sections (one per page with text), title, OCR'd pages, page count."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.title: str | None = None
        self.ocr_pages: list[int] = []
        self.image_pages = 0
        self.page_count = 0


def parse_pdf(data: bytes, limits: ParseLimits) -> PdfText:
    """Extract the text of every page, OCR-ing pages that have images but no text layer."""
    pdf = _open(data)
    result = PdfText()
    try:
        result.page_count = len(pdf)
        if result.page_count > limits.max_pages:
            raise UserError("doc_too_many_pages", 413, pages=result.page_count,
                            limit=limits.max_pages)
        result.title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
        for index in range(result.page_count):
            text = _page_text(pdf, index, limits, result)
            if text.strip():
                result.sections.append(Section(text=text, page=index + 1))
    except pdfium.PdfiumError as exc:  # a page that cannot be loaded
        raise UserError("doc_corrupt", 422, kind="PDF") from exc
    finally:
        pdf.close()
    return result


def _open(data: bytes) -> pdfium.PdfDocument:
    """Open the PDF, telling encrypted files from damaged ones."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _ERR_PASSWORD or "password" in str(exc).lower():
            raise UserError("doc_encrypted", 422) from exc
        raise UserError("doc_corrupt", 422, kind="PDF") from exc


def _page_text(pdf: pdfium.PdfDocument, index: int, limits: ParseLimits, result: PdfText) -> str:
    """The text layer of one page, or its OCR when the page is an image without text."""
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
        if len(_WORD.findall(text)) >= 3 or not _has_image(page):
            return text
        result.image_pages += 1
        if not limits.ocr:
            return text
        ocr = ocr_page(page, limits)
        if _WORD.search(ocr):
            result.ocr_pages.append(index + 1)
            return ocr
        return text
    finally:
        page.close()


def _has_image(page: pdfium.PdfPage) -> bool:
    """True when the page draws at least one image (a scan), so OCR may find text."""
    for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        return True
    return False


def ocr_page(page: pdfium.PdfPage, limits: ParseLimits) -> str:
    """Render one page and read it with Tesseract in the configured languages."""
    import pytesseract  # imported here: only scans need it

    bitmap = page.render(scale=limits.ocr_dpi / 72, grayscale=True)
    try:
        image = bitmap.to_pil()
        try:
            return str(pytesseract.image_to_string(image, lang=limits.ocr_languages,
                                                   timeout=limits.ocr_timeout_s))
        except pytesseract.TesseractNotFoundError as exc:
            raise UserError("doc_ocr_unavailable", 503) from exc
        except RuntimeError as exc:  # pytesseract raises RuntimeError on its timeout
            log.warning("OCR timed out on a page: %s", exc)
            return ""
    finally:
        bitmap.close()


__all__ = ["PdfText", "ocr_page", "parse_pdf"]
