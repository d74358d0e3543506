"""Real small files in every supported format, generated with the formats' own libraries."""

from __future__ import annotations

import io
import zipfile

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SCAN_LINES = [
    "Mairie de Bellerive",
    "Arrêté municipal relatif à la sécurité",
    "des fêtes de l'été sur la place du marché.",
    "Le maire décide que la circulation est interdite.",
]


def pdf_pages(pages: list[str | Image.Image], password: str | None = None,
              title: str | None = None) -> bytes:
    """A PDF with one page per item: text (a real text layer) or an image alone (a scan)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVu", FONT))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, encrypt=password)
    if title:
        pdf.setTitle(title)
    for page in pages:
        if isinstance(page, Image.Image):
            pdf.drawImage(ImageReader(page), 30, 400, width=535, height=535 * page.height
                          / page.width)
            pdf.showPage()
            continue
        pdf.setFont("DejaVu", 12)
        y = 780
        for line in page.splitlines():
            pdf.drawString(60, y, line)
            y -= 18
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def scan_image(lines: list[str] = SCAN_LINES) -> Image.Image:
    """A white page image with black text, as a scanner would produce (about 150 dpi A5)."""
    image = Image.new("L", (1240, 600), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 36)
    for number, line in enumerate(lines):
        draw.text((60, 60 + number * 60), line, font=font, fill=0)
    return image


def scanned_pdf(images: list[Image.Image]) -> bytes:
    """A PDF whose pages are only images (no text layer), like a scanner's output."""
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def docx_file() -> bytes:
    """A DOCX with a title, two headings, paragraphs and a table."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Règlement de la salle des fêtes"
    document.add_heading("Article 1 : Objet", level=1)
    document.add_paragraph("La salle des fêtes est louée aux associations de la commune.")
    document.add_heading("Article 2 : Tarifs", level=1)
    document.add_paragraph("Les tarifs sont fixés chaque année par le conseil municipal.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Durée", "Prix"
    table.cell(1, 0).text, table.cell(1, 1).text = "Week-end", "250 €"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def odt_file() -> bytes:
    """An ODT with a heading, paragraphs and a list."""
    from odf import dc, teletype, text
    from odf.opendocument import OpenDocumentText

    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text="Guide des déchets"))
    for heading, body in (("Collecte", "Les ordures ménagères sont collectées le mardi."),
                          ("Déchetterie", "La déchetterie est ouverte du lundi au samedi.")):
        h = text.H(outlinelevel=1)
        teletype.addTextToElement(h, heading)
        document.text.addElement(h)
        p = text.P()
        teletype.addTextToElement(p, body)
        document.text.addElement(p)
    item_list = text.List()
    item = text.ListItem()
    item_p = text.P()
    teletype.addTextToElement(item_p, "Verre : conteneur vert.")
    item.addElement(item_p)
    item_list.addElement(item)
    document.text.addElement(item_list)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def ods_file() -> bytes:
    """An ODS with two sheets."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for name, rows in (("Budget", [["Poste", "Montant"], ["Voirie", "12000"]]),
                       ("Écoles", [["École", "Élèves"], ["Jules Ferry", "180"]])):
        table = Table(name=name)
        for values in rows:
            row = TableRow()
            for value in values:
                cell = TableCell()
                cell.addElement(P(text=value))
                row.addElement(cell)
            table.addElement(row)
        document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def pptx_file(slides: int = 3) -> bytes:
    """A PPTX with a titled slide per topic and speaker notes on the first."""
    from pptx import Presentation

    presentation = Presentation()
    layout = presentation.slide_layouts[1]
    for number in range(1, slides + 1):
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = f"Diapositive {number}"
        slide.placeholders[1].text = f"Contenu numéro {number} : budget participatif."
        if number == 1:
            slide.notes_slide.notes_text_frame.text = "Note de l'orateur : présenter le calendrier."
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def xlsx_file() -> bytes:
    """An XLSX with two sheets."""
    import openpyxl

    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "Tarifs"
    first.append(["Service", "Prix"])
    first.append(["Cantine", 3.5])
    second = workbook.create_sheet("Horaires")
    second.append(["Mairie", "8h30-12h"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_bomb(declared: int) -> bytes:
    """A small DOCX-looking ZIP whose one member inflates to `declared` bytes of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(declared // len(block)):
                member.write(block)
    return out.getvalue()


def lying_zip(declared: int) -> bytes:
    """A tiny DOCX-looking ZIP whose central directory declares a `declared`-byte member."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    data = bytearray(out.getvalue())
    entry = data.rfind(b"PK\x01\x02")  # the last central directory entry: word/document.xml
    data[entry + 24:entry + 28] = declared.to_bytes(4, "little")
    return bytes(data)


FOOTNOTES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
    "</w:r></w:p></w:footnote>"
    '<w:footnote w:id="1"><w:p><w:r><w:t>Article L. 2122-22 du code général des collectivités'
    " territoriales.</w:t></w:r></w:p></w:footnote>"
    "</w:footnotes>"
)


def with_footnotes(docx_bytes: bytes) -> bytes:
    """The DOCX with a footnotes part (python-docx cannot write footnotes)."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/word/footnotes.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/></Types>',
                )
            elif item.filename == "word/_rels/document.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdNotes" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>'
                    b"</Relationships>",
                )
            target.writestr(item, data)
        target.writestr("word/footnotes.xml", FOOTNOTES_XML)
    return out.getvalue()
