"""The policy page and the charter page in a real Chromium, checked with axe (WCAG 2.1 AA)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser import axe_violations, demo_server, logged_in_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance (its charter v1 accepted by every demo user)."""
    with demo_server(tmp_path_factory.mktemp("policy-browser")) as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    """A Chromium page logged in as the demo organisation administrator."""
    with logged_in_page(server, "admin@exemple.test") as tab:
        yield tab


def _violations(page: Page, name: str) -> list[str]:
    return axe_violations(page, "policy", name)


def test_policy_and_charter_pages_pass_axe_on_desktop_and_mobile(page: Page, server: str) -> None:
    found: list[str] = []
    page.goto(f"{server}/admin/policy")
    expect(page.locator("section > h1")).to_have_text("Politique d'usage de l'IA")
    found += _violations(page, "policy")
    page.check("text=Conversation (espace de travail)")
    page.fill("#days-conversations", "365")
    page.fill("#days-vault", "-5")
    page.evaluate("document.querySelector('#days-vault').removeAttribute('pattern')")
    page.click("form[action='/admin/policy'] button[type=submit]")
    expect(page.locator("#form-error")).to_contain_text("entrées du coffre de réidentification")
    assert page.input_value("#days-vault") == "-5"
    found += _violations(page, "policy-error")
    page.fill("#days-vault", "90")
    page.click("form[action='/admin/policy'] button[type=submit]")
    expect(page.locator("text=La politique a été enregistrée.")).to_be_visible()
    assert page.input_value("#days-conversations") == "365"
    found += _violations(page, "policy-saved")
    page.fill("#charter-text", "# Charte v2\n\nJe cite mes sources.")
    page.click("form[action='/admin/policy/charter'] button[type=submit]")
    expect(page.locator("text=La version 2 de la charte a été publiée.")).to_be_visible()
    page.click("text=Version 1")
    expect(page.locator("section > h1")).to_have_text("Charte d'utilisation, version 1")
    found += _violations(page, "charter-version")
    # The administrator, too, accepts the new version before chatting again.
    page.goto(f"{server}/")
    page.wait_for_url(f"{server}/charter?next=/")
    expect(page.locator("article h1")).to_have_text("Charte v2")
    found += _violations(page, "charter")
    page.set_viewport_size({"width": 390, "height": 844})
    found += _violations(page, "mobile-charter")
    page.click("text=J'ai lu la charte et je l'accepte")
    page.wait_for_url(f"{server}/")
    page.goto(f"{server}/admin/policy")
    found += _violations(page, "mobile-policy")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not found, "\n".join(found)
