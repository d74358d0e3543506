"""The administration and platform pages in a real Chromium, checked with axe (WCAG 2.1 AA)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

from civique.demo import DEMO_PASSWORD, create_demo
from civique.settings import Settings
from tests.live import serve_in_thread

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "admin"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance (fake model only) served by Uvicorn on 127.0.0.1."""
    from civique.app import create_app

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path_factory.mktemp("admin-browser"),
        fake_provider_enabled=True,
        embedded_enabled=False,
        embedded_embeddings_enabled=False,
        log_json=False,
        log_level="WARNING",
    )
    create_demo(settings)
    app = create_app(settings)
    with serve_in_thread(app) as url:
        yield url
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    """A Chromium page logged in as the demo platform administrator."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/install.sh dev`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
        context.set_default_timeout(10_000)
        tab = context.new_page()
        tab.on("dialog", lambda dialog: dialog.accept())
        tab.goto(f"{server}/login")
        tab.fill("#email", "plateforme@exemple.test")
        tab.fill("#password", DEMO_PASSWORD)
        tab.locator("form[action='/login'] button[type=submit]").click()
        tab.wait_for_url(f"{server}/")
        yield tab
        browser.close()


def _violations(page: Page, name: str) -> list[str]:
    page.wait_for_load_state()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    result: dict[str, Any] = Axe().run(page, options=options).response
    assert result["passes"], "axe checked nothing"
    found = [
        f"{name}: [{v['impact']}] {v['id']} {node['target']}"
        for v in result["violations"]
        for node in v["nodes"]
    ]
    if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
        found.append(f"{name}: the page scrolls sideways")
    return found


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
