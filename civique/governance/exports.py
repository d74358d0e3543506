"""Files of an AI-assisted output (DOCX, ODT, PDF): the organisation's letterhead, the text, and
the AI-assistance mention both visible in the page and in the document's metadata (house rule 6).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from civique.i18n import format_datetime, gettext
from civique.web.markdown import render_markdown

FORMATS: dict[str, tuple[str, str]] = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "odt": ("application/vnd.oasis.opendocument.text", "odt"),
    "pdf": ("application/pdf", "pdf"),
}
# python-docx and WeasyPrint embed these; others (WebP) are left out rather than converted.
_LOGO_TYPES = {"image/png", "image/jpeg"}


@dataclass(frozen=True)
class ExportDoc:
    """What goes into an exported file."""

    output_id: int
    org_name: str
    logo: bytes | None
    logo_mime: str | None
    title: str
    text: str
    author: str
    created_at: datetime
    mention: str  # the visible AI-assistance mention, also the metadata's description
    keywords: tuple[str, ...]
    fields: dict[str, str]  # user-defined metadata: model, validation, validator, date
    # The letterhead's contact lines under the name: postal address, telephone, e-mail, site.
    contact: tuple[str, ...] = ()

    @property
    def logo_usable(self) -> bool:
        """A logo in a format the three writers embed."""
        return bool(self.logo) and self.logo_mime in _LOGO_TYPES


def mention(
    model: str, created_at: datetime, validator: str | None, decided_at: datetime | None
) -> str:
    """The sentence every exported file carries, in the current language."""
    made = gettext(
        "Document produced with the assistance of an AI (model %(model)s, on %(date)s)",
        model=model,
        date=format_datetime(created_at, "short"),
    )
    if validator is not None and decided_at is not None:
        checked = gettext(
            "validated by %(name)s on %(date)s",
            name=validator,
            date=format_datetime(decided_at, "short"),
        )
    else:
        checked = gettext("not submitted to validation")
    return f"{made} — {checked}."


def filename(doc: ExportDoc, fmt: str) -> str:
    """A safe file name (ASCII, no path): the output's number and the date."""
    return f"civique-sortie-{doc.output_id}-{doc.created_at:%Y%m%d}.{FORMATS[fmt][1]}"


def build(doc: ExportDoc, fmt: str) -> bytes:
    """The file's bytes in `fmt` (a key of `FORMATS`)."""
    writers = {"docx": _docx, "odt": _odt, "pdf": _pdf}
    return writers[fmt](doc)


def _paragraphs(text: str) -> list[str]:
    """The text's paragraphs (blank lines separate them; single line breaks are kept)."""
    return [p.strip("\n") for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


# DOCX ------------------------------------------------------------------------------------------


def _docx(doc: ExportDoc) -> bytes:
    from docx import Document
    from docx.shared import Cm, Pt

    document = Document()
    head = document.sections[0].header.paragraphs[0]
    if doc.logo_usable and doc.logo is not None:
        head.add_run().add_picture(io.BytesIO(doc.logo), height=Cm(1.5))
        head.add_run("  ")
    head.add_run(doc.org_name).bold = True
    if doc.contact:
        lines = document.sections[0].header.add_paragraph()
        for index, line in enumerate(doc.contact):
            run = lines.add_run(("\n" if index else "") + line)
            run.font.size = Pt(8)
    document.add_heading(doc.title, level=1)
    for paragraph in _paragraphs(doc.text):
        document.add_paragraph(paragraph)
    box = document.add_paragraph()
    box.paragraph_format.space_before = Pt(18)
    run = box.add_run(doc.mention)
    run.italic = True
    run.font.size = Pt(9)
    # The footer repeats it on every page, so a page printed alone still says so.
    document.sections[0].footer.paragraphs[0].text = doc.mention
    props = document.core_properties
    props.title = doc.title
    props.subject = doc.mention
    props.comments = doc.mention
    props.keywords = "; ".join(doc.keywords)
    props.author = doc.author
    props.category = gettext("AI-assisted document")
    props.identifier = f"civique-output-{doc.output_id}"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ODT -------------------------------------------------------------------------------------------


def _odt(doc: ExportDoc) -> bytes:
    from odf import dc, meta, style, text
    from odf.opendocument import OpenDocumentText

    document = OpenDocumentText()
    bold = style.Style(name="Letterhead", family="paragraph")
    bold.addElement(style.TextProperties(fontweight="bold"))
    small = style.Style(name="Mention", family="paragraph")
    small.addElement(style.TextProperties(fontsize="9pt", fontstyle="italic"))
    small.addElement(
        style.ParagraphProperties(margintop="0.6cm", border="0.5pt solid #000000", padding="0.2cm")
    )
    document.styles.addElement(bold)
    document.styles.addElement(small)
    small_head = style.Style(name="Contact", family="paragraph")
    small_head.addElement(style.TextProperties(fontsize="8pt"))
    document.styles.addElement(small_head)
    document.text.addElement(text.P(stylename=bold, text=doc.org_name))
    if doc.contact:
        document.text.addElement(_odt_paragraph("\n".join(doc.contact), small_head))
    document.text.addElement(text.H(outlinelevel=1, text=doc.title))
    for paragraph in _paragraphs(doc.text):
        document.text.addElement(_odt_paragraph(paragraph))
    document.text.addElement(text.P(stylename=small, text=doc.mention))
    document.meta.addElement(dc.Title(text=doc.title))
    document.meta.addElement(dc.Description(text=doc.mention))
    document.meta.addElement(dc.Subject(text=gettext("AI-assisted document")))
    document.meta.addElement(dc.Creator(text=doc.author))
    for keyword in doc.keywords:
        document.meta.addElement(meta.Keyword(text=keyword))
    for name, value in doc.fields.items():
        document.meta.addElement(meta.UserDefined(name=name, text=value))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def _odt_paragraph(paragraph: str, stylename: Any = None) -> Any:
    """One paragraph, its line breaks kept as ODF line breaks."""
    from odf import text

    element = text.P(stylename=stylename) if stylename is not None else text.P()
    for index, line in enumerate(paragraph.split("\n")):
        if index:
            element.addElement(text.LineBreak())
        element.addText(line)
    return element


# PDF -------------------------------------------------------------------------------------------

_PDF_CSS = """
@page { size: A4; margin: 2.2cm 2cm 3cm;
  @bottom-center { content: element(mention); } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; line-height: 1.45; }
header { display: flex; align-items: center; gap: 0.6cm; border-bottom: 1px solid #444;
  padding-bottom: 0.3cm; margin-bottom: 0.6cm; }
header img { height: 1.5cm; }
header strong { font-size: 13pt; }
header .contact { font-size: 8pt; line-height: 1.3; }
h1 { font-size: 15pt; }
.mention { border: 1px solid #000; padding: 0.25cm; font-size: 8.5pt; font-style: italic;
  margin-top: 0.8cm; }
footer { position: running(mention); font-size: 7.5pt; color: #333; }
"""


def _pdf(doc: ExportDoc) -> bytes:
    from weasyprint import HTML

    logo = ""
    if doc.logo_usable and doc.logo is not None:
        import base64

        data = base64.b64encode(doc.logo).decode()
        logo = f'<img src="data:{doc.logo_mime};base64,{data}" alt="">'
    contact = "".join(f"<br>{escape(line)}" for line in doc.contact)
    contact = f'<div class="contact">{contact.removeprefix("<br>")}</div>' if contact else ""
    # WeasyPrint writes these <meta> into the PDF's metadata: description → Subject.
    html = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>{escape(doc.title)}</title>
<meta name="author" content="{escape(doc.author)}">
<meta name="description" content="{escape(doc.mention)}">
<meta name="keywords" content="{escape(", ".join(doc.keywords))}">
<meta name="generator" content="Civique">
<style>{_PDF_CSS}</style></head><body>
<footer>{escape(doc.mention)}</footer>
<header>{logo}<div><strong>{escape(doc.org_name)}</strong>{contact}</div></header>
<h1>{escape(doc.title)}</h1>
<main>{render_markdown(doc.text)}</main>
<p class="mention">{escape(doc.mention)}</p>
</body></html>"""
    # No base URL: the document can load nothing (the model's text may hold image links).
    return bytes(HTML(string=html, url_fetcher=_no_fetch).write_pdf())


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    """Refuse every resource but the inline logo: an exported file must not reach out."""
    if url.startswith("data:"):
        from weasyprint.urls import default_url_fetcher

        return dict(default_url_fetcher(url))
    raise ValueError("external resources are not loaded")
