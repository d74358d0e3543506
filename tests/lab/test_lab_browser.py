"""The Lab in a real Chromium with axe: an agent rates a chat answer in two clicks (then adds
the minutes saved), the innovation lead sees the minutes on the dashboards and downloads the
CSV, and an agent records an irritant."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from civique.auth.models import User
from civique.auth.service import create_user
from tests.browser import axe_violations, demo_server, logged_in_page
from tests.lab.seed import output, rate

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _four_colleagues(app: Any) -> None:
    """Four other agents rated a chat answer today (10 minutes each): with the demo agent's
    rating, five people are behind the figure, enough for it to be shown."""
    with app.state.sessions() as db:
        agent = db.scalar(select(User).where(User.email == "agent@exemple.test"))
        assert agent is not None
        for i in range(4):
            colleague = create_user(db, agent.org_id, f"collegue{i}@exemple.test", f"Collègue {i}",
                                    "agent")
            colleague.unit_id = agent.unit_id
            record = output(db, colleague, datetime.now(UTC))
            rate(db, colleague, record, minutes=10, satisfaction=4)
        db.commit()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("lab-browser"), prepare=_four_colleagues) as url:
        yield url


def _rate_answer(page: Page) -> list[str]:
    """As the agent: one chat answer, thumbs up (click 1), the detail form (click 2)."""
    found: list[str] = []
    page.click("form[action='/chat'] button[type=submit]")
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    page.fill("#text", "Rédige un courrier de relance pour un dossier incomplet.")
    page.click("#send")
    reply = page.locator("li.msg.assistant").last
    expect(reply).to_have_attribute("data-status", "done")
    widget = reply.locator(".feedback")
    widget.locator("button.thumb[value=yes]").click()  # click 1: saved at once
    expect(reply.locator(".feedback-status")).to_have_text("Merci : votre avis est enregistré.")
    expect(reply.locator("button.thumb[value=yes]")).to_have_attribute("aria-pressed", "true")
    found += axe_violations(page, "lab", "chat-rated")
    reply.locator(".feedback-detail summary").click()  # click 2: the optional detail
    reply.locator("input[name=minutes_saved]").fill("30")
    reply.locator("input[name=satisfaction][value='5']").check()
    reply.locator("input[name=usage][value=edited]").check()
    found += axe_violations(page, "lab", "chat-detail")
    reply.locator(".feedback-detail button[type=submit]").click()
    expect(reply.locator(".feedback-status")).to_have_text("Merci : votre avis est enregistré.")
    expect(reply.locator("input[name=minutes_saved]")).to_have_value("30")
    # An absurd number is explained, in the page, and what was typed stays.
    reply.locator("input[name=minutes_saved]").fill("9999")
    reply.locator("form:has(input[name=detail]) ").evaluate("f => f.noValidate = true")
    reply.locator(".feedback-detail button[type=submit]").click()
    expect(reply.locator("[role=alert]")).to_contain_text("de 0 à 480")
    expect(reply.locator("input[name=minutes_saved]")).to_have_value("9999")
    found += axe_violations(page, "lab", "chat-refused")
    return found


def _dashboards(page: Page, server: str, tmp_path: Path) -> list[str]:
    """As the innovation lead: the minutes saved with the chat (4 × 10 + 30 = 70), the CSV."""
    page.click("nav >> text=Tableaux de bord")
    expect(page.locator("h1")).to_have_text("Tableaux de bord du Lab")
    time_saved = page.locator("section:has(#fig-time_saved) table")
    expect(time_saved.locator("tr", has_text="chat").first).to_contain_text("70")
    expect(page.locator("#chart-time")).to_be_visible()
    found = axe_violations(page, "lab", "dashboards")
    with page.expect_download() as download:
        page.click("section:has(#fig-time_saved) a[download]")
    saved = tmp_path / "time.csv"
    download.value.save_as(saved)
    assert "70" in saved.read_text(encoding="utf-8-sig")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    found += axe_violations(page, "lab", "dashboards-mobile")
    return found


def _irritant(page: Page) -> list[str]:
    page.click("nav >> text=Irritants")
    page.fill("#irr-title", "Relances des dossiers incomplets")
    page.fill("#irr-minutes_per_task", "15")
    page.fill("#irr-tasks_per_month", "80")
    page.fill("#irr-error_rate", "10")
    page.fill("#irr-people_affected", "4")
    page.click("form[action='/lab/irritants'] button[type=submit]")
    expect(page.locator(".alert.success")).to_contain_text("Irritant enregistré")
    expect(page.locator("table")).to_contain_text("Relances des dossiers incomplets")
    return axe_violations(page, "lab", "irritants")


def test_rate_in_two_clicks_then_see_it_on_the_dashboard(server: str, tmp_path: Path) -> None:
    with logged_in_page(server, "agent@exemple.test") as agent:
        found = _rate_answer(agent)
        found += _irritant(agent)
    with logged_in_page(server, "innovation@exemple.test") as lead:
        found += _dashboards(lead, server, tmp_path)
    assert not found, "\n".join(found)
