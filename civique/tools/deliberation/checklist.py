"""Structural checklist of a council deliberation, a Swiss arrêté/décision, or a note to elected
officials: the parts the genre requires, found by their conventional headings.

French deliberations follow the usual form of the Code général des collectivités territoriales
(art. L2121-10 to L2121-23: convocation date, quorum, vote, signature): title, "Vu" visas,
"Considérant" recitals, "DÉCIDE"/"DÉLIBÈRE", numbered articles, vote and attendance. Swiss
arrêtés and décisions: "vu", then a dispositif ("arrête"/"décide") of numbered points. Matching
ignores case and accents. Whether the text is legally valid is not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from civique.errors import N_
from civique.tools.findings import Finding, Severity
from civique.tools.letters.mentions import DATE
from civique.tools.text import Span, fold, paragraph_index, paragraphs

Variant = Literal["fr_commune", "ch_arrete", "note"]
VARIANTS: tuple[str, ...] = ("fr_commune", "ch_arrete", "note")

MESSAGES: dict[str, tuple[str, Severity]] = {
    "delib.title": (N_("Give the deliberation a title (its subject) on the first line."), "error"),
    "delib.visa": (N_("Cite the texts the decision rests on in “Vu …” visas."), "error"),
    "delib.recital": (N_("Give the reasons in “Considérant …” recitals."), "error"),
    "delib.unjustified": (
        N_("The articles are not justified by any recital: add “Considérant …” lines that "
           "explain the decision."), "warning"),
    "delib.decision": (N_("Introduce the articles with “DÉCIDE” or “DÉLIBÈRE”."), "error"),
    "delib.dispositif": (N_("Introduce the dispositif with “arrête” or “décide”."), "error"),
    "delib.articles": (N_("Write the decision as numbered articles (“Article 1er”, …)."), "error"),
    "delib.points": (N_("Write the dispositif as numbered points (1., 2., …)."), "error"),
    "delib.number_gap": (
        N_("Numbering jumps from %(previous)s to %(number)s: %(expected)s is missing."), "error"),
    "delib.number_duplicate": (N_("Number %(number)s is used twice."), "error"),
    "delib.vote_for": (N_("Give the number of votes for (“Pour : …”)."), "error"),
    "delib.vote_against": (N_("Give the number of votes against (“Contre : …”)."), "error"),
    "delib.vote_abstention": (N_("Give the number of abstentions (“Abstentions : …”)."), "error"),
    "delib.quorum": (
        N_("State the members in office and present (quorum)."), "error"),
    "delib.convocation_date": (N_("State the date on which the council was convened."), "error"),
    "note.context": (N_("Add a “Context” section."), "error"),
    "note.analysis": (N_("Add an “Analysis” section."), "error"),
    "note.options": (N_("Add an “Options” section with the possible choices."), "error"),
    "note.recommendation": (N_("Add a “Recommendation” section."), "error"),
}

_VISA = re.compile(r"^\s*vu\b", re.MULTILINE)
_RECITAL = re.compile(r"^\s*considerant\b", re.MULTILINE)
_ARTICLE = re.compile(r"^\s*(?:article|art\.)\s+(1er|premier|\d+)\b", re.MULTILINE)
_POINT = re.compile(
    r"^\s*(?:(?:article|art\.)\s+(1er|premier|\d+)\b|(\d+)[.)]\s)", re.MULTILINE
)
_UNANIMOUS = r"\bunanimite\b"
_VOTES: tuple[tuple[str, str], ...] = (
    ("delib.vote_for", r"\bpour\s*:|\b\d+\s+(?:voix\s+)?pour\b|\bvotes?\s+pour\b"),
    ("delib.vote_against", r"\bcontre\s*:|\b\d+\s+(?:voix\s+)?contre\b|\bvotes?\s+contre\b"),
    ("delib.vote_abstention", r"\babstentions?\b"),
)
_QUORUM = (
    r"\bquorum\b|\bmembres?\s+presents?\b|\bpresents?\s*:|\ben\s+exercice\b"
    r"|\bconseillers?\s+presents?\b"
)
_CONVOCATION = rf"\bconvo\w*\b[^\n]{{0,60}}?(?:{DATE})"
_NOTE_SECTIONS: tuple[tuple[str, str], ...] = (
    ("note.context", r"contexte|rappel|historique|situation"),
    ("note.analysis", r"analyse|enjeux|diagnostic"),
    ("note.options", r"options?|scenarios?|alternatives|hypotheses"),
    ("note.recommendation", r"recommandations?|preconisations?|propositions?|avis"),
)


def check(text: str, variant: Variant) -> list[Finding]:
    """What the text lacks for its genre; ValueError for an unknown variant."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    folded = fold(text)
    if variant == "fr_commune":
        hits = list(_french(folded))
    elif variant == "ch_arrete":
        hits = list(_swiss(folded))
    else:
        hits = list(_note(folded))
    paras = paragraphs(text)
    return [_finding(code, start, end, params, paras) for code, start, end, params in hits]


Hit = tuple[str, int | None, int | None, dict[str, object]]


def _finding(
    code: str, start: int | None, end: int | None, params: dict[str, object], paras: list[Span]
) -> Finding:
    message, severity = MESSAGES[code]
    paragraph = paragraph_index(paras, start) if start is not None else None
    return Finding(code, message, start, end, paragraph, severity, params)


def _missing(code: str) -> Hit:
    return code, None, None, {}


def _french(folded: str) -> Iterable[Hit]:
    if not _has_title(folded):
        yield _missing("delib.title")
    if not _VISA.search(folded):
        yield _missing("delib.visa")
    articles = list(_ARTICLE.finditer(folded))
    if not _RECITAL.search(folded):
        yield _missing("delib.recital")
        if articles:
            yield _missing("delib.unjustified")
    if not re.search(r"\b(?:decide|delibere)\b", folded):
        yield _missing("delib.decision")
    if not articles:
        yield _missing("delib.articles")
    yield from _numbering(articles)
    unanimous = re.search(_UNANIMOUS, folded)
    for code, pattern in _VOTES:
        if not unanimous and not re.search(pattern, folded):
            yield _missing(code)
    if not re.search(_QUORUM, folded):
        yield _missing("delib.quorum")
    if not re.search(_CONVOCATION, folded):
        yield _missing("delib.convocation_date")


def _swiss(folded: str) -> Iterable[Hit]:
    if not _has_title(folded):
        yield _missing("delib.title")
    if not re.search(r"\bvu\b", folded):
        yield _missing("delib.visa")
    dispositif = re.search(r"\b(?:arrete|decide)\b\s*:?", folded)
    if dispositif is None:
        yield _missing("delib.dispositif")
    points = list(_POINT.finditer(folded, dispositif.end() if dispositif else 0))
    if not points:
        yield _missing("delib.points")
    yield from _numbering(points)


def _note(folded: str) -> Iterable[Hit]:
    for code, words in _NOTE_SECTIONS:
        heading = rf"^[ \t#*\d.ivx)\-–]*(?:{words})\b[^\n]{{0,60}}$"
        if not re.search(heading, folded, re.MULTILINE):
            yield _missing(code)


def _has_title(folded: str) -> bool:
    """A first non-empty line that is not already a visa, recital or article."""
    first = next((line.strip() for line in folded.splitlines() if line.strip()), "")
    return bool(first) and not re.match(r"(?:vu|considerant|article|art\.)\b", first)


def _numbering(matches: list[re.Match[str]]) -> Iterable[Hit]:
    """Gaps and duplicates in "Article 1er, Article 2, …" or "1., 2., …", at the faulty number."""
    previous = 0
    seen: set[int] = set()
    for match in matches:
        group = match.lastindex or 1  # points are "Article 2" or "2."
        number = 1 if match.group(group) in ("1er", "premier") else int(match.group(group))
        start, end = match.start(group), match.end(group)
        if number in seen:
            yield "delib.number_duplicate", start, end, {"number": number}
        elif number != previous + 1:
            params: dict[str, object] = {
                "previous": previous, "number": number, "expected": previous + 1}
            yield "delib.number_gap", start, end, params
        seen.add(number)
        previous = max(previous, number)
