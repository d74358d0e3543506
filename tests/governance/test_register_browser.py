"""The DPO's register, entry, check and audit log pages in a real Chromium on the demo instance,
checked with axe (WCAG 2.1 AA), in French, on desktop and mobile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from civique.auth.models import User
from civique.db.engine import make_engine, make_session_factory
from civique.governance import register
from civique.llm.models import OutputRecord
from civique.orgs.models import Organisation
from civique.settings import Settings
from tests.browser import axe_violations, demo_server, logged_in_page
from tests.governance.outputs import make_output
from tests.helpers import Tenant

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SOURCE = {"n": 1, "document_id": 1, "title": "Règlement du cimetière", "version": 1, "page": 2}


def _outputs(data_dir: Path) -> None:
    """Two outputs of the demo agent: a grounded answer, and a letter approved and exported."""
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    engine = make_engine(settings.sqlalchemy_url)
    with make_session_factory(engine)() as db:
        org = db.scalars(select(Organisation)).one()
        users = {u.role: u for u in db.scalars(select(User).where(User.org_id == org.id))}
        tenant = Tenant(org, users)
        make_output(db, settings, tenant, "La concession dure 30 ans [1].", sources=(SOURCE,))
        letter = make_output(db, settings, tenant, "Madame, votre demande…", tool="letters")
        record = db.get(OutputRecord, letter)
        assert record is not None
        register.record_event(db, record, users["agent"], "submitted")
        register.record_event(db, record, users["validator"], "approved", comment="Conforme")
        register.record_event(db, record, users["agent"], "edited", text="Madame, votre demande.")
        register.record_event(db, record, users["agent"], "exported", format="docx")
        db.commit()
    engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance with two registered outputs."""
    data_dir = tmp_path_factory.mktemp("register-browser")
    with demo_server(data_dir) as url:
        _outputs(data_dir)
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    """A Chromium page logged in as the demo data-protection officer."""
    with logged_in_page(server, "dpo@exemple.test") as tab:
        yield tab


def test_dpo_register_entry_check_and_audit_pages_pass_axe(page: Page, server: str) -> None:
    found: list[str] = []
    page.goto(f"{server}/")
    page.click("nav >> text=Registre")
    expect(page.locator("h1")).to_have_text("Registre des productions assistées par l'IA")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    found += axe_violations(page, "register", "register")
    page.select_option("#reg-tool", "letters")
    page.click("form[role=search] button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Approuvé")
    found += axe_violations(page, "register", "register-filtered")
    rows.first.locator("a").click()
    expect(page.locator("h1")).to_contain_text("Production n°")
    for shown in ("Conforme", "Madame, votre demande.", "docx", "Texte final modifié"):
        expect(page.locator("main")).to_contain_text(shown)
    found += axe_violations(page, "register", "entry")
    page.goto(f"{server}/register")
    page.locator("table tbody tr", has_text="chat").locator("a").click()
    expect(page.locator("main")).to_contain_text("Règlement du cimetière")
    found += axe_violations(page, "register", "entry-sources")
    page.goto(f"{server}/register?since=hier")
    expect(page.locator("#form-error")).to_be_visible()
    found += axe_violations(page, "register", "register-error")
    page.goto(f"{server}/register")
    page.click("form[action='/register/verify'] button[type=submit]")
    expect(page.locator(".alert.success").first).to_contain_text("Intact")
    found += axe_violations(page, "register", "check")
    page.click("nav.subnav >> text=Journal d'audit")
    expect(page.locator("table tbody")).to_contain_text("Vérification d'intégrité")
    found += axe_violations(page, "register", "audit")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/register", "/register/2", "/audit"):
        page.goto(server + path)
        found += axe_violations(page, "register", "mobile" + path.replace("/", "-"))
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not found, "\n".join(found)
