"""The translation tool in a real Chromium with axe: the agent translates a pasted text, sees
the side-by-side view, edits, exports the DOCX with the machine-translation mention; then
translates a DOCX on the document page and gets a DOCX back."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import expect

from tests.browser import axe_violations, demo_server, logged_in_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SOURCE = "La mairie est ouverte le lundi.\n\nLes demandes se font au guichet."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance with its fake model."""
    with demo_server(tmp_path_factory.mktemp("translation-browser")) as url:
        yield url


def _docx(path: Path) -> Path:
    document = Document()
    document.add_heading("Avis aux habitants", level=1)
    document.add_paragraph("La mairie sera fermée le 1er mai.")
    document.save(str(path))
    return path


def test_agent_translates_edits_and_exports(server: str, tmp_path: Path) -> None:
    found: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with logged_in_page(server, "agent@exemple.test") as page:
        page.goto(f"{server}/tools/translation")
        expect(page.locator("h1")).to_have_text("Traduction")
        found += axe_violations(page, "translation", "form")
        page.fill("#field-text", SOURCE)
        page.select_option("#field-target_language", "en")
        page.click("#tool-run")
        try:
            page.wait_for_url(re.compile(r"/outputs/\d+$"), timeout=60_000)
        finally:
            page.screenshot(path=str(ARTIFACTS / "translation-run.png"), full_page=True)
        expect(page.locator("#tool-notice")).to_contain_text("Traduction automatique")
        expect(page.locator("#side-title")).to_have_text("Côte à côte")
        expect(page.locator("table.side-by-side tbody tr").first).to_contain_text("La mairie")
        page.fill("#final-text", "The town hall is open on Monday.\n\nApply at the desk.")
        page.click("form[action$='/final'] button[type=submit]")
        expect(page.locator(".alert.success")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "translation-output.png"), full_page=True)
        found += axe_violations(page, "translation", "output")
        with page.expect_download() as download:
            page.click("a[href$='format=docx']")
        exported = tmp_path / "traduction.docx"
        download.value.save_as(exported)
        page.goto(f"{server}/tools/translation/document")
        found += axe_violations(page, "translation", "document")
        page.set_input_files("#doc-file", str(_docx(tmp_path / "avis.docx")))
        page.select_option("#field-target_language", "de")
        with page.expect_download() as translated:
            page.click("#document-form button[type=submit]")
        data = Path(translated.value.path()).read_bytes()
        page.screenshot(path=str(ARTIFACTS / "translation-document.png"), full_page=True)
    document = Document(str(exported))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "The town hall is open on Monday." in body
    assert "Traduction automatique — à relire." in body
    assert "Traduction automatique — à relire." in document.core_properties.comments
    back = Document(io.BytesIO(data))
    assert [p.style.name for p in back.paragraphs] == ["Heading 1", "Normal"]
    assert back.sections[0].header.paragraphs[0].text.startswith("Traduction automatique")
    assert not found, "\n".join(found)
