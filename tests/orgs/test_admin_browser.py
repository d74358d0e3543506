"""The administration and platform pages in a real Chromium, checked with axe (WCAG 2.1 AA)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser import axe_violations, demo_server, logged_in_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance (fake model only) served by Uvicorn on 127.0.0.1."""
    with demo_server(tmp_path_factory.mktemp("admin-browser")) as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    """A Chromium page logged in as the demo platform administrator."""
    with logged_in_page(server, "plateforme@exemple.test") as tab:
        yield tab


def _violations(page: Page, name: str) -> list[str]:
    return axe_violations(page, "admin", name)


def test_admin_and_platform_pages_pass_axe_on_desktop_and_mobile(page: Page, server: str) -> None:
    found: list[str] = []
    page.goto(f"{server}/admin/users")
    page.fill("#new-name", "Camille Navigateur")
    page.fill("#new-email", "camille@exemple.test")
    page.click("form[method=post][action='/admin/users'] button")
    assert "/invite/" in page.input_value("#invitation-link")
    found += _violations(page, "users-invitation")
    page.fill("#new-name", "Camille Navigateur")
    page.fill("#new-email", "camille@exemple.test")
    page.click("form[method=post][action='/admin/users'] button")
    expect(page.locator("#form-error")).to_be_visible()
    found += _violations(page, "users-error")
    page.click("text=Camille Navigateur")
    page.click("form[action$='/reset'] button")
    assert "/reset/" in page.input_value("#reset-link")
    found += _violations(page, "user-reset")
    page.goto(f"{server}/admin/units")
    page.fill("#unit-name", "Archives")
    page.click("form[action='/admin/units'] button[type=submit]")
    expect(page.locator("text=Unité Archives créée.")).to_be_visible()
    found += _violations(page, "units")
    page.goto(f"{server}/admin/teams")
    found += _violations(page, "teams")
    page.fill("#team-name", "Projet courrier")
    page.click("form[action='/admin/teams'] button[type=submit]")
    page.click("form[action$='/members'] button[type=submit]")
    assert re.search(r"/admin/teams/\d+$", page.url)
    found += _violations(page, "team")
    page.goto(f"{server}/admin/models")
    found += _violations(page, "models")
    page.goto(f"{server}/admin/branding")
    page.fill("#org-colour", "vert")
    page.evaluate("document.querySelector('#org-colour').removeAttribute('pattern')")
    page.click("form[action='/admin/branding'] button[type=submit]")
    expect(page.locator("#form-error")).to_be_visible()
    found += _violations(page, "branding-error")
    page.goto(f"{server}/platform")
    page.fill("#org-slug", "commune-test")
    page.fill("#org-name", "Commune de Test")
    page.fill("#admin-name", "Chloé Maire")
    page.fill("#admin-email", "chloe@commune-test.test")
    page.click("form[action='/platform/orgs'] button[type=submit]")
    assert "/invite/" in page.input_value("#invitation-link")
    found += _violations(page, "platform")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/admin", "/admin/users", "/admin/models", "/admin/branding", "/platform"):
        page.goto(server + path)
        found += _violations(page, "mobile" + path.replace("/", "-"))
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not found, "\n".join(found)
