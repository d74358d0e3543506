"""Generate the demo collection's shipped files (PDF, DOCX, HTML, Markdown) from its sources.

Usage: .venv/bin/python scripts/make_demo_documents.py [--out DIR]
Needs the dev dependencies (reportlab, python-docx); the generated files are committed so that
`civique demo` does not. Output is deterministic: fixed dates and metadata, fixed ZIP timestamps.
"""

from __future__ import annotations

import argparse
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "civique" / "demo_documents" / "sources"
OUTPUT = ROOT / "civique" / "demo_documents" / "files"
# Which format each source ships as: PDFs and DOCX exercise page and heading positions.
FORMATS = {
    "reglement-cimetiere": "pdf",
    "reglement-salle-polyvalente": "pdf",
    "collecte-dechets": "pdf",
    "inscription-scolaire-cantine": "docx",
    "urbanisme-autorisations": "docx",
    "faq-etat-civil": "html",
    "horaires-contacts": "md",
}
AUTHOR = "Commune d'Exemple"
FIXED_DATE = datetime(2026, 11, 1, 9, 0, 0)  # naive: python-docx writes it as UTC
ZIP_DATE = (2026, 11, 1, 9, 0, 0)
_HEADING = re.compile(r"^(#{1,3})\s+(.+)$")


@dataclass(frozen=True)
class Block:
    """One line-level element of a source: a heading (level 1-3), a paragraph or a list item."""

    kind: str  # "h1", "h2", "h3", "p" or "li"
    text: str


def read_blocks(source: str) -> list[Block]:
    """Split a source into headings, paragraphs (one per line) and list items."""
    blocks = []
    for line in source.splitlines():
        line = line.strip()
        if not line:
            continue
        heading = _HEADING.match(line)
        if heading:
            blocks.append(Block(f"h{len(heading.group(1))}", heading.group(2).strip()))
        elif line.startswith("- "):
            blocks.append(Block("li", line[2:].strip()))
        else:
            blocks.append(Block("p", line))
    return blocks


def title_of(blocks: list[Block]) -> str:
    """The document title: its first level-1 heading."""
    return next(block.text for block in blocks if block.kind == "h1")


def to_pdf(blocks: list[Block]) -> bytes:
    """An A4 PDF with a text layer; each level-2 section after the first starts a new page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, SimpleDocTemplate

    title = title_of(blocks)
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=A4, title=title, author=AUTHOR, subject=title, creator=AUTHOR,
        leftMargin=2.2 * cm, rightMargin=2.2 * cm, topMargin=2 * cm, bottomMargin=2.2 * cm,
        invariant=1,  # fixed creation date and document id: identical bytes on every run
    )
    styles = _pdf_styles()
    story: list[Any] = []
    seen_section = False
    for block in blocks:
        if block.kind == "h2":
            if seen_section:
                story.append(PageBreak())
            seen_section = True
        story.append(_pdf_flowable(block, styles))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.setFont("Helvetica", 8)
        canvas.drawCentredString(A4[0] / 2, 1.2 * cm, f"{AUTHOR} – {title} – page {doc.page}")

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _pdf_styles() -> dict[str, Any]:
    """Paragraph styles for each block kind (built-in Helvetica: no font file needed)."""
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    sheet = getSampleStyleSheet()
    body = ParagraphStyle("DemoBody", parent=sheet["BodyText"], fontName="Helvetica",
                          fontSize=10.5, leading=14, spaceAfter=6)
    return {
        "h1": ParagraphStyle("DemoH1", parent=sheet["Heading1"], fontName="Helvetica-Bold"),
        "h2": ParagraphStyle("DemoH2", parent=sheet["Heading2"], fontName="Helvetica-Bold"),
        "h3": ParagraphStyle("DemoH3", parent=sheet["Heading3"], fontName="Helvetica-Bold"),
        "p": body,
        "li": ParagraphStyle("DemoItem", parent=body, leftIndent=18, bulletIndent=6,
                             spaceAfter=2),
    }


def _pdf_flowable(block: Block, styles: dict[str, Any]) -> Any:
    """The reportlab paragraph for one block (text escaped: reportlab reads it as markup)."""
    from reportlab.platypus import Paragraph

    style = styles[block.kind]
    bullet = "•" if block.kind == "li" else None
    return Paragraph(escape(block.text, quote=False), style, bulletText=bullet)


def to_docx(blocks: list[Block]) -> bytes:
    """A DOCX with real Heading 1-3 styles and bulleted lists, metadata and ZIP dates fixed."""
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.title = title_of(blocks)
    properties.author = properties.last_modified_by = AUTHOR
    properties.created = properties.modified = properties.last_printed = FIXED_DATE
    properties.revision = 1
    properties.language = "fr-FR"
    for block in blocks:
        if block.kind.startswith("h"):
            document.add_heading(block.text, level=int(block.kind[1]))
        elif block.kind == "li":
            document.add_paragraph(block.text, style="List Bullet")
        else:
            document.add_paragraph(block.text)
    out = io.BytesIO()
    document.save(out)
    return _fixed_zip_dates(out.getvalue())


def _fixed_zip_dates(data: bytes) -> bytes:
    """The same ZIP with every member dated ZIP_DATE (python-docx stamps the current time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, source.read(info.filename))
    return out.getvalue()


def to_html(blocks: list[Block]) -> bytes:
    """A standalone French HTML page; consecutive list items share one list."""
    lines = ["<!DOCTYPE html>", '<html lang="fr">', "<head>", '<meta charset="utf-8">',
             f"<title>{escape(title_of(blocks))}</title>", "</head>", "<body>", "<main>"]
    in_list = False
    for block in blocks:
        if in_list and block.kind != "li":
            lines.append("</ul>")
        if block.kind == "li" and not in_list:
            lines.append("<ul>")
        in_list = block.kind == "li"
        tag = block.kind
        lines.append(f"<{tag}>{escape(block.text, quote=False)}</{tag}>")
    if in_list:
        lines.append("</ul>")
    lines += ["</main>", "</body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")


def render(name: str, source: str) -> tuple[str, bytes]:
    """The shipped file name and bytes for the source `name`."""
    kind = FORMATS[name]
    if kind == "md":
        return f"{name}.md", source.encode("utf-8")
    blocks = read_blocks(source)
    writers = {"pdf": to_pdf, "docx": to_docx, "html": to_html}
    return f"{name}.{kind}", writers[kind](blocks)


def build(out_dir: Path) -> list[Path]:
    """Write every shipped file into `out_dir`; returns the paths written, sorted."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(FORMATS):
        filename, data = render(name, (SOURCES / f"{name}.md").read_text(encoding="utf-8"))
        path = out_dir / filename
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """Regenerate the shipped files (into civique/demo_documents/files by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUTPUT, help="output directory")
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(f"{path.stat().st_size:>7} {path}")


if __name__ == "__main__":
    main()
