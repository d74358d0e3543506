"""The collection pages in a real Chromium, checked with axe (WCAG 2.1 AA), in French."""

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
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "collections"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance (fake model only) served by Uvicorn on 127.0.0.1."""
    from civique.app import create_app

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path_factory.mktemp("collections-browser"),
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
    """A Chromium page logged in as the demo organisation administrator."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/install.sh dev`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
        context.set_default_timeout(10_000)
        tab = context.new_page()
        tab.on("dialog", lambda dialog: dialog.accept())
        tab.goto(f"{server}/login")
        tab.fill("#email", "admin@exemple.test")
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


def test_collection_pages_work_and_pass_axe_on_desktop_and_mobile(page: Page, server: str) -> None:
    found: list[str] = []
    page.goto(f"{server}/")
    page.click("nav >> text=Documents")
    expect(page.locator("h1")).to_have_text("Collections de documents")
    found += _violations(page, "collections-empty")
    page.click("form[action='/collections'] button[type=submit]")  # browser refuses: required
    page.evaluate("document.querySelector('#collection-name').removeAttribute('required')")
    page.fill("#collection-name", "   ")
    page.click("form[action='/collections'] button[type=submit]")
    expect(page.locator("#form-error")).to_be_visible()
    found += _violations(page, "collections-error")
    page.fill("#collection-name", "Règlements municipaux")
    page.select_option("#collection-scope", "organisation")
    page.click("form[action='/collections'] button[type=submit]")
    assert re.search(r"/collections/\d+$", page.url)
    expect(page.locator("text=Collection Règlements municipaux créée.")).to_be_visible()
    page.click("form[action$='/shares/team'] button[type=submit]")
    expect(page.locator("text=Partage mis à jour.")).to_be_visible()
    expect(page.locator("text=Alice Agent")).to_be_visible()  # everyone reads it
    found += _violations(page, "collection")
    page.set_viewport_size({"width": 390, "height": 844})
    found += _violations(page, "collection-mobile")
    page.goto(f"{server}/collections")
    found += _violations(page, "collections-mobile")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.click("text=Règlements municipaux")
    page.click("form[action$='/delete']:not([action*='/shares/']) button")
    expect(page.locator("text=La collection a été supprimée.")).to_be_visible()
    assert not found, "\n".join(found)
