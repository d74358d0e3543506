"""Office files: DOCX (python-docx), PPTX (python-pptx), XLSX (openpyxl), ODT and ODS (odfpy)."""

from __future__ import annotations

import io
import xml.sax
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from civique.documents.types import ParseLimits, Section
from civique.errors import UserError

# ODS rows and cells may declare huge repeat counts (an empty row repeated to the sheet's end).
_MAX_REPEAT = 100
_CELL_SEPARATOR = " | "


class HeadingSections:
    """Collects paragraphs into sections that each start at a heading."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.label: str | None = None
        self.lines: list[str] = []
        self.first_heading: str | None = None

    def heading(self, text: str) -> None:
        """Close the current section and open one labelled with this heading."""
        text = text.strip()
        if not text:
            return
        self.flush()
        self.label = text
        self.lines = [text]
        self.first_heading = self.first_heading or text

    def add(self, text: str) -> None:
        """Append a paragraph to the current section."""
        if text.strip():
            self.lines.append(text.strip())

    def flush(self) -> None:
        """Close the current section if it has text."""
        if self.lines:
            self.sections.append(Section(text="\n\n".join(self.lines), label=self.label))
        self.lines = []


def _row_text(values: Iterable[Any]) -> str:
    """One spreadsheet row as text: non-empty cells joined by a visible separator."""
    cells = [str(value).strip() for value in values if value is not None and str(value).strip()]
    return _CELL_SEPARATOR.join(cells)


def parse_docx(data: bytes) -> tuple[list[Section], str | None]:
    """Sections of a DOCX split at its headings; tables read row by row."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    out = HeadingSections()
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            style = (block.style.name if block.style is not None else "") or ""
            if style.lower().startswith(("heading", "titre", "title")):
                out.heading(block.text)
            else:
                out.add(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                out.add(_row_text(cell.text for cell in row.cells))
    out.flush()
    notes = _docx_footnotes(document)
    if notes:
        out.sections.append(Section(text="\n\n".join(notes), label="Notes"))
    title = (document.core_properties.title or "").strip() or out.first_heading
    return out.sections, title


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_footnotes(document: Any) -> list[str]:
    """The footnotes' text, numbered as in the document (separators, ids ≤ 0, left out)."""
    from docx.oxml import parse_xml  # python-docx's hardened lxml parser

    for part in document.part.package.iter_parts():
        if str(part.partname) == "/word/footnotes.xml":
            root = parse_xml(part.blob)
            notes: list[str] = []
            for note in root.iter(f"{_W}footnote"):
                if int(note.get(f"{_W}id", "0")) <= 0:
                    continue
                words = "".join(t.text or "" for t in note.iter(f"{_W}t")).strip()
                if words:
                    notes.append(f"[{len(notes) + 1}] {words}")
            return notes
    return []


def parse_pptx(data: bytes, limits: ParseLimits) -> tuple[list[Section], str | None, int]:
    """One section per slide (page = slide number, label = slide title), notes included."""
    from pptx import Presentation

    presentation = Presentation(io.BytesIO(data))
    slides = list(presentation.slides)
    if len(slides) > limits.max_pages:
        raise UserError("doc_too_many_pages", 413, pages=len(slides), limit=limits.max_pages)
    sections = []
    for number, slide in enumerate(slides, start=1):
        title_shape = slide.shapes.title
        label = title_shape.text_frame.text.strip() if title_shape is not None else ""
        parts = list(_shape_texts(slide.shapes))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            parts.append(slide.notes_slide.notes_text_frame.text)
        text = "\n\n".join(part.strip() for part in parts if part.strip())
        if text:
            sections.append(Section(text=text, page=number, label=label or None))
    title = (presentation.core_properties.title or "").strip() or None
    if title is None and sections:
        title = sections[0].label
    return sections, title, len(slides)


def _shape_texts(shapes: Iterable[Any]) -> Iterator[str]:
    """Texts of slide shapes in order, entering groups and tables."""
    for shape in shapes:
        if getattr(shape, "shapes", None) is not None:  # a group
            yield from _shape_texts(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                yield _row_text(cell.text for cell in row.cells)
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text


def parse_xlsx(data: bytes) -> tuple[list[Section], str | None]:
    """One section per sheet (label = sheet name), one line per non-empty row."""
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sections = []
        for sheet in workbook.worksheets:
            rows = [_row_text(row) for row in sheet.iter_rows(values_only=True)]
            text = "\n".join(row for row in rows if row)
            if text:
                sections.append(Section(text=text, label=sheet.title))
        title = (workbook.properties.title or "").strip() or None
    finally:
        workbook.close()
    return sections, title


def _load_odf(data: bytes) -> Any:
    """Open an OpenDocument file with odfpy."""
    from odf.opendocument import load

    return load(io.BytesIO(data))


def _odf_title(document: Any) -> str | None:
    """The title from the document's metadata, if any."""
    from odf import dc, teletype

    titles = document.meta.getElementsByType(dc.Title)
    return teletype.extractText(titles[0]).strip() or None if titles else None


def parse_odt(data: bytes) -> tuple[list[Section], str | None]:
    """Sections of an ODT split at its headings; lists and tables read in order."""
    document = _load_odf(data)
    out = HeadingSections()
    _walk_odt(document.text, out)
    out.flush()
    return out.sections, _odf_title(document) or out.first_heading


def _walk_odt(node: Any, out: HeadingSections) -> None:
    """Visit body elements in reading order."""
    from odf import teletype
    from odf.namespaces import TABLENS, TEXTNS

    for child in node.childNodes:
        qname = getattr(child, "qname", None)
        if qname == (TEXTNS, "h"):
            out.heading(teletype.extractText(child))
        elif qname == (TEXTNS, "p"):
            out.add(teletype.extractText(child))
        elif qname == (TABLENS, "table"):
            for row in _odf_rows(child):
                out.add(row)
        elif qname is not None and qname[0] in (TEXTNS, TABLENS):
            _walk_odt(child, out)  # lists, list items, sections, table rows


def parse_ods(data: bytes) -> tuple[list[Section], str | None]:
    """One section per sheet of an ODS (label = sheet name)."""
    from odf.table import Table

    document = _load_odf(data)
    sections = []
    for table in document.spreadsheet.getElementsByType(Table):
        text = "\n".join(row for row in _odf_rows(table) if row)
        if text:
            sections.append(Section(text=text, label=str(table.getAttribute("name") or "")))
    return sections, _odf_title(document)


def _odf_rows(table: Any) -> Iterator[str]:
    """Rows of an ODF table as text, honouring (bounded) repeat counts."""
    from odf import teletype
    from odf.table import TableCell, TableRow

    for row in table.getElementsByType(TableRow):
        cells: list[str] = []
        for cell in row.getElementsByType(TableCell):
            text = teletype.extractText(cell).strip()
            repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
            if text:
                cells.extend([text] * min(repeat, _MAX_REPEAT))
        line = _CELL_SEPARATOR.join(cells)
        if line:
            repeat = int(row.getAttribute("numberrowsrepeated") or 1)
            yield from [line] * min(repeat, _MAX_REPEAT)


# Exceptions the office libraries raise on damaged files (they have no common base class).
OFFICE_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError, IndexError, OSError,
    EOFError, SyntaxError, xml.sax.SAXException, zlib.error, NotImplementedError, RuntimeError,
)
