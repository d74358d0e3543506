"""Uploading documents in a real Chromium: two files through the file input, their progress
followed without reloading until they are ready (the job worker runs in the server), the document
page, all checked with axe (WCAG 2.1 AA), in French."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from civique.demo_documents import demo_files
from tests.browser import axe_violations, demo_server, logged_in_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PDF = "reglement-cimetiere.pdf"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance with its job worker running, indexing with the fake embedding model."""
    with demo_server(
        tmp_path_factory.mktemp("uploads-browser"),
        jobs_in_process=True,
        documents_embedding_model="fake/embed",
    ) as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    """A Chromium page logged in as the demo agent."""
    with logged_in_page(server, "agent@exemple.test") as tab:
        yield tab


@pytest.fixture
def two_files(tmp_path: Path) -> list[Path]:
    """A PDF of the demo commune and a short Markdown note, on disk for the file input."""
    pdf = tmp_path / PDF
    pdf.write_bytes(dict(demo_files())[PDF])
    note = tmp_path / "horaires-ete.md"
    note.write_text(
        "# Horaires d'été\n\nEn juillet et en août, la mairie ouvre du lundi au vendredi "
        "de 8 h 30 à 12 h.\n",
        encoding="utf-8",
    )
    return [pdf, note]


def test_upload_two_files_and_watch_them_become_ready(
    page: Page, server: str, two_files: list[Path]
) -> None:
    found: list[str] = []
    page.goto(f"{server}/collections")
    page.fill("#collection-name", "Mes arrêtés")
    page.click("form[action='/collections'] button[type=submit]")
    assert re.search(r"/collections/\d+$", page.url)
    expect(
        page.locator("text=Aucun document dans cette collection pour l'instant.")
    ).to_be_visible()
    expect(page.locator("[data-dropzone-hint]")).to_be_visible()  # the script is running
    page.evaluate(
        """() => {
        const drop = new DataTransfer();
        drop.items.add(new File(["Note déposée"], "note.txt", {type: "text/plain"}));
        const zone = document.querySelector("[data-dropzone]");
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: drop, bubbles: true}));
    }"""
    )
    expect(page.locator("[data-upload-chosen]")).to_have_text("Fichiers choisis : 1")
    assert page.evaluate("document.querySelector('#upload-files').files[0].name") == "note.txt"
    page.set_input_files("#upload-files", [str(p) for p in two_files])
    expect(page.locator("[data-upload-chosen]")).to_have_text("Fichiers choisis : 2")
    page.click("form.upload-form button[type=submit]")
    outcomes = page.locator(".upload-outcomes li")
    expect(outcomes).to_have_count(2)
    expect(outcomes.filter(has_text="Ajouté, en cours de traitement")).to_have_count(2)
    page.evaluate("window.notReloaded = true")
    table = page.locator("#documents-table")
    expect(table.locator(".doc-state-ready")).to_have_count(2, timeout=90_000)
    expect(page.locator("#documents-live")).to_have_text("Tous les documents ont été traités.")
    assert page.evaluate("window.notReloaded === true"), "the page reloaded instead of polling"
    expect(table.locator("tr", has_text="horaires-ete.md")).to_contain_text("Langue : français")
    expect(table.locator("tr", has_text=PDF)).to_contain_text("PDF")
    found += axe_violations(page, "documents", "collection-with-documents")
    page.set_viewport_size({"width": 390, "height": 844})
    found += axe_violations(page, "documents", "collection-with-documents-mobile")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#documents-table a", has_text="horaires").click()
    expect(page.locator("h1")).to_contain_text("oraires")
    expect(page.locator("table").first).to_contain_text("Alice Agent")
    found += axe_violations(page, "documents", "document")
    with page.expect_download() as download:
        page.click("text=Télécharger")
    assert download.value.suggested_filename == "horaires-ete.md"
    page.click("form[action$='/delete'] button")
    expect(page.locator("text=a été supprimé")).to_be_visible()
    expect(page.locator("#documents-table tbody tr")).to_have_count(1)
    assert not found, "\n".join(found)
