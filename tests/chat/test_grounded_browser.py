"""A grounded answer in a real Chromium: tick the demo collection, ask, open the citation."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from civique.llm.providers import fake
from tests.browser import axe_violations, demo_server, logged_in_page
from tests.chat.test_grounded_chat import quoting_reply

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo instance with its indexed documents (the server runs in this process)."""
    with demo_server(tmp_path_factory.mktemp("grounded-browser")) as url:
        yield url


def test_citation_opens_the_viewer_at_the_highlighted_passage(server: str) -> None:
    found: list[str] = []
    with (
        pytest.MonkeyPatch.context() as patch,
        logged_in_page(server, "agent@exemple.test") as page,
    ):
        # The fake model quotes six words of the first source under [1] and invents one under [2].
        patch.setattr(fake, "fake_reply", lambda messages: quoting_reply(messages[-1].content))
        _ask(page)
        found += axe_violations(page, "grounded", "chat-citations")
        citation = page.locator(".citation").first
        quote = citation.locator(".citation-quote").inner_text().strip("« »")
        head = citation.locator(".citation-head").inner_text()
        page_number = re.search(r"page (\d+)", head)
        citation.locator("a").click()
        page.wait_for_url(re.compile(r"/documents/\d+/source\?"))
        expect(page.locator("mark.quote")).to_have_text(quote)
        expect(page.locator("mark.quote")).to_be_in_viewport()
        if page_number:
            expect(page.locator("#page-heading")).to_contain_text(f"Page {page_number.group(1)}")
            expect(page.locator("img.source-page-image")).to_be_visible()
            image = page.locator("img.source-page-image").get_attribute("src") or ""
            assert page.request.get(server + image).headers["content-type"] == "image/png"
            # Polled from Python: a string function for wait_for_function runs as page script,
            # which the strict Content-Security-Policy may refuse.
            picture = page.locator("img.source-page-image")
            for _ in range(100):
                if picture.evaluate("image => image.naturalWidth") > 0:
                    break
                page.wait_for_timeout(100)
            else:
                pytest.fail("the page image never loaded")
        found += axe_violations(page, "grounded", "viewer")
        page.set_viewport_size({"width": 390, "height": 844})
        found += axe_violations(page, "grounded", "viewer-mobile")
    assert not found, "\n".join(found)


def _ask(page: Page) -> None:
    page.click("form[action='/chat'] button[type=submit]")
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    page.locator(".collection-picker input[type=checkbox]").first.check()
    page.fill("#text", "Combien coûte une concession de 30 ans au cimetière ?")
    page.click("#send")
    expect(page.locator(".msg.assistant .citation")).to_have_count(1, timeout=20_000)
    expect(page.locator(".msg.assistant .unverified")).to_be_visible()
    expect(page.locator(".msg.assistant .msg-body")).to_contain_text("[1]")
