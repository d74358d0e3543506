"""Shared pieces of the browser tests: Debian's Chromium, a demo server, a logged-in page, axe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, sync_playwright

from civique.demo import DEMO_PASSWORD, create_demo
from civique.settings import Settings
from tests.live import serve_in_thread

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
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@contextmanager
def demo_server(
    data_dir: Path,
    prepare: Callable[[Any], None] | None = None,
    lab_demo: bool = False,
    **overrides: Any,
) -> Iterator[str]:
    """The demo instance (fake model only) served by Uvicorn on 127.0.0.1; yields its URL.

    `overrides` change settings, e.g. `jobs_in_process=True` to run the job worker in it;
    `prepare(app)` runs before it serves (e.g. to register another model provider);
    `lab_demo` adds the Lab's past challenge and its 3,000 outputs (off: tests count rows).
    """
    from civique.app import create_app

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=data_dir,
        fake_provider_enabled=True,
        embedded_enabled=False,
        embedded_embeddings_enabled=False,
        log_json=False,
        log_level="WARNING",
        **overrides,
    )
    create_demo(settings, lab=lab_demo)
    app = create_app(settings)
    if prepare is not None:
        prepare(app)
    with serve_in_thread(app) as url:
        yield url
    app.state.engine.dispose()


@contextmanager
def logged_in_page(server: str, email: str) -> Iterator[Page]:
    """A French Chromium page logged in as a demo user; confirmation dialogs are accepted."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/install.sh dev`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
        context.set_default_timeout(10_000)
        tab = context.new_page()
        tab.on("dialog", lambda dialog: dialog.accept())
        tab.goto(f"{server}/login")
        tab.fill("#email", email)
        tab.fill("#password", DEMO_PASSWORD)
        tab.locator("form[action='/login'] button[type=submit]").click()
        tab.wait_for_url(f"{server}/")
        yield tab
        browser.close()


def axe_violations(page: Page, folder: str, name: str) -> list[str]:
    """Screenshot the page into test-artifacts/<folder>/ and list its WCAG 2.1 AA violations."""
    page.wait_for_load_state()
    target = ARTIFACTS / folder
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)
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
