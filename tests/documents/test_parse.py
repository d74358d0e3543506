"""Parsing real files of every supported format, and every way a file can be refused."""

from __future__ import annotations

import io
import random
import time
import zipfile
from collections.abc import Callable

import pypdfium2 as pdfium
import pytest

from civique.documents import pdf as pdf_module
from civique.documents import sniff
from civique.documents.parse import ParseLimits, parse
from civique.errors import MESSAGES, UserError
from tests.documents import files

LIMITS = ParseLimits()


def refused(data: bytes, filename: str, limits: ParseLimits = LIMITS) -> UserError:
    """Parse and return the UserError raised (the test fails if none is)."""
    with pytest.raises(UserError) as caught:
        parse(data, filename, limits)
    assert caught.value.code in MESSAGES
    return caught.value


def test_pdf_text_keeps_page_numbers_and_title() -> None:
    data = files.pdf_pages(["Première page : la mairie.", "Deuxième page : l'école.",
                            "Troisième page : la crèche."], title="Guide communal")
    document = parse(data, "guide.pdf", LIMITS)
    assert document.media_type == sniff.PDF
    assert document.title == "Guide communal"
    assert [s.page for s in document.sections] == [1, 2, 3]
    assert "l'école" in document.sections[1].text
    assert "crèche" in document.sections[2].text
    assert document.page_count == 3 and document.ocr_pages == []
    assert document.language == "fr"


def test_pdf_blank_page_is_skipped_but_numbering_kept() -> None:
    data = files.pdf_pages(["Page un avec du texte.", "", "Page trois avec du texte."])
    document = parse(data, "a.pdf", LIMITS)
    assert [s.page for s in document.sections] == [1, 3]


def test_a_damaged_page_is_skipped_and_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """PDFium failing on one page (as on a broken page object) costs that page only."""
    real = pdf_module._page_content

    def failing_on_page_two(pdf: object, index: int, limits: ParseLimits) -> object:
        if index == 1:
            raise pdfium.PdfiumError("Failed to load page.")
        return real(pdf, index, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf_module, "_page_content", failing_on_page_two)
    data = files.pdf_pages(["Page un de la notice.", "Page deux.", "Page trois de la notice."])
    document = parse(data, "notice.pdf", LIMITS)
    assert [s.page for s in document.sections] == [1, 3]
    assert [(n.code, n.params) for n in document.notices] == [
        ("doc_pages_damaged", {"pages": "2"})
    ]
    assert "doc_pages_damaged" in MESSAGES


def test_a_pdf_whose_every_page_is_damaged_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(pdf: object, index: int, limits: ParseLimits) -> object:
        raise pdfium.PdfiumError("Failed to load page.")

    monkeypatch.setattr(pdf_module, "_page_content", failing)
    assert refused(files.pdf_pages(["Un.", "Deux."]), "a.pdf").code == "doc_corrupt"


def test_scanned_pdf_is_read_by_ocr_with_accents() -> None:
    data = files.scanned_pdf([files.scan_image()])
    started = time.perf_counter()
    document = parse(data, "scan.pdf", LIMITS)
    elapsed = time.perf_counter() - started
    text = document.sections[0].text
    assert document.ocr_pages == [1]
    assert document.sections[0].page == 1
    for word in ("Mairie", "Arrêté", "sécurité", "fêtes", "l'été", "marché", "décide"):
        assert word in text, (word, text)
    assert elapsed < 30


def test_mixed_pdf_ocrs_only_the_image_page() -> None:
    data = files.pdf_pages(["Page tapée à la machine, avec son texte.", files.scan_image(),
                            "Dernière page tapée."])
    document = parse(data, "mixte.pdf", LIMITS)
    assert document.ocr_pages == [2]
    assert [s.page for s in document.sections] == [1, 2, 3]
    assert "Arrêté municipal" in document.sections[1].text


def test_pdfs_parse_correctly_in_parallel_threads() -> None:
    # PDFium is not thread-safe: parse.py serialises calls into it, so threads must not crash.
    from concurrent.futures import ThreadPoolExecutor

    documents = [files.pdf_pages([f"Document {n}, page {p}." for p in (1, 2, 3)])
                 for n in range(6)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parsed = list(pool.map(lambda d: parse(d, "x.pdf", LIMITS), documents * 3))
    for number, document in enumerate(parsed):
        assert [s.text for s in document.sections] == [
            f"Document {number % 6}, page {p}." for p in (1, 2, 3)]


def test_scan_without_text_is_refused() -> None:
    from PIL import Image, ImageDraw

    image = Image.new("L", (800, 600), 255)
    ImageDraw.Draw(image).ellipse((100, 100, 500, 400), outline=0, width=8)
    assert refused(files.scanned_pdf([image]), "scan.pdf").code == "doc_scan_unreadable"


def test_scan_with_ocr_off_is_refused_not_silently_empty() -> None:
    data = files.scanned_pdf([files.scan_image()])
    assert refused(data, "scan.pdf", ParseLimits(ocr=False)).code == "doc_scan_unreadable"


def test_encrypted_pdf_is_refused() -> None:
    data = files.pdf_pages(["Confidentiel."], password="secret")
    assert refused(data, "secret.pdf").code == "doc_encrypted"


@pytest.mark.parametrize("damage", [
    lambda d: d[: len(d) // 3],
    lambda d: b"%PDF-1.7\n" + b"garbage " * 200,
])
def test_corrupt_pdf_is_refused(damage: Callable[[bytes], bytes]) -> None:
    data = damage(files.pdf_pages(["Un texte assez long pour la page."] * 3))
    assert refused(data, "broken.pdf").code == "doc_corrupt"


def test_too_many_pages_is_refused() -> None:
    data = files.pdf_pages([f"Page {n}" for n in range(1, 6)])
    error = refused(data, "long.pdf", ParseLimits(max_pages=4))
    assert error.code == "doc_too_many_pages"
    assert error.params == {"pages": 5, "limit": 4}
    assert refused(files.pptx_file(3), "s.pptx", ParseLimits(max_pages=2)).code == (
        "doc_too_many_pages")


def test_too_big_and_empty_files_are_refused() -> None:
    assert refused(b"x" * 101, "a.txt", ParseLimits(max_bytes=100)).code == "doc_too_big"
    assert refused(b"", "a.pdf").code == "doc_empty"
    assert refused(b"  \n\t\n", "a.txt").code == "doc_empty"


def test_docx_sections_follow_headings() -> None:
    document = parse(files.docx_file(), "reglement.docx", LIMITS)
    assert document.media_type == sniff.DOCX
    assert document.title == "Règlement de la salle des fêtes"
    labels = [s.label for s in document.sections]
    assert labels == ["Article 1 : Objet", "Article 2 : Tarifs"]
    assert "associations" in document.sections[0].text
    assert "Week-end | 250 €" in document.sections[1].text
    assert all(s.page is None for s in document.sections)


def test_odt_sections_follow_headings() -> None:
    document = parse(files.odt_file(), "dechets.odt", LIMITS)
    assert document.media_type == sniff.ODT
    assert document.title == "Guide des déchets"
    assert [s.label for s in document.sections] == ["Collecte", "Déchetterie"]
    assert "mardi" in document.sections[0].text
    assert "Verre : conteneur vert." in document.sections[1].text


def test_pptx_one_section_per_slide_with_notes() -> None:
    document = parse(files.pptx_file(3), "budget.pptx", LIMITS)
    assert document.media_type == sniff.PPTX
    assert [(s.page, s.label) for s in document.sections] == [
        (1, "Diapositive 1"), (2, "Diapositive 2"), (3, "Diapositive 3")]
    assert "Contenu numéro 2" in document.sections[1].text
    assert "présenter le calendrier" in document.sections[0].text


@pytest.mark.parametrize(("maker", "name", "media_type", "labels", "row"), [
    (files.xlsx_file, "t.xlsx", sniff.XLSX, ["Tarifs", "Horaires"], "Cantine | 3.5"),
    (files.ods_file, "b.ods", sniff.ODS, ["Budget", "Écoles"], "Jules Ferry | 180"),
])
def test_spreadsheets_one_section_per_sheet(maker: Callable[[], bytes], name: str, media_type: str,
                                            labels: list[str], row: str) -> None:
    document = parse(maker(), name, LIMITS)
    assert document.media_type == media_type
    assert [s.label for s in document.sections] == labels
    assert any(row in s.text for s in document.sections)


def test_csv_rows_become_lines() -> None:
    data = b"Commune;Population\nBellerive;12 000\nMontclair;3 400\n"
    document = parse(data, "communes.csv", LIMITS)
    assert document.media_type == sniff.CSV
    assert document.sections[0].text.splitlines() == [
        "Commune | Population", "Bellerive | 12 000", "Montclair | 3 400"]


def test_html_drops_scripts_and_styles_and_splits_at_headings() -> None:
    page = """<!DOCTYPE html><html><head><title>État civil</title>
    <style>p { color: red }</style><script>alert("piège")</script></head>
    <body><h1>Naissance</h1><p>Déclarez la naissance sous 5 jours.</p>
    <script>var x = "caché";</script><h2>Mariage</h2><p>Publiez les bans&nbsp;en mairie.</p>
    </body></html>"""
    document = parse(page.encode(), "page.txt", LIMITS)
    assert document.media_type == sniff.HTML
    assert document.title == "État civil"
    assert [s.label for s in document.sections] == ["Naissance", "Mariage"]
    joined = " ".join(s.text for s in document.sections)
    assert "piège" not in joined and "caché" not in joined and "color" not in joined
    assert "Déclarez la naissance sous 5 jours." in document.sections[0].text


def test_html_fragment_is_recognised() -> None:
    fragment = "<h2>Horaires</h2>\n<p>La mairie ouvre le lundi &agrave; 8&nbsp;h.</p>"
    document = parse(fragment.encode(), "export.txt", LIMITS)
    assert document.media_type == sniff.HTML
    assert document.sections[0].label == "Horaires"
    assert "La mairie ouvre le lundi à 8\u00a0h." in document.sections[0].text


def test_markdown_splits_at_headings_and_plain_text_is_one_section() -> None:
    markdown = "# Guide\n\nIntro.\n\n## Horaires\n\nLa mairie ouvre à 8 h 30.\n"
    document = parse(markdown.encode(), "guide.md", LIMITS)
    assert document.media_type == sniff.MARKDOWN
    assert document.title == "Guide"
    assert [s.label for s in document.sections] == ["Guide", "Horaires"]
    plain = parse("Une note simple, écrite en français.".encode("cp1252"), "note.txt", LIMITS)
    assert plain.media_type == sniff.TEXT
    assert plain.sections[0].text == "Une note simple, écrite en français."
    assert plain.title == "note"


def test_eml_headers_and_body() -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "Service urbanisme <urbanisme@bellerive.example>"
    message["To"] = "accueil@bellerive.example"
    message["Subject"] = "Permis de construire déposé"
    message["Date"] = "Mon, 02 Nov 2026 10:00:00 +0100"
    message.set_content("Bonjour,\nle dossier de M. Martin est complet.\nCordialement")
    message.add_alternative("<p>Bonjour,<br>le dossier <b>HTML</b> est complet.</p>",
                            subtype="html")
    document = parse(message.as_bytes(), "mail.eml", LIMITS)
    assert document.media_type == sniff.EML
    assert document.title == "Permis de construire déposé"
    assert "From: Service urbanisme" in document.sections[0].text
    assert "le dossier de M. Martin est complet." in document.sections[1].text


def test_docx_footnotes_are_read() -> None:
    document = parse(files.with_footnotes(files.docx_file()), "note.docx", LIMITS)
    notes = [s for s in document.sections if s.label == "Notes"]
    assert len(notes) == 1
    assert notes[0].text == (
        "[1] Article L. 2122-22 du code général des collectivités territoriales."
    )


def test_eml_attachments_are_read_with_their_pages() -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "urbanisme@bellerive.example"
    message["Subject"] = "Pièces du dossier"
    message.set_content("Bonjour, voici les pièces du dossier de permis.")
    pdf = files.pdf_pages(["Plan de masse : la parcelle fait 612 mètres carrés.",
                           "Notice descriptive : toiture en tuiles rouges."])
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="plans.pdf")
    message.add_attachment(b"\x00\x01 binaire", maintype="application",
                           subtype="octet-stream", filename="outil.exe")
    document = parse(message.as_bytes(), "dossier.eml", LIMITS)
    attached = [s for s in document.sections if s.label and s.label.startswith("plans.pdf")]
    assert [s.page for s in attached] == [1, 2]
    assert "toiture en tuiles rouges" in attached[1].text
    assert [(n.code, n.params["name"]) for n in document.notices] == [
        ("doc_attachment_skipped", "outil.exe")]


def test_lying_extension_is_parsed_as_what_it_is_and_user_told() -> None:
    document = parse(files.docx_file(), "rapport.pdf", LIMITS)
    assert document.media_type == sniff.DOCX
    assert [(n.code, n.params) for n in document.notices] == [
        ("doc_type_mismatch", {"declared": "PDF", "detected": "DOCX"})]
    assert parse(files.pdf_pages(["Texte."]), "photo.jpg", LIMITS).media_type == sniff.PDF
    assert parse(files.docx_file(), "reglement.docx", LIMITS).notices == []


def test_unsupported_types_are_refused() -> None:
    png = io.BytesIO()
    files.scan_image().save(png, format="PNG")
    assert refused(png.getvalue(), "scan.pdf").params == {"kind": "PNG"}
    assert refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.doc").code == (
        "doc_unsupported")
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("notes.txt", "bonjour")
    assert refused(plain_zip.getvalue(), "notes.docx").code == "doc_unsupported"


def test_corrupt_office_file_is_refused() -> None:
    data = files.docx_file()
    broken = data.replace(b"word/document.xml", b"word/documenX.xml")
    assert refused(broken, "a.docx").code in {"doc_corrupt", "doc_unsupported"}
    truncated = data[: len(data) // 2]
    assert refused(truncated, "a.docx").code == "doc_corrupt"


def test_zip_bomb_refused_before_extraction() -> None:
    # A tiny archive that declares a 3 GB member: refused from the directory alone.
    error = refused(files.lying_zip(3 * 1024**3), "bombe.docx")
    assert error.code == "doc_zip_bomb"
    assert error.params["size"] > 3 * 1000**3
    # A real 16 MB of zeros squeezed into a few kB: refused for its compression ratio.
    assert refused(files.zip_bomb(16 * 1024 * 1024), "bombe.xlsx").code == "doc_zip_bomb"
    # Over the configured decompressed size, whatever the ratio.
    small = ParseLimits(max_decompressed_bytes=1024)
    assert refused(files.docx_file(), "a.docx", small).code == "doc_zip_bomb"


def test_language_detection() -> None:
    english = parse(b"The town hall is open from Monday to Friday, nine to five.", "a.txt", LIMITS)
    assert english.language == "en"
    german = parse("Das Rathaus ist von Montag bis Freitag geöffnet.".encode(), "b.txt", LIMITS)
    assert german.language == "de"
    assert parse(b"OK 42", "c.txt", LIMITS).language is None


@pytest.mark.parametrize("kind", ["pdf", "docx", "odt", "ods", "pptx", "xlsx"])
def test_damaged_files_only_ever_raise_user_errors(kind: str) -> None:
    makers: dict[str, Callable[[], bytes]] = {
        "pdf": lambda: files.pdf_pages(["Bonjour la mairie.", "Page deux."]),
        "docx": files.docx_file, "odt": files.odt_file, "ods": files.ods_file,
        "pptx": lambda: files.pptx_file(2), "xlsx": files.xlsx_file}
    original = makers[kind]()
    rng = random.Random(kind)
    for attempt in range(30):
        data = bytearray(original)
        if attempt % 2:
            data = data[: rng.randrange(1, len(data))]
        else:
            for _ in range(rng.randrange(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            parse(bytes(data), f"f.{kind}", ParseLimits(ocr=False))
        except UserError as error:
            assert error.code in MESSAGES


def test_password_protected_office_file_is_reported_as_encrypted() -> None:
    # Office wraps an encrypted DOCX in a CFB container holding an "EncryptedPackage" stream.
    data = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
            + "EncryptedPackage".encode("utf-16-le") + b"\0" * 64)
    assert refused(data, "protege.docx").code == "doc_encrypted"
