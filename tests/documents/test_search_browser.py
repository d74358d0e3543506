"""The search page and the quality report in a real Chromium on the demo instance (its commune
documents are ingested by `civique demo`), checked with axe (WCAG 2.1 AA), in French."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser import axe_violations, demo_server, logged_in_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance (fake model only) served by Uvicorn on 127.0.0.1."""
    with demo_server(tmp_path_factory.mktemp("search-browser")) as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    """A Chromium page logged in as the demo organisation administrator."""
    with logged_in_page(server, "admin@exemple.test") as tab:
        yield tab


def test_search_shows_marked_passages_and_passes_axe(page: Page, server: str) -> None:
    found: list[str] = []
    page.goto(f"{server}/")
    page.click("nav >> text=Rechercher")
    expect(page.locator("h1")).to_have_text("Rechercher dans les documents")
    found += axe_violations(page, "search", "search-empty")
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("#form-error")).to_have_text("Saisissez ce que vous cherchez.")
    page.fill("#search-q", "caution salle polyvalente")
    page.click("form[role=search] button[type=submit]")
    results = page.locator("ol.results > li")
    expect(results.first).to_be_visible()
    expect(results.first.locator("mark").first).to_be_visible()
    link = results.first.locator("h3 a")
    assert "/source?chunk=" in (link.get_attribute("href") or "")
    found += axe_violations(page, "search", "search-results")
    page.click("summary")
    page.check("input[name=type][value=pdf]")
    page.click("form[role=search] button[type=submit]")
    expect(results.first).to_contain_text("PDF")
    assert page.locator("input[name=type][value=pdf]").is_checked()
    found += axe_violations(page, "search", "search-filtered")
    page.set_viewport_size({"width": 390, "height": 844})
    found += axe_violations(page, "search", "search-mobile")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not found, "\n".join(found)


def test_quality_report_of_the_demo_collection(page: Page, server: str) -> None:
    page.goto(f"{server}/collections")
    collection = page.locator("a", has_text="Documents de la commune").get_attribute("href")
    page.goto(f"{server}{collection}/quality")  # the link on the collection page: test_quality
    expect(page.locator("h1")).to_contain_text("Qualité du contenu")
    unused = page.locator("section[aria-labelledby=unused-title]")
    expect(unused).to_contain_text("Règlement du cimetière")  # the demo has no answers yet
    found = axe_violations(page, "search", "quality")
    assert not found, "\n".join(found)
