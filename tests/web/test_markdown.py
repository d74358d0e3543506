"""Model output is untrusted: scripts, handlers and dangerous links never survive rendering."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from civique.web.markdown import render_markdown


def test_markdown_is_rendered() -> None:
    html = str(render_markdown("**Article 1** : voir [la loi](https://www.legifrance.gouv.fr)"))
    assert "<strong>Article 1</strong>" in html
    assert 'href="https://www.legifrance.gouv.fr"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_dangerous_content_is_removed() -> None:
    html = str(render_markdown(
        "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> "
        "<a href='https://evil' onclick='x()'>y</a>"
    ))
    assert "<script" not in html and 'href="javascript' not in html
    assert "<img" not in html and "<a href='https://evil'" not in html
    assert "&lt;script&gt;" in html  # shown as text, harmless


@given(st.text(max_size=300))
def test_no_tag_outside_the_allow_list(text: str) -> None:
    html = str(render_markdown(text))
    assert "<script" not in html.lower() and "<iframe" not in html.lower()
    assert "<style" not in html.lower()
