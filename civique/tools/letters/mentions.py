"""Required-mentions checker: what a letter of a given kind must state, and what is missing.

Sources: French Code des relations entre le public et l'administration (CRPA) — art. L112-3
and R112-5 (acknowledgement of receipt: date of receipt, the service handling the request with
its address and telephone, the deadline after which silence means acceptance or refusal, and
the remedies against an implicit refusal), L114-5 (a request for missing documents sets the
deadline to send them), L211-2 and L211-5 (a refusal states its reasons in
writing), R421-5 of the Code de justice administrative (the two-month time limit for appeal
runs only if the decision states the remedies and their time limits); Swiss federal act on
administrative procedure (PA) art. 35 (a decision states its reasons and the "voies de droit")
and art. 50 (appeal within 30 days). Matching ignores case and accents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from civique.errors import N_
from civique.tools.findings import Finding
from civique.tools.text import fold

_MONTHS = "janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
DATE = (
    rf"\b\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\s+\d{{4}}\b"
    r"|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
)
TIME = r"\b\d{1,2}\s?h\s?(?:\d{2})?\b|\b\d{1,2}:\d{2}\b"
_REMEDY_DEADLINE = r"\b(?:deux|2)\s+mois\b|\b(?:30|trente)\s+jours\b"
_SIGNATORY = (
    r"\b(?:le|la)\s+(?:maire|adjointe?|prefete?|presidente?|directeur|directrice|chef|cheffe"
    r"|responsable|secretaire)\b|\bpar\s+delegation\b|\bp\.\s?o\.|\bsignature\b|\bsigne\b"
)


@dataclass(frozen=True)
class Mention:
    """A thing a letter must state: any one of `patterns` (folded regexes) or a variable's value."""

    code: str
    message: str
    patterns: tuple[str, ...]
    variables: tuple[str, ...] = ()
    at_end: bool = False  # look only in the last lines (a signature block)


def _m(
    code: str, message: str, *patterns: str, variables: tuple[str, ...] = (), at_end: bool = False
) -> Mention:
    return Mention(code, message, patterns, variables, at_end)


_END_LINES = 3  # a signature block: "Pour le maire et par délégation, / L'adjointe, / Nom"


REQUIRED: dict[str, tuple[Mention, ...]] = {
    "reply": (
        _m("mention.subject", N_("State the subject of the letter (“Objet : …”)."), r"\bobjet\b"),
        _m("mention.request", N_("Refer to the request you are answering (its date or reference)."),
           r"\bvotre\s+(?:demande|courrier|lettre|message|courriel|requete|dossier)\b",
           r"\ben\s+reponse\b", r"\bvos?\s+ref", r"\breference\b", variables=("reference",)),
        _m("mention.date", N_("Date the letter."), DATE, variables=("date",)),
        _m("mention.signatory", N_("Name the signatory and their role."), _SIGNATORY,
           variables=("signatory",), at_end=True),
    ),
    "acknowledgement": (
        _m("mention.date_of_receipt", N_("State the date on which the request was received."),
           rf"\b(?:recue?s?|reception|parvenue?s?|deposee?s?|enregistree?s?)\b[^.]{{0,60}}(?:{DATE})",
           variables=("received_on",)),
        _m("mention.service", N_("Name the service handling the request."),
           r"\b(?:service|direction|bureau|pole|departement|secretariat)\b",
           variables=("service",)),
        _m("mention.contact", N_("Give the service's address and telephone number or e-mail."),
           r"\b(?:tel|telephone)\b", r"\b0\d(?:[ .]?\d{2}){4}\b", r"\+\d{2}[\d ]{8,}",
           r"[\w.+-]+@[\w-]+\.[\w.]+"),
        _m("mention.implicit_decision",
           N_("State the deadline after which silence means acceptance or refusal."),
           r"\b(?:a\s+defaut\s+de|en\s+l'absence\s+de|sans)\s+reponse\b",
           r"\bsilence\s+garde\b", r"\bdecision\s+implicite\b"),
        _m("mention.remedies", N_("State the remedies against an implicit refusal."),
           r"\brecours\b", r"\bvoies?\s+de\s+droit\b"),
    ),
    "certificate": (
        _m("mention.object", N_("State what is certified (“atteste que …”)."),
           r"\b(?:atteste|certifie|attestons|certifions)\b", r"\battestation\s+de\b",
           r"\bcertificat\s+de\b"),
        _m("mention.beneficiary", N_("Name the person the certificate is about."),
           r"\b(?:m\.|mme|madame|monsieur|mademoiselle)\s+\w", r"\bnee?\s+le\b",
           r"\bdemeurant\b", variables=("beneficiary", "recipient")),
        _m("mention.authority", N_("Name the issuing authority."),
           r"\b(?:le|la)\s+(?:maire|prefete?|presidente?|directeur|directrice)\b",
           r"\b(?:mairie|commune|ville|prefecture|canton|municipalite|administration)\b",
           variables=("service", "organisation")),
        _m("mention.date", N_("Date the certificate."), DATE, variables=("date",)),
        _m("mention.place", N_("State where the certificate is issued (“Fait à …”)."),
           r"\bfait\s+a\s+\w", r"^\s*[a-z][\w' -]+,\s+le\s"),
        _m("mention.signatory", N_("Name the signatory and their role."), _SIGNATORY,
           variables=("signatory",), at_end=True),
    ),
    "convocation": (
        _m("mention.date", N_("State the date of the meeting."), DATE, variables=("date",)),
        _m("mention.time", N_("State the time of the meeting."), TIME, variables=("time",)),
        _m("mention.place", N_("State the place of the meeting."),
           r"\b(?:lieu|salle|adresse|mairie|hotel\s+de\s+ville|rue|avenue|place|bureau|"
           r"chemin|boulevard|visioconference)\b", variables=("place",)),
        _m("mention.agenda", N_("State the agenda or the purpose of the meeting."),
           r"\bordre\s+du\s+jour\b", r"\bobjet\b", variables=("agenda",)),
    ),
    "missing_documents": (
        _m("mention.documents", N_("List the missing documents."),
           r"^\s*(?:[-•*–]|\d+[.)])\s+\S",
           r"\b(?:pieces?|documents?|justificatifs?)\s+(?:manquante?s?|suivante?s?|a\s+fournir|"
           r"justificatives?)\b"),
        _m("mention.deadline", N_("State the deadline to send them."),
           rf"\b(?:avant|d'ici|au\s+plus\s+tard)\s+(?:le\s+)?(?:{DATE})",
           r"\bdans\s+un\s+delai\s+de\b", r"\bsous\s+(?:\d+|huit|quinze)\s+jours\b",
           r"\bsous\s+(?:huitaine|quinzaine)\b", variables=("deadline",)),
        _m("mention.consequences", N_("Say what happens if they are not sent in time."),
           r"\b(?:a\s+defaut|faute\s+de|sans\s+quoi|passe\s+ce\s+delai)\b",
           r"\bclassee?\s+sans\s+suite\b", r"\birrecevable\b",
           r"\bne\s+pourra\s+(?:pas\s+)?etre\s+(?:traitee?|instruite?|examinee?)\b"),
    ),
    "refusal": (
        _m("mention.reasons", N_("State the reasons for the refusal (legal and factual)."),
           r"\bmotifs?\b", r"\ben\s+raison\s+d", r"\bau\s+motif\b", r"\bconsiderant\b",
           r"\ben\s+application\s+d", r"\bconformement\s+a", r"\bparce\s+qu",
           r"\bvu\s+(?:l'|le|la|les)\b"),
        _m("mention.remedies",
           N_("State the legal remedies (recours gracieux, hiérarchique or contentieux)."),
           r"\brecours\s+(?:gracieux|hierarchique|contentieux)\b", r"\bvoies?\s+de\s+recours\b",
           r"\bvoies?\s+de\s+droit\b", r"\brecours\b"),
        _m("mention.court", N_("Name the court or authority that hears an appeal."),
           r"\btribunal\s+(?:administratif|cantonal|federal)\b", r"\btelerecours\b",
           r"\bcour\s+de\s+droit\s+administratif\b", r"\bautorite\s+de\s+recours\b",
           r"\bconseil\s+d'etat\b"),
        _m("mention.remedy_deadline",
           N_("State the time limit for an appeal (two months in France, 30 days in Switzerland)."),
           _REMEDY_DEADLINE),
    ),
}
KINDS = tuple(REQUIRED)


def check(kind: str, text: str, variables: Mapping[str, str] | None = None) -> list[Finding]:
    """What a letter of `kind` fails to state (empty: nothing missing); ValueError if unknown."""
    if kind not in REQUIRED:
        raise ValueError(f"unknown letter kind {kind!r}; known: {', '.join(KINDS)}")
    folded = fold(text)
    values = {name: fold(value).strip() for name, value in (variables or {}).items()}
    return [
        Finding(m.code, m.message, severity="error", params={"kind": kind})
        for m in REQUIRED[kind]
        if not _present(m, folded, values)
    ]


def _present(mention: Mention, folded: str, values: Mapping[str, str]) -> bool:
    where = _last_lines(folded) if mention.at_end else folded
    if any(re.search(p, where, re.MULTILINE) for p in mention.patterns):
        return True
    return any(values.get(name) and values[name] in folded for name in mention.variables)


def _last_lines(folded: str) -> str:
    """The last non-empty lines of the text, where a signature stands."""
    lines = [line for line in folded.splitlines() if line.strip()]
    return "\n".join(lines[-_END_LINES:])
