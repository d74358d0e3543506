"""The letters tool in a real Chromium with axe: the agent picks a template (its fields follow),
runs with a missing variable (named beside its field), fills it, gets the draft, edits it,
exports the DOCX and finds the letterhead and the AI-assistance mention in it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import expect

from tests.browser import axe_violations, demo_server, logged_in_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPLY = {
    "recipient": "Mme Jeanne Martin\n3 rue des Lilas",
    "subject": "Votre demande de copie d'acte",
    "request_date": "2027-03-01",
    "request": "une copie intégrale d'acte de naissance",
    "answer": "Vous trouverez la copie demandée jointe à ce courrier.",
    "service": "Service de l'état civil",
    "place": "Exemple-sur-Loire",
    "date": "2027-03-12",
    "signatory": "La responsable de l'état civil, Anne Roy",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance, its fake model slowed so the draft visibly streams."""
    with demo_server(
        tmp_path_factory.mktemp("letters-browser"), fake_token_delay_seconds=0.01
    ) as url:
        yield url


def _field(name: str) -> str:
    return f"[id='field-variables.{name}']"


def test_agent_drafts_edits_and_exports_a_letter(server: str, tmp_path: Path) -> None:
    found: list[str] = []
    with logged_in_page(server, "agent@exemple.test") as page:
        page.goto(f"{server}/tools/letters")
        expect(page.locator("h1")).to_have_text("Courriers")
        expect(page.locator("button[data-refresh]")).to_have_count(0)  # the script took over
        page.select_option("#field-template", "reply")
        expect(page.locator(_field("answer"))).to_be_visible()  # the reply's own fields
        expect(page.locator(_field("court"))).to_have_count(0)
        found += axe_violations(page, "letters", "form")
        for name, value in REPLY.items():
            if name != "signatory":
                page.fill(_field(name), value)
        page.click("#tool-run")  # the signatory is missing: named beside its field
        error = page.locator("[id='field-variables.signatory-error']")
        expect(error).to_contain_text("est obligatoire")
        expect(page.locator(_field("signatory"))).to_have_attribute("aria-invalid", "true")
        found += axe_violations(page, "letters", "form-error")
        page.fill(_field("signatory"), REPLY["signatory"])
        page.click("#tool-run")
        expect(page.locator("#tool-live .tool-stream")).to_contain_text("Réponse simulée")
        page.wait_for_url(re.compile(r"/outputs/\d+$"))
        expect(page.locator("#findings-title")).to_have_text("Vérifications du texte")
        found += axe_violations(page, "letters", "output")
        letter = "\n\n".join(
            [
                "Objet : Votre demande de copie d'acte",
                "Exemple-sur-Loire, le 12 mars 2027",
                "En réponse à votre demande du 1er mars 2027, vous trouverez la copie jointe.",
                "La responsable de l'état civil, Anne Roy",
            ]
        )
        page.fill("#final-text", letter)
        page.click("form[action$='/final'] button[type=submit]")
        expect(page.locator(".alert.success")).to_contain_text("Texte final enregistré")
        expect(page.locator(".findings")).to_have_count(0)  # every mention is there now
        found += axe_violations(page, "letters", "output-edited")
        with page.expect_download() as download:
            page.click("a[href$='format=docx']")
        path = tmp_path / "courrier.docx"
        download.value.save_as(path)
    document = Document(str(path))
    body = "\n".join(p.text for p in document.paragraphs)
    header = "\n".join(p.text for p in document.sections[0].header.paragraphs)
    assert "En réponse à votre demande du 1er mars 2027" in body
    assert "Document produit avec l'assistance d'une IA" in body, body
    assert header.strip(), "the letterhead is in the header"
    assert not found, "\n".join(found)
