"""The collection pages in a real Chromium, checked with axe (WCAG 2.1 AA), in French."""

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
    with demo_server(tmp_path_factory.mktemp("collections-browser")) as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    """A Chromium page logged in as the demo organisation administrator."""
    with logged_in_page(server, "admin@exemple.test") as tab:
        yield tab


def _violations(page: Page, name: str) -> list[str]:
    return axe_violations(page, "collections", name)


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
