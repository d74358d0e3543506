"""Personal data recognised by its wording: dates of birth, postal addresses, names after a
civility title, and case numbers of the administration's own patterns (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date

from civique.governance.identifiers import Candidate

MONTHS: dict[str, int] = {}
for _number, _names in enumerate((
    "janvier janv jan january januar gennaio",
    "février fevrier févr fevr fév fev feb february februar febbraio",
    "mars mar march märz maerz marzo",
    "avril avr apr april aprile",
    "mai may maggio",
    "juin jun june juni giugno",
    "juillet juil jul july juli luglio",
    "août aout aug august agosto",
    "septembre sept sep september settembre",
    "octobre oct october oktober ottobre",
    "novembre nov november novembre",
    "décembre decembre déc dec december dezember dicembre",
), start=1):
    MONTHS.update(dict.fromkeys(_names.split(), _number))

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE = re.compile(
    r"(?<![\w.])(?:"
    r"(?P<d>\d{1,2})(?P<s>[./-])(?P<m>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})"
    r"|(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
    rf"|(?P<td>\d{{1,2}})(?:er|st|nd|rd|th)?\.?\s+(?P<tm>{_MONTH})\.?\s+(?P<ty>\d{{4}})"
    rf"|(?P<em>{_MONTH})\.?\s+(?P<ed>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<ey>\d{{4}})"
    r")(?![\w])",
    re.IGNORECASE,
)
# Words that make the next date a date of birth (French, German, English, Italian).
_BIRTH_WORDS = re.compile(
    r"\bnée?s?\b|\bné\(e\)|naissance|\bgeboren\b|\bgeb\.|geburtsdatum|\bborn\b|\bbirth\b"
    r"|\bDOB\b|\bnat[oa]\b|\bDDN\b",
    re.IGNORECASE,
)
BIRTH_WINDOW = 60  # characters before a date where "né le", "date de naissance"… must be


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # 12.03.85 is 1985, 12.03.07 is 2007
        year += 2000 if year <= date.today().year % 100 else 1900
    return year


def _date_of(match: re.Match[str]) -> date | None:
    """The calendar date a match names, or None when it names none (31.02.2020, month 13)."""
    groups = match.groupdict()
    try:
        if groups["d"]:
            return date(_year(groups["y"]), int(groups["m"]), int(groups["d"]))
        if groups["iy"]:
            return date(int(groups["iy"]), int(groups["im"]), int(groups["id"]))
        if groups["td"]:
            return date(int(groups["ty"]), MONTHS[groups["tm"].lower()], int(groups["td"]))
        return date(int(groups["ey"]), MONTHS[groups["em"].lower()], int(groups["ed"]))
    except ValueError:
        return None


def find_dates(text: str, ordinary: bool = False) -> Iterator[Candidate]:
    """Dates of birth (a keyword just before); every other date too when `ordinary` is set."""
    previous_end = 0
    for match in _DATE.finditer(text):
        when = _date_of(match)
        if when is None or not 1850 <= when.year <= date.today().year + 1:
            continue
        # The keyword must stand between the previous date and this one: "né le 3 mai 1950,
        # marié le 4 juin 1975" has one date of birth.
        window_start = max(previous_end, match.start() - BIRTH_WINDOW)
        window = re.split(r"[\n;]", text[window_start : match.start()])[-1]
        previous_end = match.end()
        if _BIRTH_WORDS.search(window) and when <= date.today():
            yield Candidate(match.start(), match.end(), "DATE_NAISSANCE", 0.9)
        elif ordinary:
            yield Candidate(match.start(), match.end(), "DATE", 0.6)


_STREET_TYPE = (
    r"(?i:rue|ruelle|avenue|av\.|boulevard|bd|chemin|ch\.|route|rte|place|pl\.|allée|impasse"
    r"|quai|cours|square|passage|sentier|rampe|promenade|esplanade|faubourg|chaussée|voie"
    r"|traverse|montée|clos|hameau|lieu-dit|via|viale|piazza|corso)"
)
_UPPER = "A-ZÀ-ÖØ-Þ"
# A street-name word: Rhône, Général-Dufour, 1er-Août, 31-Décembre (a bare number is the
# house number of the Swiss order, "rue du Rhône 12", not part of the name).
_WORD = rf"(?:[{_UPPER}][\w'’]*|\d{{1,2}}(?:er\b|e\b|(?=-)))(?:-[\w'’]+)*"
_PARTICLE = r"(?:de|du|des|la|le|les|l['’]|d['’]|aux|au|sur|sous|en|et|à|von|der|di|del|della)"
_STREET_NAME = rf"(?:{_PARTICLE}\s?)*{_WORD}(?:[ -](?:{_PARTICLE}\s?)*{_WORD}){{0,4}}"
_NUMBER = r"\d{1,4}(?:\s?(?:bis|ter|quater|[a-dA-D])\b)?"
_CITY_WORD = rf"[{_UPPER}][\w'’-]+"
_CITY_MORE = rf"(?:{_CITY_WORD}|sur|sous|en|lès|le|la|de)"  # Saint-Julien-en-Genevois
_CITY = rf"(?:(?:CH|F|FR)-)?\d{{4,5}}\s+{_CITY_WORD}(?:[ -]{_CITY_MORE}){{0,3}}"
_ADDRESS = re.compile(
    rf"(?<![\w])(?:{_NUMBER},?\s+{_STREET_TYPE}\s+{_STREET_NAME}"  # 12 rue de la Paix
    rf"|{_STREET_TYPE}\s+{_STREET_NAME},?\s+{_NUMBER}"  # rue du Rhône 12 (Swiss order)
    rf"|[{_UPPER}][a-zäöü]+(?:strasse|straße|gasse|weg|platz)\s+{_NUMBER})"  # Bahnhofstrasse 3
    rf"(?:,?\s+{_CITY})?(?![\w])"
)


def find_addresses(text: str) -> Iterator[Candidate]:
    """Postal addresses: number and street (either order), then an optional postcode and city."""
    for match in _ADDRESS.finditer(text):
        yield Candidate(match.start(), match.end(), "ADRESSE", 0.75)


# "Mes" (Maîtres) and "Dame" are left out: "Mes Enfants", "Dame Blanche" are not people.
_TITLE = (r"(?:M\.|MM\.|Mme|Mmes|Mlle|Mlles|Me|Maître|Monsieur|Madame|Mademoiselle|Dr|Dre"
          r"|Docteur|Pr|Professeur|Mr\.?|Mrs\.?|Ms\.?|Herr|Frau|Sir|Lord(?: Justice)?|juges?)")
_PLURAL_TITLE = re.compile(r"MM\.|Mmes|Mlles|juges")  # may be followed by a list of names
_NAME_WORD = rf"[{_UPPER}](?:[a-zß-öø-ÿ'’]+|[{_UPPER}]+)(?:-[{_UPPER}][a-zß-öø-ÿ'’]+)*"
_INITIAL = rf"[{_UPPER}]\.(?: ?- ?[{_UPPER}]\.)?"
_NAME_PARTICLE = r"(?:de|van|von|du|di|da) "
# Initials, then up to four words (Jean-Pierre de Montmollin), or initials alone ("M. S.").
_NAME = (rf"(?:{_INITIAL} ?)*(?:{_NAME_PARTICLE})?{_NAME_WORD}"
         rf"(?: (?:{_NAME_PARTICLE})?{_NAME_WORD}){{0,3}}|{_INITIAL}")
_PERSON = re.compile(
    rf"(?<![\w.])(?P<title>{_TITLE})(?:\s+et\s+{_TITLE})?\s+(?P<name>{_NAME})"
)
_LIST_NAME = re.compile(rf"(?:, ?| et )(?!{_TITLE}\s)(?P<name>{_NAME})")
_INNER_TITLE = re.compile(rf"(?<![\w.]){_TITLE}(?:\s+et\s+{_TITLE})?\s+(?=[{_UPPER}])")


def title_length(name: str) -> int:
    """Characters up to the end of the civility title(s) in a name found by spaCy ("Mme ",
    "M. et Mme ", "Dear Mr "), or 0 when it holds none."""
    found = list(_INNER_TITLE.finditer(name))
    return found[-1].end() if found else 0


def find_titled_names(text: str) -> Iterator[Candidate]:
    """Names after a civility title (M. Dupont, Mme Anne-Marie Andersson, Me Favre, les juges
    Raimondi, Nicolaou et Bianku); the title stays out of the span, so that "Mme [PERSONNE_1]"
    still reads right."""
    for match in _PERSON.finditer(text):
        yield Candidate(match.start("name"), match.end("name"), "PERSONNE", 0.8)
        at = match.end()
        while _PLURAL_TITLE.fullmatch(match.group("title")) and (
            more := _LIST_NAME.match(text, at)
        ):
            yield Candidate(more.start("name"), more.end("name"), "PERSONNE", 0.75)
            at = more.end()


# Words after which a capitalised word is a person: case names ("l'affaire Mellor", "arrêt
# Chahal c. Royaume-Uni", "affaire R (Mellor)") and introductions ("un dénommé Heffy").
_CUE = re.compile(
    rf"(?<![\w])(?:[Aa]ffaire |[Aa]rrêt |[Cc]ause )(?:R \()?(?=[{_UPPER}])(?P<name>{_NAME})"
    rf"|(?<![\w])(?:dénommée?s?|nommée?s?|alias) (?=[{_UPPER}])(?P<other>{_NAME})"
)


def find_cued_names(text: str) -> Iterator[Candidate]:
    """Names after a word that announces one: case names and "le dénommé X"."""
    for match in _CUE.finditer(text):
        group = "name" if match.group("name") else "other"
        yield Candidate(match.start(group), match.end(group), "PERSONNE", 0.7)


# Words spaCy tags as names or places for their capital letter, that name no one in particular.
_GENERIC_NAMES = frozenset((
    "gouvernement", "état", "etat", "cour", "commission", "chambre", "comité", "conseil",
    "parlement", "président", "présidente", "trésor", "couronne", "ordre", "tribunal",
    "administration", "commune", "canton", "confédération", "république", "ministère",
    "préfecture", "mairie", "ville", "département", "région", "assemblée", "direction", "service",
    "office", "ministère public", "votre honneur", "trésor public", "conseil d'état",
    "conseil fédéral", "grand conseil",
))
_ARTICLE = re.compile(r"^(?:l['’]|le |la |les )", re.IGNORECASE)
_COURT = re.compile(r"^(?:haute |high )?(?:cour|tribunal|court|chambre)\b", re.IGNORECASE)


def entity_kind(kind: str, text: str) -> str | None:
    """The kind to report for a name, place or organisation found by spaCy, or None when the
    span names no one: generic institutions (le Gouvernement, la Cour), single letters,
    headings in capitals. Courts tagged as places are organisations."""
    bare = _ARTICLE.sub("", text).strip()
    if len(bare) < 2 or bare.casefold() in _GENERIC_NAMES:
        return None
    if " " not in bare and bare.isupper() and len(bare) >= 6:  # ESPÈCE, PROCÉDURE: headings
        return None
    if kind == "LIEU" and _COURT.match(bare):
        return "ORGANISATION"
    return kind


def find_case_numbers(text: str, patterns: Iterable[tuple[str, re.Pattern[str]]]) -> Iterator[
    Candidate
]:
    """Case and file numbers of the configured patterns, as (kind, compiled pattern)."""
    for kind, pattern in patterns:
        for match in pattern.finditer(text):
            if match.end() > match.start():
                yield Candidate(match.start(), match.end(), kind, 0.8)
