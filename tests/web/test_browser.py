"""The chat UI in a real Chromium: streaming, stop, regenerate, failures, drafts, keyboard, axe."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from civique.demo import DEMO_PASSWORD
from tests.web.conftest import DEMO_AGENT, DESKTOP, MOBILE, LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LAST_REPLY = "#messages > li.msg.assistant:last-child"
FINISHED = ("done", "stopped", "error")
# A long question makes the fake model's echo long enough (~60 words) to be stopped midway.
LONG_QUESTION = " ".join(f"mot{i}" for i in range(50))
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def login(page: Page, server: LiveServer, next_path: str = "/") -> None:
    """Log in as the demo agent through the form."""
    if "/login" not in page.url:
        page.goto(f"{server.url}/login?next={next_path}")
    page.fill("#email", DEMO_AGENT)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def new_conversation(page: Page, server: LiveServer) -> int:
    """Start a conversation from the home page; returns its id."""
    page.goto(server.url + "/")
    page.locator("form[action='/chat'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def send(page: Page, text: str) -> None:
    """Type a message, click Send, and wait for its question and reply to appear."""
    items = page.locator("#messages > li")
    before = items.count()
    page.fill("#text", text)
    page.click("#send")
    expect(items).to_have_count(before + 2)


def wait_finished(page: Page, timeout: float = 15_000) -> str:
    """Wait until the last reply is finished; returns its status."""
    selector = ", ".join(f"{LAST_REPLY}[data-status={s}]" for s in FINISHED)
    page.wait_for_selector(selector, timeout=timeout)
    return page.locator(LAST_REPLY).get_attribute("data-status") or ""


def reply_text(page: Page) -> str:
    """Text of the last reply's body."""
    return page.locator(f"{LAST_REPLY} .msg-body").inner_text()


def shot(page: Page, artifacts: Path, name: str) -> None:
    """Full-page screenshot into test-artifacts/ (looked at by a person, not compared)."""
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


# --- end to end with the real embedded model ------------------------------------------------

WATCH_REPLY = """
() => {
  window.__observed = [];
  const list = document.getElementById("messages");
  new MutationObserver(() => {
    const last = list.lastElementChild;
    if (!last || !last.classList.contains("assistant")) return;
    const text = last.querySelector(".msg-body").textContent;
    const seen = window.__observed;
    if (!seen.length || seen[seen.length - 1].text !== text) {
      seen.push({ text: text, status: last.dataset.status });
    }
  }).observe(list, { childList: true, subtree: true, characterData: true, attributes: true });
}
"""


def test_french_question_streams_an_answer_then_english(
    embedded_server: LiveServer, page: Page, artifacts: Path
) -> None:
    server = embedded_server
    login(page, server)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    new_conversation(page, server)
    page.evaluate(WATCH_REPLY)
    send(page, "Quelle est la capitale de la France ? Réponds en une phrase.")
    expect(page.locator("#stop")).to_be_visible()
    assert wait_finished(page, timeout=90_000) == "done"

    observed: list[dict[str, Any]] = page.evaluate("window.__observed")
    growing = [o["text"] for o in observed if o["status"] == "streaming" and o["text"]]
    assert len(growing) >= 3, f"the answer did not stream: {observed}"
    assert all(a != b and b.startswith(a) for a, b in itertools.pairwise(growing))
    answer = reply_text(page)
    assert "Paris" in answer, answer
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator(f"{LAST_REPLY} .regenerate")).to_have_text("Régénérer")
    expect(page.locator("#conv-title")).to_contain_text("Quelle est la capitale")
    shot(page, artifacts, "e2e-fr-answer")

    page.locator("a.lang-switch").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#send")).to_have_text("Send")
    expect(page.locator(".topbar nav")).to_contain_text("My account")
    expect(page.locator("label[for=model]")).to_have_text("Model")
    expect(page.locator(f"{LAST_REPLY} .msg-role")).to_have_text("Assistant")
    expect(page.locator(f"{LAST_REPLY} .msg-body")).to_contain_text("Paris")
    shot(page, artifacts, "e2e-en-answer")


# --- chat behaviour with the fake model -------------------------------------------------------


def test_stop_keeps_the_partial_answer_and_regenerate_replaces_it(
    fake_server: LiveServer, page: Page, artifacts: Path
) -> None:
    login(page, fake_server)
    new_conversation(page, fake_server)
    send(page, LONG_QUESTION)
    body = page.locator(f"{LAST_REPLY} .msg-body")
    expect(body).to_contain_text("vous avez écrit")
    page.click("#stop")
    assert wait_finished(page) == "stopped"
    partial = reply_text(page)
    assert partial.startswith("Réponse simulée") and "mot49" not in partial, partial
    expect(page.locator(f"{LAST_REPLY} .stopped-note")).to_have_text("Arrêté.")
    expect(page.locator("#chat-status")).to_contain_text("Arrêté.")
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator("#send")).to_be_enabled()
    shot(page, artifacts, "fake-stopped")

    page.reload()  # what was generated was saved
    expect(page.locator(f"{LAST_REPLY} .stopped-note")).to_have_text("Arrêté.")
    assert reply_text(page) == partial

    stopped_id = page.locator(LAST_REPLY).get_attribute("data-id")
    page.locator(f"{LAST_REPLY} .regenerate").click()
    expect(page.locator(f"#m{stopped_id}")).to_have_count(0)
    assert wait_finished(page) == "done"
    expect(page.locator("#messages > li.msg.assistant")).to_have_count(1)
    assert "mot49 »." in reply_text(page)
    page.reload()
    expect(page.locator("#messages > li.msg")).to_have_count(2)
    expect(page.locator(".stopped-note")).to_have_count(0)


def test_rename_and_delete_with_confirmation(fake_server: LiveServer, page: Page) -> None:
    login(page, fake_server)
    conv_id = new_conversation(page, fake_server)
    send(page, "Premier message")
    wait_finished(page)
    expect(page.locator(".conv-list a[aria-current=page]")).to_have_text("Premier message")

    page.locator(".conv-actions summary").click()
    page.fill("#title", "Note sur le marché public")
    page.locator("form[action$='/rename'] button").click()
    expect(page.locator("#conv-title")).to_have_text("Note sur le marché public")
    expect(page.locator(".conv-list a[aria-current=page]")).to_have_text(
        "Note sur le marché public"
    )
    assert page.title().startswith("Note sur le marché public")

    messages: list[str] = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    page.locator(".conv-actions summary").click()
    page.locator("form[action$='/delete'] button").click()
    expect(page).to_have_url(f"{fake_server.url}/chat/{conv_id}")
    assert messages == ["Supprimer définitivement cette conversation ?"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form[action$='/delete'] button").click()
    page.wait_for_url(f"{fake_server.url}/")
    expect(page.locator("main")).not_to_contain_text("Note sur le marché public")
    page.goto(f"{fake_server.url}/chat/{conv_id}")
    expect(page.locator("h1")).to_have_text("Un problème est survenu")
    page.get_by_role("button", name="Retour").click()  # a script: the CSP forbids javascript:
    page.wait_for_url(f"{fake_server.url}/")


def test_provider_failure_offers_retry(fake_server: LiveServer, page: Page) -> None:
    login(page, fake_server)
    new_conversation(page, fake_server)
    send(page, "Résume ce texte [[fake:fail]]")
    assert wait_finished(page) == "error"
    alert = page.locator(f"{LAST_REPLY} .alert.error")
    expect(alert).to_contain_text("Votre message est conservé")
    retry = page.locator(f"{LAST_REPLY} button.regenerate")
    expect(retry).to_have_text("Réessayer")
    expect(page.locator("#messages > li.msg.user")).to_contain_text("Résume ce texte")

    failed_id = page.locator(LAST_REPLY).get_attribute("data-id")
    retry.focus()
    page.keyboard.press("Enter")
    # A new attempt replaces the failed one (the fake model fails again on this text).
    expect(page.locator(f"#m{failed_id}")).to_have_count(0)
    assert wait_finished(page) == "error"
    assert page.locator(LAST_REPLY).get_attribute("data-id") != failed_id
    expect(page.locator("#messages > li.msg")).to_have_count(2)

    page.reload()  # the question and the failure stay visible after a reload
    expect(page.locator(f"{LAST_REPLY} .alert.error")).to_contain_text("Votre message est conservé")
    expect(page.locator(f"{LAST_REPLY} button.regenerate")).to_have_text("Réessayer")


def test_empty_message_is_refused_with_a_visible_message(
    fake_server: LiveServer, page: Page
) -> None:
    login(page, fake_server)
    new_conversation(page, fake_server)
    for text in ("", "   \n  "):
        page.fill("#text", text)
        page.click("#send")
        expect(page.locator("#chat-status")).to_have_text("Le message est vide.")
        expect(page.locator("#chat-status")).to_be_visible()
        expect(page.locator("#text")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#text")).to_be_focused()
    expect(page.locator("#messages > li")).to_have_count(0)
    page.keyboard.type("Maintenant un vrai message")
    expect(page.locator("#chat-status")).to_have_text("")
    page.keyboard.press("Enter")
    assert wait_finished(page) == "done"


def test_draft_survives_reload_and_expired_session(fake_server: LiveServer, page: Page) -> None:
    login(page, fake_server)
    conv_id = new_conversation(page, fake_server)
    draft = "Brouillon important :\nne pas perdre ce texte."
    page.fill("#text", draft)
    page.reload()
    expect(page.locator("#text")).to_have_value(draft)

    page.context.clear_cookies(name="civique_session")
    page.click("#send")
    expect(page.locator("#chat-status")).to_contain_text("Votre session a expiré")
    page.wait_for_url(re.compile(r"/login\?next="))
    login(page, fake_server)
    expect(page).to_have_url(f"{fake_server.url}/chat/{conv_id}")
    expect(page.locator("#text")).to_have_value(draft)
    page.click("#send")
    assert wait_finished(page) == "done"
    expect(page.locator("#messages > li.msg.user")).to_contain_text("ne pas perdre ce texte.")
    page.reload()
    expect(page.locator("#text")).to_have_value("")  # sent: the draft is gone


def test_enter_sends_and_shift_enter_adds_a_line(fake_server: LiveServer, page: Page) -> None:
    login(page, fake_server)
    new_conversation(page, fake_server)
    page.locator("#text").focus()
    page.keyboard.type("Ligne un")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("Ligne deux")
    expect(page.locator("#text")).to_have_value("Ligne un\nLigne deux")
    expect(page.locator("#messages > li")).to_have_count(0)
    page.keyboard.press("Enter")
    expect(page.locator("#messages > li.msg.user")).to_have_count(1)
    user_text = page.locator("#messages > li.msg.user .msg-body").inner_text()
    assert "Ligne un" in user_text and "Ligne deux" in user_text
    expect(page.locator("#text")).to_have_value("")
    assert wait_finished(page) == "done"


def test_keyboard_only_reaches_the_composer_and_sends(
    fake_server: LiveServer, page: Page, artifacts: Path
) -> None:
    login(page, fake_server)
    conv_id = new_conversation(page, fake_server)
    page.goto(f"{fake_server.url}/chat/{conv_id}")

    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "skip link shown off-screen"
    shot(page, artifacts, "keyboard-skip-link")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    focused: list[str] = []
    for _ in range(30):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        if focused[-1] == "text":
            break
    assert focused[-1] == "text", f"the composer was not reached: {focused}"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "no visible focus on the composer"
    page.keyboard.type("Message tapé au clavier")
    page.keyboard.press("Tab")
    expect(page.locator("#send")).to_be_focused()
    shot(page, artifacts, "keyboard-send-focused")
    page.keyboard.press("Enter")
    assert wait_finished(page) == "done"
    assert "Message tapé au clavier" in reply_text(page)


# --- accessibility ---------------------------------------------------------------------------


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """WCAG 2.1 A and AA violations found by axe-core on the current page."""
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    response = Axe().run(page, options=options).response
    assert response["passes"], "axe checked nothing on this page"
    return list(response["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and node, to read in the failure message."""
    lines = []
    for v in violations:
        for node in v["nodes"]:
            lines.append(f"[{v['impact']}] {v['id']}: {v['help']} — {node['target']}")
    return "\n".join(lines)


def check_page(page: Page, artifacts: Path, name: str, found: dict[str, str]) -> None:
    """Run axe and take a screenshot; record any violation for the final message."""
    page.wait_for_load_state()
    problems = describe(axe_violations(page))
    if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
        problems += "\n[serious] layout: the page scrolls sideways"
    if problems.strip():
        found[name] = problems.strip()
    shot(page, artifacts, f"axe-{name}")


def visit_pages(
    page: Page, server: LiveServer, artifacts: Path, lang: str, width: str
) -> dict[str, str]:
    """Every page of this task, logged out then in, checked in one language."""
    found: dict[str, str] = {}
    tag = f"{lang}-{width}"
    page.goto(f"{server.url}/lang/{lang}?next=/login")
    check_page(page, artifacts, f"login-{tag}", found)
    page.fill("#email", DEMO_AGENT)
    page.fill("#password", "wrong password")
    page.locator("form[action='/login'] button[type=submit]").click()
    check_page(page, artifacts, f"login-error-{tag}", found)
    login(page, server)
    expect(page.locator("html")).to_have_attribute("lang", lang)  # kept through the login
    new_conversation(page, server)
    send(page, "Rédige un **court** message :\n\n- point un\n- point deux")
    wait_finished(page)
    send(page, LONG_QUESTION)
    page.locator(f"{LAST_REPLY} .msg-body").filter(has_text="mot").wait_for()
    page.click("#stop")
    wait_finished(page)
    send(page, "Échec simulé [[fake:fail]]")
    wait_finished(page)
    check_page(page, artifacts, f"conversation-{tag}", found)
    page.locator(".conv-actions summary").click()
    check_page(page, artifacts, f"conversation-actions-{tag}", found)
    page.goto(server.url + "/")
    check_page(page, artifacts, f"home-{tag}", found)
    page.goto(server.url + "/account")
    page.fill("#token-name", "Tableur")
    page.locator("form[action='/account/tokens'] button").click()
    check_page(page, artifacts, f"account-{tag}", found)
    page.click("a[href='/account/data']")
    with page.expect_download() as download:
        page.locator("form[action='/account/data/export'] button").click()
    assert download.value.suggested_filename.endswith(".zip")
    check_page(page, artifacts, f"account-data-{tag}", found)
    page.goto(server.url + "/chat/999999")
    check_page(page, artifacts, f"error-{tag}", found)
    return found


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pages_pass_axe(
    fake_server: LiveServer, browser: Browser, artifacts: Path, lang: str
) -> None:
    found: dict[str, str] = {}
    for width, viewport in (("desktop", DESKTOP), ("mobile", MOBILE)):
        context = browser.new_context(viewport=viewport, locale="fr-FR")
        context.set_default_timeout(10_000)
        try:
            found.update(visit_pages(context.new_page(), fake_server, artifacts, lang, width))
        finally:
            context.close()
    serious = {
        name: text for name, text in found.items() if "[serious]" in text or "[critical]" in text
    }
    assert not serious, "axe violations:\n" + "\n\n".join(
        f"{name}:\n{text}" for name, text in found.items()
    )
