"""Property tests: the checkers never crash on arbitrary text and their offsets fit the text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from civique.tools.deliberation import checklist
from civique.tools.findings import Finding
from civique.tools.letters import mentions
from civique.tools.plain_language import falc, readability
from civique.tools.text import fold, paragraphs, sentences
from civique.tools.translation import align, glossary

# Arbitrary unicode, plus French pieces that trigger the rules, mixed in.
PIECES = st.sampled_from([
    "M. ", "art. ", "CAF ", "(caisse d'allocations) ", "n'est pas ", "sera examinée ",
    "vingt-cinq ", "12,5 % ", "XIV ", "\n\n", "\n- ", "… ", "Vu ", "Considérant ",
    "Article 1er ", "Article 3 ", "1. ", "é\u0301", "\u00a0", "’", "İ", "ß", ";",
])
TEXT = st.lists(st.one_of(st.text(max_size=20), PIECES), max_size=30).map("".join)


def _within(findings: list[Finding], text: str) -> bool:
    return all(
        (f.start is None and f.end is None)
        or (f.start is not None and f.end is not None and 0 <= f.start <= f.end <= len(text))
        for f in findings
    )


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_text_helpers_keep_offsets(text: str) -> None:
    assert len(fold(text)) == len(text)
    for span in [*paragraphs(text), *sentences(text)]:
        assert text[span.start : span.end] == span.text and span.text.strip()


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_falc_and_readability_never_crash(text: str) -> None:
    findings = falc.check(text)
    assert _within(findings, text)
    assert all(f.start is not None and text[f.start : f.end] for f in findings)
    assert falc.summary(findings, text)["findings"] == len(findings)
    readability.level(readability.kandel_moles(text))


@settings(max_examples=100, deadline=None)
@given(TEXT, st.sampled_from(mentions.KINDS), st.sampled_from(checklist.VARIANTS))
def test_letter_and_deliberation_checks_never_crash(text: str, kind: str, variant: str) -> None:
    assert _within(mentions.check(kind, text), text)
    assert _within(checklist.check(text, variant), text)  # type: ignore[arg-type]


GLOSSARY = glossary.parse_csv(b"fr,en\nmairie,town hall\nCAF,family allowance fund\n")


@settings(max_examples=100, deadline=None)
@given(TEXT, TEXT)
def test_glossary_and_alignment_never_crash(source: str, target: str) -> None:
    findings = glossary.check(source, target, "en", GLOSSARY.glossary)
    assert _within(findings, source)
    assert 0.0 <= glossary.adherence(findings, source, "en", GLOSSARY.glossary) <= 1.0
    pairs = align.align(source, target)
    assert [i for p in pairs for i in p.source] == list(range(len(paragraphs(source))))
    assert [j for p in pairs for j in p.target] == list(range(len(paragraphs(target))))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_glossary_import_never_crashes_on_bytes(data: bytes) -> None:
    from civique.errors import UserError

    try:
        result = glossary.parse_csv(data)
    except UserError:
        return
    assert all(p.line >= 2 for p in (*result.errors, *result.duplicates))
