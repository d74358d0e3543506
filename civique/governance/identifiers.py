"""Identifiers found by their shape and, where they have one, their check digits.

Pure functions on strings (no presidio, no model): IBAN, Swiss AVS/AHV number, French NIR,
French and Swiss phone numbers, e-mail addresses, vehicle plates, passport and identity card
numbers. Each `find_*` returns `Candidate`s with offsets into the text it was given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

VALID_SCORE = 1.0  # the check digits agree: the strongest evidence we can have
INVALID_SCORE = 0.4  # the shape fits but the check digits do not: a "possible identifier"

# Lengths of the IBAN of European countries (ISO 13616 registry); others: 15 to 34 characters.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22,
    "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18,
    "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
}
SWISS_CANTONS = (
    "AG", "AI", "AR", "BE", "BL", "BS", "FR", "GE", "GL", "GR", "JU", "LU", "NE", "NW", "OW",
    "SG", "SH", "SO", "SZ", "TG", "TI", "UR", "VD", "VS", "ZG", "ZH",
)


@dataclass(frozen=True)
class Candidate:
    """A span that looks like personal data, before thresholds and overlaps are applied."""

    start: int
    end: int
    kind: str
    score: float
    valid: bool = True


# --- check digits -------------------------------------------------------------------------------

def mod97(digits: str) -> int:
    """`int(digits) % 97`, for numbers longer than machine words."""
    return int(digits) % 97


def iban_ok(value: str) -> bool:
    """True for an IBAN (spaces allowed) of the right length whose ISO 13616 mod-97 is 1."""
    compact = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    rearranged = compact[4:] + compact[:4]
    return mod97("".join(str(int(char, 36)) for char in rearranged)) == 1


def ean13_check_digit(first12: str) -> int:
    """The EAN-13 check digit of twelve digits (weights 1, 3, 1, 3… from the left)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def avs_ok(value: str) -> bool:
    """True for a Swiss AVS/AHV number: 13 digits starting 756, EAN-13 check digit."""
    digits = re.sub(r"[.\s]", "", value)
    return (re.fullmatch(r"756\d{10}", digits) is not None
            and ean13_check_digit(digits[:12]) == int(digits[12]))


def nir_key(first13: str) -> int:
    """The key of a French NIR: 97 − (number mod 97); Corsica's 2A and 2B count as 19 and 18."""
    department = first13[5:7].upper()
    number = first13[:5] + {"2A": "19", "2B": "18"}.get(department, department) + first13[7:]
    return 97 - mod97(number)


def nir_ok(value: str) -> bool:
    """True for a French social security number (NIR, 15 characters, spaces allowed)."""
    compact = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"[1-478]\d{4}(?:\d{2}|2[AB])\d{8}", compact):
        return False
    return nir_key(compact[:13]) == int(compact[13:])


# --- finders ------------------------------------------------------------------------------------

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,32}")
_AVS = re.compile(r"(?<![\d.])756(?P<sep>[. ]?)\d{4}(?P=sep)\d{4}(?P=sep)\d{2}(?![\d])")
_NIR = re.compile(r"(?<![\w])[1-478] ?\d{2} ?\d{2} ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}(?![\w])")
_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w%+-]+(?:\.[\w%+-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_SEP = r"[ .\-]?"
# National numbers: ten digits starting with 0, any grouping (French 2-2-2-2-2, Swiss 3-3-2-2).
_PHONE_NATIONAL = re.compile(rf"(?<![\d+])(?<!\d[ .\-])0[1-9](?:{_SEP}\d){{8}}(?!{_SEP}\d)")
# +33 and +41 (or 0033, 0041) are followed by the nine digits of the national number without its 0.
_PHONE_FR_CH = re.compile(
    rf"(?<![\w+])(?:\+|00)(?:33|41) ?(?:\(0\) ?)?[1-9](?:{_SEP}\d){{8}}(?!{_SEP}\d)"
)
_PHONE_OTHER = re.compile(rf"(?<![\w+])\+(?!33|41)[1-9](?:{_SEP}\d){{7,14}}(?!{_SEP}\d)")
_PLATE_FR = re.compile(r"(?<![\w-])[A-HJ-NP-TV-Z]{2}(?P<sep>[- ]?)\d{3}(?P=sep)[A-HJ-NP-TV-Z]{2}"
                       r"(?![\w-])")
_PLATE_CH = re.compile(rf"(?<![\w-])(?:{'|'.join(SWISS_CANTONS)})(?: \d{{1,6}}|\d{{3,6}})"
                       r"(?![\w-]|[.,]\d)")
_DOCUMENT_NUMBER = re.compile(
    r"(?<![\w-])(?:\d{2}[A-Z]{2}\d{5}|[A-Z]\d{7}|\d{12}|(?=[A-Z\d]*\d)(?=[A-Z\d]*[A-Z])[A-Z\d]{9})"
    r"(?![\w-])"
)
_PASSPORT_WORDS = re.compile(r"passeport|passport|reisepass|passaporto|\bpass\b", re.I)
_ID_CARD_WORDS = re.compile(
    r"carte (?:nationale )?d['’]identit[ée]|\bCNI\b|identity card|\bID card|identit[äa]tskarte"
    r"|carta d['’]identit[àa]|\bcarte ID\b",
    re.I,
)
KEYWORD_WINDOW = 60  # characters before a number where its keyword must be


def _iban_candidate(text: str, start: int, end: int) -> Candidate:
    """The IBAN of the country's length starting at `start` (or the longest valid one)."""
    groups = list(re.finditer(r"\S+", text[start:end]))
    # Trailing groups without digits are words in capitals, not the end of an account number.
    while len(groups) > 1 and not any(c.isdigit() for c in groups[-1].group()):
        groups.pop()
    positions = [i for i in range(start, start + groups[-1].end()) if not text[i].isspace()]
    expected = IBAN_LENGTHS.get(text[start : start + 2])
    lengths = [expected] if expected else list(range(min(len(positions), 34), 14, -1))
    for length in lengths:
        if length <= len(positions) and iban_ok(text[start : positions[length - 1] + 1]):
            return Candidate(start, positions[length - 1] + 1, "IBAN", VALID_SCORE)
    stop = positions[min(len(positions), expected or 34) - 1] + 1
    return Candidate(start, stop, "IBAN", INVALID_SCORE, valid=False)


def find_ibans(text: str) -> Iterator[Candidate]:
    """IBANs of any country, grouped by spaces or not; a failing checksum gives valid=False."""
    for match in _IBAN.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if digits >= 10:  # an account number is mostly digits; words in capitals are not
            yield _iban_candidate(text, match.start(), match.end())


def find_avs(text: str) -> Iterator[Candidate]:
    """Swiss AVS/AHV numbers 756.xxxx.xxxx.xx (dots, spaces or none)."""
    for match in _AVS.finditer(text):
        ok = avs_ok(match.group())
        yield Candidate(match.start(), match.end(), "AVS", VALID_SCORE if ok else INVALID_SCORE, ok)


def find_nirs(text: str) -> Iterator[Candidate]:
    """French NIR (social security numbers), with the key checked."""
    for match in _NIR.finditer(text):
        ok = nir_ok(match.group())
        yield Candidate(match.start(), match.end(), "NIR", VALID_SCORE if ok else INVALID_SCORE, ok)


def find_emails(text: str) -> Iterator[Candidate]:
    """E-mail addresses."""
    for match in _EMAIL.finditer(text):
        yield Candidate(match.start(), match.end(), "EMAIL", 0.95)


def find_phones(text: str) -> Iterator[Candidate]:
    """French and Swiss numbers (national and +33/+41), and other international numbers."""
    for pattern, score in ((_PHONE_NATIONAL, 0.75), (_PHONE_FR_CH, 0.9), (_PHONE_OTHER, 0.6)):
        for match in pattern.finditer(text):
            yield Candidate(match.start(), match.end(), "TELEPHONE", score)


def find_plates(text: str) -> Iterator[Candidate]:
    """French SIV plates (AA-123-AA) and Swiss plates (canton code and number, e.g. GE 123456)."""
    for match in _PLATE_FR.finditer(text):
        yield Candidate(match.start(), match.end(), "PLAQUE", 0.8 if match.group("sep") else 0.6)
    for match in _PLATE_CH.finditer(text):
        yield Candidate(match.start(), match.end(), "PLAQUE", 0.6 if " " in match.group() else 0.5)


def _nearest_keyword(text: str, start: int) -> str | None:
    """PASSEPORT or CARTE_IDENTITE, whichever keyword ends closest before `start`."""
    window = text[max(0, start - KEYWORD_WINDOW) : start]
    found = [(m.end(), "PASSEPORT") for m in _PASSPORT_WORDS.finditer(window)]
    found += [(m.end(), "CARTE_IDENTITE") for m in _ID_CARD_WORDS.finditer(window)]
    return max(found)[1] if found else None


def _document_shape_fits(kind: str, number: str) -> bool:
    if kind == "PASSEPORT":  # French 12AB34567, Swiss X1234567
        return re.fullmatch(r"\d{2}[A-Z]{2}\d{5}|[A-Z]\d{7}", number) is not None
    return not re.fullmatch(r"\d{2}[A-Z]{2}\d{5}", number)  # CNI: 12 digits, 9 characters, Swiss


def find_documents(text: str) -> Iterator[Candidate]:
    """Passport and identity card numbers, only just after a keyword (the shapes are common)."""
    for match in _DOCUMENT_NUMBER.finditer(text):
        kind = _nearest_keyword(text, match.start())
        if kind and _document_shape_fits(kind, match.group()):
            yield Candidate(match.start(), match.end(), kind, 0.85)

