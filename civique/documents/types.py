"""Value types shared by the document parsers and the chunker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ParseLimits:
    """Bounds applied to every file before and while it is parsed."""

    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 2000
    # ZIP-based formats (DOCX, ODT, PPTX, XLSX, ODS): declared sizes are checked before extraction.
    max_decompressed_bytes: int = 300 * 1024 * 1024
    max_compression_ratio: int = 200
    max_zip_members: int = 10_000
    ocr: bool = True
    ocr_languages: str = "fra+eng"
    ocr_dpi: int = 300
    ocr_timeout_s: int = 120


@dataclass(frozen=True)
class Section:
    """A run of text with its position: a page (PDF page, slide) and/or a label (heading, sheet)."""

    text: str
    page: int | None = None
    label: str | None = None


@dataclass(frozen=True)
class Notice:
    """Something the user should know about a file that was still parsed (code keys MESSAGES)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParsedDocument:
    """The text of a file, in reading order, with positions kept."""

    title: str
    media_type: str
    language: str | None
    sections: list[Section]
    notices: list[Notice] = field(default_factory=list)
    ocr_pages: list[int] = field(default_factory=list)
    page_count: int | None = None
