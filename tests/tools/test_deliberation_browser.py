"""The deliberation tool in a real Chromium with axe: the agent fills the form (an inconsistent
vote first), gets a draft, edits it, submits it; the validator approves; the agent exports the
DOCX and finds the "legal validity not guaranteed" notice in it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import expect

from tests.browser import axe_violations, demo_server, logged_in_page
from tests.tools.test_deliberation import COMPLETE

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance with its fake model."""
    with demo_server(tmp_path_factory.mktemp("deliberation-browser")) as url:
        yield url


def _fill(page: object) -> None:
    fill = page.fill  # type: ignore[attr-defined]
    fill("#field-authority", "Conseil municipal de Villebois")
    fill("#field-title", "Tarifs de la salle polyvalente")
    fill("#field-summary", "Revoir les tarifs de location de la salle, inchangés depuis 2019.")
    fill("#field-meeting_date", "2027-03-12")
    fill("#field-convocation_date", "2027-03-03")
    fill("#field-members_present", "15")
    fill("#field-votes_for", "16")


def test_agent_drafts_edits_has_it_approved_and_exports(server: str, tmp_path: Path) -> None:
    found: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with logged_in_page(server, "agent@exemple.test") as page:
        page.goto(f"{server}/tools/deliberation")
        expect(page.locator("h1")).to_have_text("Délibérations et notes")
        _fill(page)
        page.click("#tool-run")
        expect(page.locator("#field-votes_for-error")).to_contain_text("dépassent les 15")
        found += axe_violations(page, "deliberation", "form-error")
        page.fill("#field-votes_for", "15")
        page.click("#tool-run")
        page.wait_for_url(re.compile(r"/outputs/\d+$"))
        output_url = page.url
        expect(page.locator("#tool-notice")).to_contain_text("validité juridique non garantie")
        expect(page.locator(".findings")).to_contain_text("visas « Vu … »")
        found += axe_violations(page, "deliberation", "output")
        page.screenshot(path=str(ARTIFACTS / "deliberation-output.png"), full_page=True)
        page.fill("#final-text", COMPLETE.replace(" [1]", ""))
        page.click("form[action$='/final'] button[type=submit]")
        expect(page.locator("#findings-title + p")).to_contain_text("Aucune règle enfreinte")
        page.click("form[action$='/submit'] button[type=submit]")
        expect(page.locator(".alert.success")).to_contain_text("validation")
    output_id = output_url.rsplit("/", 1)[1]
    with logged_in_page(server, "validateur@exemple.test") as page:
        page.goto(f"{server}/validation/{output_id}")
        page.click("button[value=approve]")
        expect(page.locator(".alert.success")).to_be_visible()
    with logged_in_page(server, "agent@exemple.test") as page:
        page.goto(output_url)
        with page.expect_download() as download:
            page.click("a[href$='format=docx']")
        path = tmp_path / "deliberation.docx"
        download.value.save_as(path)
    document = Document(str(path))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Projet — validité juridique non garantie" in body and "Article 2" in body
    assert not found, "\n".join(found)
