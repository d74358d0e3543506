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


# A small challenge end to end, on the demo with its seeded past challenge ---------------------

_APP: dict[str, Any] = {}


def _keep_app(app: Any) -> None:
    _APP["app"] = app


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("lab-e2e"), prepare=_keep_app, lab_demo=True) as url:
        yield url


def _mobile(page: Page, name: str) -> list[str]:
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    found = axe_violations(page, "lab", f"{name}-mobile")
    page.set_viewport_size({"width": 1280, "height": 800})
    return found


def _create_challenge(page: Page, server: str) -> tuple[str, list[str]]:
    """As the lead: a challenge open today, with the default path and quiz, the path required."""
    from datetime import date, timedelta

    day = date.today()
    iso = lambda offset: (day + timedelta(days=offset)).isoformat()  # noqa: E731
    page.goto(f"{server}/lab/challenges/new")
    page.fill("#title", "Défi courriers 2027")
    page.fill("#description", "Tester l'assistant sur les courriers.")
    page.select_option("#status", "open")
    for field, offset in (("starts_on", -5), ("ends_on", 30), ("awareness_start", -5),
                          ("awareness_end", -1), ("exploration_start", 0),
                          ("exploration_end", 20), ("showcase_start", 21), ("showcase_end", 30)):
        page.fill(f"#{field}", iso(offset))  # fmt: skip
    page.check("input[name=path_required]")
    found = axe_violations(page, "lab", "e2e-challenge-form")
    page.click("form[action='/lab/challenges'] button[type=submit]")
    page.wait_for_url(re.compile(r"/lab/challenges/\d+$"))
    expect(page.locator("h1")).to_contain_text("Défi courriers 2027")
    found += axe_violations(page, "lab", "e2e-challenge")
    return page.url.rsplit("/", 1)[1], found


def _pass_quiz(page: Page, server: str, challenge_id: str) -> list[str]:
    """As the agent: register, read the path, tick the right answers of the default quiz."""
    from civique.lab.learning import default_path

    page.goto(f"{server}/lab/challenges/{challenge_id}")
    page.click(f"form[action='/lab/challenges/{challenge_id}/register'] button")
    page.goto(f"{server}/lab/challenges/{challenge_id}/learning")
    found = axe_violations(page, "lab", "e2e-learning")
    page.goto(f"{server}/lab/challenges/{challenge_id}/quiz")
    for fieldset, question in zip(page.locator("form fieldset").all(),
                                  default_path()["questions"], strict=True):  # fmt: skip
        for index in question["correct"]:
            fieldset.locator(f"input[value='{index}']").check()
    found += axe_violations(page, "lab", "e2e-quiz")
    page.click(f"form[action='/lab/challenges/{challenge_id}/quiz'] button[type=submit]")
    expect(page.locator("main")).to_contain_text("100")
    found += axe_violations(page, "lab", "e2e-quiz-passed")
    return found


def _chat_output(page: Page) -> str:
    """As the agent: one chat answer with the fake model, rated in two clicks and detailed."""
    page.goto(page.url.split("/lab/")[0] + "/")
    page.click("form[action='/chat'] button[type=submit]")
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    page.fill("#text", "Rédige une relance pour une facture impayée.")
    page.click("#send")
    reply = page.locator("li.msg.assistant").last
    expect(reply).to_have_attribute("data-status", "done")
    reply.locator("button.thumb[value=yes]").click()
    expect(reply.locator(".feedback-status")).to_have_text("Merci : votre avis est enregistré.")
    reply.locator(".feedback-detail summary").click()
    reply.locator("input[name=minutes_saved]").fill("30")
    reply.locator("input[name=satisfaction][value='4']").check()
    reply.locator("input[name=usage][value=edited]").check()
    reply.locator(".feedback-detail button[type=submit]").click()
    expect(reply.locator(".feedback-status")).to_have_text("Merci : votre avis est enregistré.")
    href = reply.locator(".output-link a").get_attribute("href") or ""
    return href.rsplit("/", 1)[1]


def _team_and_experiment(
    page: Page, server: str, challenge_id: str, output_id: str
) -> tuple[str, list[str]]:
    """As the agent: a team, an experiment through the five steps, the output linked."""
    page.goto(f"{server}/lab/challenges/{challenge_id}")
    page.fill("#team-name", "Équipe Relances")
    page.click(f"form[action='/lab/challenges/{challenge_id}/teams'] button[type=submit]")
    page.wait_for_url(re.compile(r"/lab/teams/\d+$"))
    found = axe_violations(page, "lab", "e2e-team")
    page.fill("#exp-title", "Relances de factures")
    page.click("form[action$='/experiments'] button[type=submit]")
    page.wait_for_url(re.compile(r"/lab/experiments/\d+"))
    experiment_url = page.url.split("#")[0]
    page.fill("#irritant", "Les relances sont tapées à la main.")
    page.fill("#metric", "Minutes par relance")
    page.locator("#step-hypotheses form[action$='/step'] button[type=submit]").click()
    page.fill("#protocol", "Dix relances avec l'assistant, dix sans.")
    page.locator("#step-tests form:has(#protocol) button[type=submit]").click()
    page.select_option("#output-pick", output_id)
    page.click("form[action$='/outputs'] button[type=submit]")
    expect(page.locator("#step-tests table")).to_contain_text(f"n° {output_id}")
    page.fill("#m-label", "Temps par relance")
    page.select_option("#m-unit", "minutes")
    page.fill("#m-before", "12")
    page.fill("#m-after", "4,5")
    page.click("form[action$='/measurements'] button[type=submit]")
    evidence = page.locator("#step-evidence")
    expect(evidence).to_contain_text("-7.5")
    expect(evidence).to_contain_text("oins de 5 personnes")  # one rater: counts only
    found += axe_violations(page, "lab", "e2e-evidence")
    page.fill("#learnings", "Relire les montants.")
    page.locator("#step-learnings form[action$='/step'] button[type=submit]").click()
    page.check("input[name=decision][value=generalise]")
    page.fill("#rationale", "Gain net.")
    page.locator("#step-decision form[action$='/step'] button[type=submit]").click()
    page.select_option("#exp-status", "concluded")
    page.click("#status button[type=submit]")
    found += axe_violations(page, "lab", "e2e-experiment")
    found += _mobile(page, "e2e-experiment")
    return experiment_url, found


def _colleagues(challenge_id: int) -> None:
    """Four colleagues registered to the challenge rated a chat answer today (10 minutes):
    five people behind the challenge's figures, enough to show them."""
    from civique.lab.models import Participant

    with _APP["app"].state.sessions() as db:
        agent = db.scalar(select(User).where(User.email == "agent@exemple.test"))
        assert agent is not None
        for i in range(4):
            colleague = create_user(db, agent.org_id, f"pair{i}@exemple.test", f"Pair {i}",
                                    "agent")  # fmt: skip
            colleague.unit_id = agent.unit_id
            db.add(Participant(challenge_id=challenge_id, user_id=colleague.id,
                               org_id=agent.org_id))  # fmt: skip
            record = output(db, colleague, datetime.now(UTC))
            rate(db, colleague, record, minutes=10, satisfaction=4)
        db.commit()


def _lead_dashboards(page: Page, server: str, challenge_id: str) -> list[str]:
    """As the lead: the challenge's figures (30 + 4 × 10 minutes), its pipeline and decision;
    then the seeded past challenge's living dashboards."""
    page.goto(f"{server}/lab/dashboards")
    page.select_option("#dash-challenge", challenge_id)
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("#challenge-scope")).to_contain_text("Défi courriers 2027")
    time_saved = page.locator("section:has(#fig-time_saved) table")
    expect(time_saved.locator("tr", has_text="chat").first).to_contain_text("70")
    decisions = page.locator("section:has(#fig-decisions) table")
    expect(decisions.locator("tbody tr").first).to_contain_text("Défi courriers 2027")
    expect(page.locator("#chart-pipeline")).to_be_visible()
    found = axe_violations(page, "lab", "e2e-dashboards")
    found += _mobile(page, "e2e-dashboards")
    page.goto(f"{server}/lab/dashboards")
    page.select_option("#dash-challenge", label="Défi IA 2026 — Commune d'Exemple")
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("#chart-adoption")).to_be_visible()
    expect(page.locator("section:has(#fig-decisions) table")).to_contain_text("Commune d'Exemple")
    found += axe_violations(page, "lab", "demo-dashboards")
    return found


def _publish_and_showcase(page: Page, server: str, experiment_url: str) -> list[str]:
    page.goto(experiment_url)
    page.click("#publish button[type=submit]")
    page.click("#publish a")
    expect(page.locator("h1")).to_have_text("Relances de factures")
    expect(page.locator("main")).to_contain_text("Avis sur les productions testées")
    found = axe_violations(page, "lab", "e2e-showcase-result")
    page.goto(f"{server}/lab/showcase")
    expect(page.locator("main")).to_contain_text("Relances de factures")
    found += axe_violations(page, "lab", "e2e-showcase")
    found += _mobile(page, "e2e-showcase")
    return found


def test_a_small_challenge_end_to_end(lab_server: str) -> None:
    with logged_in_page(lab_server, "innovation@exemple.test") as lead:
        challenge_id, found = _create_challenge(lead, lab_server)
    with logged_in_page(lab_server, "agent@exemple.test") as agent:
        found += _pass_quiz(agent, lab_server, challenge_id)
        output_id = _chat_output(agent)
        experiment_url, more = _team_and_experiment(agent, lab_server, challenge_id, output_id)
        found += more
        _colleagues(int(challenge_id))
        found += _publish_and_showcase(agent, lab_server, experiment_url)
    with logged_in_page(lab_server, "innovation@exemple.test") as lead:
        found += _lead_dashboards(lead, lab_server, challenge_id)
    assert not found, "\n".join(found)
