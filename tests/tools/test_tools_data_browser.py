"""The glossary import page in a real Chromium: a CSV with bad rows, checked with axe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import axe_violations, demo_server, logged_in_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

BAD_ROWS_CSV = (
    "terme;langue;traduction;note\n"
    "mairie;en;town hall;\n"
    ";en;nothing;\n"
    "préfecture;xx;prefecture;\n"
    "état civil;de;Standesamt;Zivilstand\n"
    "Mairie;en;town hall;\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance."""
    with demo_server(tmp_path_factory.mktemp("tools-data-browser")) as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    """A Chromium page logged in as the demo organisation administrator."""
    with logged_in_page(server, "admin@exemple.test") as tab:
        yield tab


def test_glossary_import_with_bad_rows_passes_axe(page: Page, server: str, tmp_path: Path) -> None:
    found: list[str] = []
    page.goto(f"{server}/admin/glossaries")
    found += axe_violations(page, "tools-data", "glossaries")
    page.fill("#glossary-name", "Services municipaux")
    page.click("form[action='/admin/glossaries'] button[type=submit]")
    expect(page.locator("text=Le glossaire a été créé.")).to_be_visible()
    csv_file = tmp_path / "glossaire.csv"
    csv_file.write_text(BAD_ROWS_CSV, encoding="cp1252")
    page.set_input_files("#glossary-file", str(csv_file))
    page.check("#mode-replace")
    page.click("form[action$='/import'] button[type=submit]")
    report = page.locator("#import-report")
    expect(report).to_contain_text("2 ajoutées")
    expect(report).to_contain_text("2 lignes n'ont pas été importées")
    rows = page.locator("table:has(caption:text('Lignes non importées')) tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("3")
    expect(rows.nth(1)).to_contain_text("« xx »")
    expect(page.locator("text=Standesamt")).to_be_visible()
    assert page.is_checked("#mode-replace")
    found += axe_violations(page, "tools-data", "glossary-import-bad-rows")
    page.set_viewport_size({"width": 390, "height": 800})
    found += axe_violations(page, "tools-data", "glossary-import-bad-rows-mobile")
    page.set_viewport_size({"width": 1280, "height": 800})
    for path, name in (("/admin/letter-templates", "letter-templates"),
                       ("/admin/letter-templates/refusal", "letter-template-refusal"),
                       ("/admin/letter-templates/new?start=refusal", "letter-template-new"),
                       ("/admin/jargon", "jargon")):
        page.goto(f"{server}{path}")
        found += axe_violations(page, "tools-data", name)
    assert not found, "\n".join(found)
