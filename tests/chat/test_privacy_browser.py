"""Masking in a real Chromium: the preview before sending, corrections, the answer restored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import select

from civique.demo import DEMO_SLUG
from civique.orgs.models import Organisation, OrgModel
from tests.browser import axe_violations, demo_server, logged_in_page
from tests.governance.outside import MODEL, Outside

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TEXT = (
    "Merci de préparer une réponse à M. Hugo Baertschi, AVS 756.9217.0769.85, "
    "au sujet du projet Hirondelle."
)


@dataclass
class Server:
    url: str
    outside: Outside


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo instance with a second model, a server not cleared for personal data."""
    outside = Outside()

    def add_outside(app: FastAPI) -> None:
        app.state.gateway.registry.register(outside)
        with app.state.sessions() as db:
            org_id = db.scalars(
                select(Organisation.id).where(Organisation.slug == DEMO_SLUG)
            ).one()
            db.add(OrgModel(org_id=org_id, model_id=MODEL, roles=[]))
            db.commit()

    with demo_server(Path(tmp_path_factory.mktemp("privacy-browser")), add_outside) as url:
        yield Server(url, outside)


def _new_chat(page: Page) -> None:
    page.click("form[action='/chat'] button[type=submit]")
    page.wait_for_url(re.compile(r"/chat/\d+$"))


def test_the_agent_checks_the_masking_and_reads_the_real_values(server: Server) -> None:
    found: list[str] = []
    with logged_in_page(server.url, "agent@exemple.test") as page:
        _new_chat(page)
        expect(page.locator("#model-privacy")).to_contain_text("autorisé pour les données")
        page.select_option("#model", MODEL)
        expect(page.locator("#model-privacy")).to_contain_text("n'est pas autorisé")
        page.fill("#text", TEXT)
        page.click("#send")
        panel = page.locator("#masking")
        # The first preview of the process loads the detector (spaCy, several seconds): a
        # server with uncleared models configured loads it at start instead.
        expect(panel).to_be_visible(timeout=60_000)
        expect(page.locator("#masking-title")).to_be_focused()
        expect(panel).to_contain_text("« Hugo Baertschi »")
        expect(panel).to_contain_text("[PERSONNE_1]")
        expect(panel).to_contain_text("[AVS_1]")
        found += axe_violations(page, "privacy", "masking-preview")
        # Keep the AVS number in clear (a test number) and mask the project's name by hand.
        page.get_by_label(re.compile("756.9217.0769.85")).uncheck()
        page.fill("#masking-extra", "Hirondelle")
        page.keyboard.press("Enter")
        expect(panel).to_contain_text("« Hirondelle »")
        page.click("#masking-send")
        reply = page.locator("li.msg.assistant").last
        expect(reply).to_have_attribute("data-status", "done")
        expect(reply.locator(".msg-body")).to_contain_text("Hugo Baertschi")
        expect(reply.locator(".privacy-note")).to_contain_text("[PERSONNE_1]")
        sent = server.outside.sent()
        assert "Hugo Baertschi" not in sent and "Hirondelle" not in sent
        assert "756.9217.0769.85" in sent and "[DONNEE_1]" in sent
        found += axe_violations(page, "privacy", "answer-restored")
        # After a reload the note is still there, rendered by the server.
        page.reload()
        expect(page.locator("li.msg.assistant .privacy-note").last).to_be_visible()
        page.set_viewport_size({"width": 390, "height": 844})
        found += axe_violations(page, "privacy", "answer-mobile")
    assert not found, "\n".join(found)


def test_back_to_the_message_sends_nothing(server: Server) -> None:
    with logged_in_page(server.url, "agent@exemple.test") as page:
        _new_chat(page)
        page.select_option("#model", MODEL)
        before = len(server.outside.received)
        page.fill("#text", TEXT)
        page.click("#send")
        expect(page.locator("#masking")).to_be_visible(timeout=60_000)
        page.click("#masking-cancel")
        expect(page.locator("#masking")).to_be_hidden()
        expect(page.locator("#text")).to_have_value(TEXT)
        assert len(server.outside.received) == before
        assert page.locator("li.msg").count() == 0
