"""PDF text per page with pypdfium2; OCR with Tesseract for pages that are only images."""

from __future__ import annotations

import logging
import math
import os
import re
import threading

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from civique.documents.types import ParseLimits, Section
from civique.errors import UserError

log = logging.getLogger(__name__)

# pdfium's FPDF_GetLastError value for a missing or wrong password.
_ERR_PASSWORD = 4
_WORD = re.compile(r"\w{2,}")
# PDFium is not thread-safe and ingestion may parse in several threads at once: every call into it
# holds this lock, while OCR (a Tesseract subprocess, the slow part) runs outside it.
_PDFIUM = threading.Lock()
_MAX_OCR_PIXELS = 40_000_000  # an A3 page at 300 dpi is ~17.4 M pixels


class PdfText:
    """What a PDF yielded: sections (one per page with text), title, OCR'd pages, page count."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.title: str | None = None
        self.ocr_pages: list[int] = []
        self.image_pages = 0
        self.page_count = 0
        self.damaged_pages: list[int] = []


def parse_pdf(data: bytes, limits: ParseLimits) -> PdfText:
    """Extract the text of every page, OCR-ing pages that have images but no text layer."""
    with _PDFIUM:
        pdf = _open(data)
    result = PdfText()
    try:
        with _PDFIUM:
            result.page_count = len(pdf)
            result.title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
        if result.page_count > limits.max_pages:
            raise UserError("doc_too_many_pages", 413, pages=result.page_count,
                            limit=limits.max_pages)
        for index in range(result.page_count):
            try:
                text = _page_text(pdf, index, limits, result)
            except pdfium.PdfiumError:  # one damaged page: skip it, say so, read the others
                result.damaged_pages.append(index + 1)
                continue
            if text.strip():
                result.sections.append(Section(text=text, page=index + 1))
        if result.page_count and len(result.damaged_pages) == result.page_count:
            raise UserError("doc_corrupt", 422, kind="PDF")
    finally:
        with _PDFIUM:
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
    with _PDFIUM:
        text, scan, image = _page_content(pdf, index, limits)
    if not scan:
        return text
    result.image_pages += 1
    if image is None:  # OCR is off
        return text
    ocr = ocr_image(image, limits)
    if _WORD.search(ocr):
        result.ocr_pages.append(index + 1)
        return ocr
    return text


def _page_content(pdf: pdfium.PdfDocument, index: int,
                  limits: ParseLimits) -> tuple[str, bool, Image.Image | None]:
    """A page's text layer, whether it is a scan (images, no text) and its rendering for OCR."""
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
        if len(_WORD.findall(text)) >= 3 or not _has_image(page):
            return text, False, None
        if not limits.ocr:
            return text, True, None
        width, height = page.get_size()  # in points (1/72 inch)
        # A poster-sized page at full resolution would need gigabytes: cap the pixel count.
        scale = min(limits.ocr_dpi / 72, math.sqrt(_MAX_OCR_PIXELS / max(width * height, 1)))
        bitmap = page.render(scale=scale, grayscale=True)
        try:
            return text, True, bitmap.to_pil().copy()  # the copy outlives the bitmap's buffer
        finally:
            bitmap.close()
    finally:
        page.close()


def _has_image(page: pdfium.PdfPage) -> bool:
    """True when the page draws at least one image (a scan), so OCR may find text."""
    for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        return True
    return False


def ocr_image(image: Image.Image, limits: ParseLimits) -> str:
    """Read a rendered page with Tesseract in the configured languages."""
    import pytesseract  # imported here: only scans need it

    # Tesseract's OpenMP threads fight each other (and the web workers) on small machines: one
    # thread per page was 3-4x faster on 2 cores. An administrator's own value is kept.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        return str(pytesseract.image_to_string(image, lang=limits.ocr_languages,
                                               timeout=limits.ocr_timeout_s))
    except pytesseract.TesseractNotFoundError as exc:
        raise UserError("doc_ocr_unavailable", 503) from exc
    except RuntimeError as exc:  # pytesseract raises RuntimeError on its timeout
        log.warning("OCR timed out on a page: %s", exc)
        return ""


__all__ = ["PdfText", "ocr_image", "parse_pdf"]
