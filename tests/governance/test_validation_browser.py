"""Human validation in a real Chromium with axe: the agent chats, edits and submits the answer;
the validator opens the queue and the diff and approves; the agent exports the DOCX."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import Page, expect

from tests.browser import axe_violations, demo_server, logged_in_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance where chat answers need a validator's approval."""
    with demo_server(
        tmp_path_factory.mktemp("validation-browser"), validation_tools=["chat"]
    ) as url:
        yield url


def _chat_and_submit(page: Page, server: str) -> str:
    """As the agent: one chat answer, its output page, a corrected text, submitted."""
    found: list[str] = []
    page.click("form[action='/chat'] button[type=submit]")
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    page.fill("#text", "Rédige un avis de fermeture de la mairie.")
    page.click("#send")
    reply = page.locator("li.msg.assistant").last
    expect(reply).to_have_attribute("data-status", "done")
    reply.locator(".output-link a").click()
    page.wait_for_url(re.compile(r"/outputs/\d+$"))
    expect(page.locator("main")).to_contain_text("doit être approuvé")
    found += axe_violations(page, "validation", "output")
    page.fill("#final-text", "Avis : la mairie sera fermée le lundi 8 décembre.")
    page.click("form[action$='/final'] button[type=submit]")
    expect(page.locator(".alert.success")).to_contain_text("Texte final enregistré")
    page.click("form[action$='/submit'] button[type=submit]")
    expect(page.locator(".alert.success")).to_contain_text("Soumis à la validation")
    found += axe_violations(page, "validation", "output-pending")
    assert not found, "\n".join(found)
    return page.url.rsplit("/", 1)[1]


def _approve(page: Page, server: str, output_id: str) -> list[str]:
    """As the validator: the queue, the diff, a refused rejection without comment, approval."""
    found: list[str] = []
    page.click("nav >> text=Validation")
    expect(page.locator("h1")).to_have_text("Textes en attente de validation")
    found += axe_violations(page, "validation", "queue")
    page.click(f"a[href='/validation/{output_id}']")
    expect(page.locator(".diff ins").first).to_be_visible()
    expect(page.locator(".diff")).to_contain_text("ajouté :")
    found += axe_violations(page, "validation", "review")
    page.click("button[value=reject]")
    expect(page.locator("#form-error")).to_contain_text("commentaire est obligatoire")
    found += axe_violations(page, "validation", "review-error")
    page.fill("#comment", "Conforme.")
    page.click("button[value=approve]")
    expect(page.locator(".alert.success")).to_contain_text("approuvé")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/validation/{output_id}")
    found += axe_violations(page, "validation", "review-mobile")
    return found


def test_agent_submits_validator_approves_agent_exports(server: str, tmp_path: Path) -> None:
    with logged_in_page(server, "agent@exemple.test") as agent:
        output_id = _chat_and_submit(agent, server)
    with logged_in_page(server, "validateur@exemple.test") as validator:
        found = _approve(validator, server, output_id)
    with logged_in_page(server, "agent@exemple.test") as agent:
        agent.goto(f"{server}/outputs/{output_id}")
        with agent.expect_download() as download:
            agent.click("a[href$='format=docx']")
        saved = tmp_path / "export.docx"
        download.value.save_as(saved)
        body = "\n".join(p.text for p in Document(str(saved)).paragraphs)
        assert "la mairie sera fermée le lundi 8 décembre" in body
        assert "Document produit avec l'assistance d'une IA" in body
        assert "validé par Victor Validateur" in body
        found += axe_violations(agent, "validation", "output-approved")
    assert not found, "\n".join(found)
