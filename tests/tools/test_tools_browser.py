"""The plain-language tool in a real Chromium with axe: the agent opens Tools, fills the form
(a missing field first), watches the draft stream, edits it, exports the DOCX and finds the
AI-assistance mention in it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import expect

from tests.browser import axe_violations, demo_server, logged_in_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SOURCE = (
    "Le demandeur est tenu de produire les pièces justificatives afférentes à sa situation "
    "dans un délai de trente jours."
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance, its fake model slowed so the draft visibly streams."""
    with demo_server(
        tmp_path_factory.mktemp("tools-browser"), fake_token_delay_seconds=0.02
    ) as url:
        yield url


def test_agent_rewrites_edits_and_exports_a_text(server: str, tmp_path: Path) -> None:
    found: list[str] = []
    with logged_in_page(server, "agent@exemple.test") as page:
        page.click("nav >> text=Outils")
        expect(page.locator("h1")).to_have_text("Outils")
        found += axe_violations(page, "tools", "list")
        page.click("a[href='/tools/plain_language']")
        expect(page.locator("h1")).to_have_text("Langage clair et FALC")
        page.click("#tool-run")  # nothing typed: the field says why, nothing runs
        expect(page.locator("#field-text-error")).to_have_text("Ce champ est obligatoire.")
        expect(page.locator("#field-text")).to_have_attribute("aria-invalid", "true")
        found += axe_violations(page, "tools", "form-error")
        page.fill("#field-text", SOURCE)
        page.select_option("#field-level", "falc")
        page.click("#tool-run")
        expect(page.locator("#tool-live .tool-stream")).to_contain_text("Réponse simulée")
        page.wait_for_url(re.compile(r"/outputs/\d+$"))
        expect(page.locator(".tool-banner")).to_contain_text("Brouillon à vérifier")
        expect(page.locator("#findings-title")).to_have_text("Vérifications du texte")
        expect(page.locator("#proof-title")).to_have_text("Relecture")
        found += axe_violations(page, "tools", "output")
        page.fill("#final-text", "Vous devez envoyer vos papiers.\nVous avez 30 jours.")
        page.click("form[action$='/final'] button[type=submit]")
        expect(page.locator(".alert.success")).to_contain_text("Texte final enregistré")
        with page.expect_download() as download:
            page.click("a[href$='format=docx']")
        path = tmp_path / "sortie.docx"
        download.value.save_as(path)
        page.set_viewport_size({"width": 390, "height": 844})
        found += axe_violations(page, "tools", "output-mobile")
    document = Document(str(path))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Vous avez 30 jours." in body
    assert "Document produit avec l'assistance d'une IA" in body, body
    assert not found, "\n".join(found)
