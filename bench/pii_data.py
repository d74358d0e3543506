"""Data for the personal-data benchmark and tests, independent of Civique's own code.

- the French ECHR judgments of ../shared/data/pii_echr_fr (one `token TAG` a line, BIO tags,
  CRLF, a blank line between sentences), turned back into text with character offsets;
- French sentences holding generated identifiers (IBAN, AVS, NIR, phone, e-mail, plate) with
  valid and wrong check digits, from a fixed seed. The check digits are computed here by small
  implementations of the public rules, written apart from civique.governance.identifiers.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.texts import shared_data

ECHR = Path("pii_echr_fr")
ECHR_FILES = {"dev": "FR-manual-dev.tsv", "train": "FR-manual-train.tsv"}
_NO_SPACE_BEFORE = {".", ",", ")", "]", "…", "%", "-", "/", "'", "’"}
_NO_SPACE_AFTER = {"(", "[", "-", "/", "'", "’"}


@dataclass(frozen=True)
class Entity:
    """A gold span: offsets in the sample's text and its label (ECHR's, or one of our kinds)."""

    start: int
    end: int
    label: str
    valid: bool = True


@dataclass
class Sample:
    """A text and its gold entities."""

    text: str
    entities: list[Entity] = field(default_factory=list)


def _sentences(path: Path) -> list[list[tuple[str, str]]]:
    sentences: list[list[tuple[str, str]]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip().rsplit(maxsplit=1)
        if len(parts) == 2:
            sentences[-1].append((parts[0], parts[1]))
        elif sentences[-1]:
            sentences.append([])
    return [s for s in sentences if s]


def _detokenised(tokens: list[tuple[str, str]], text: list[str], at: int) -> tuple[int, list[
    Entity
]]:
    """Append the sentence to `text` (its parts) from offset `at`; returns the new offset and
    the sentence's entities."""
    entities: list[Entity] = []
    open_start, open_label, last_end, previous = -1, "", at, ""
    for token, tag in tokens:
        if previous and token not in _NO_SPACE_BEFORE and previous not in _NO_SPACE_AFTER:
            text.append(" ")
            at += 1
        if open_label and not tag.startswith("I-"):
            entities.append(Entity(open_start, last_end, open_label))
            open_label = ""
        if tag.startswith("B-") or (tag.startswith("I-") and not open_label):
            open_start, open_label = at, tag[2:]
        text.append(token)
        at += len(token)
        last_end, previous = at, token
    if open_label:
        entities.append(Entity(open_start, last_end, open_label))
    return at, entities


def echr(split: str = "dev", root: Path | None = None) -> Sample:
    """One split of the ECHR examples as one text, a sentence a line."""
    path = (root or shared_data()) / ECHR / ECHR_FILES[split]
    parts: list[str] = []
    entities: list[Entity] = []
    at = 0
    for tokens in _sentences(path):
        if parts:
            parts.append("\n")
            at += 1
        at, found = _detokenised(tokens, parts, at)
        entities += found
    return Sample("".join(parts), entities)


# --- check digits (independent implementations) --------------------------------------------------

def _letters_to_digits(value: str) -> str:
    return "".join(str(ord(c) - 55) if c.isalpha() else c for c in value)


def iban_check(country: str, bban: str) -> str:
    """The two check digits of an IBAN (ISO 13616: 98 − mod 97 of BBAN + country + 00)."""
    return f"{98 - int(_letters_to_digits(bban + country + '00')) % 97:02d}"


def avs_check(first12: str) -> str:
    """The EAN-13 check digit: weights 3 and 1 from the right end of the 12 digits."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(first12)))
    return str(-total % 10)


def nir_check(first13: str) -> str:
    """The NIR key: 97 − the number mod 97, with 2A → 19 and 2B → 18 (Corsica)."""
    number = first13[:5] + first13[5:7].replace("2A", "19").replace("2B", "18") + first13[7:]
    return f"{97 - int(number) % 97:02d}"


def spoiled(value: str, rng: random.Random) -> str:
    """`value` with one of its digits changed (a typing error the check digits catch); the first
    three digits stay, so that the shape (756…, the NIR's sex digit) is kept."""
    places = [i for i, c in enumerate(value) if c.isdigit()][3:]
    at = rng.choice(places)
    digit = rng.choice([d for d in string.digits if d != value[at]])
    return value[:at] + digit + value[at + 1 :]


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def grouped(value: str, size: int = 4) -> str:
    """`value` in groups of `size` characters, the way IBANs are printed."""
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def make_iban(rng: random.Random, country: str = "CH", compact: bool = False) -> str:
    """A valid IBAN of `country` (CH, FR or DE), printed in groups of four or `compact`."""
    if country == "FR":
        bban = _digits(rng, 10) + "".join(rng.choice(string.ascii_uppercase + string.digits)
                                          for _ in range(11)) + _digits(rng, 2)
    else:
        bban = _digits(rng, {"CH": 17, "DE": 18}[country])
    iban = country + iban_check(country, bban) + bban
    return iban if compact else grouped(iban)


def make_avs(rng: random.Random, separator: str = ".") -> str:
    """A valid AVS number, 756.xxxx.xxxx.xx (or with another separator, or none)."""
    first12 = "756" + _digits(rng, 9)
    digits = first12 + avs_check(first12)
    return separator.join((digits[:3], digits[3:7], digits[7:11], digits[11:]))


def make_nir(rng: random.Random) -> str:
    """A valid NIR, printed 1 85 05 78 006 084 36 (sometimes born in Corsica)."""
    corsica = rng.random() < 0.2
    department = rng.choice(["2A", "2B"]) if corsica else f"{rng.randint(1, 95):02d}"
    first13 = (rng.choice("12") + f"{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}"
               + department + _digits(rng, 6))
    n = first13 + nir_check(first13)
    return f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {n[13:]}"


def make_phone(rng: random.Random) -> str:
    """A French or Swiss number, national or international, in one of the usual layouts."""
    style = rng.randrange(4)
    if style == 0:
        return "0" + str(rng.randint(1, 7)) + "".join(f" {_digits(rng, 2)}" for _ in range(4))
    if style == 1:
        return f"+33 {rng.randint(1, 7)}" + "".join(f" {_digits(rng, 2)}" for _ in range(4))
    area = rng.choice(["21", "22", "24", "26", "27", "31", "44", "61", "76", "78", "79"])
    if style == 2:
        return f"0{area} {_digits(rng, 3)} {_digits(rng, 2)} {_digits(rng, 2)}"
    return f"+41 {area} {_digits(rng, 3)} {_digits(rng, 2)} {_digits(rng, 2)}"


def make_email(rng: random.Random) -> str:
    """A personal or office address."""
    first = rng.choice(["jean", "marie", "l.favre", "p-a.rochat", "sophie.muller", "n.diallo"])
    domain = rng.choice(["ge.ch", "vd.ch", "mairie-lyon.fr", "gmail.com", "bluewin.ch",
                         "orange.fr", "etat.ge.ch"])
    return f"{first}{rng.randint(1, 99)}@{domain}"


def make_plate(rng: random.Random) -> str:
    """A French SIV plate (AB-123-CD) or a Swiss one (GE 123456)."""
    letters = "ABCDEFGHJKLMNPQRSTVWXYZ"  # SIV plates use neither I, O nor U
    if rng.random() < 0.5:
        first, last = ("".join(rng.choices(letters, k=2)) for _ in range(2))
        return f"{first}-{_digits(rng, 3)}-{last}"
    canton = rng.choice(["GE", "VD", "VS", "FR", "NE", "ZH", "BE", "TI"])
    return f"{canton} {rng.randint(1, 999_999)}"


TEMPLATES: dict[str, tuple[str, ...]] = {
    "IBAN": ("Le remboursement sera versé sur le compte {} dès réception du formulaire.",
             "Coordonnées bancaires du bénéficiaire : IBAN {}, banque cantonale.",
             "Merci d'effectuer le virement de 120 francs au {} avant le 30 juin."),
    "AVS": ("Numéro AVS de l'assuré : {}.",
            "Veuillez indiquer votre numéro AVS ({}) sur chaque page du dossier.",
            "L'employeur a annoncé le collaborateur sous le numéro {} à la caisse."),
    "NIR": ("Numéro de sécurité sociale : {}.",
            "La caisse primaire a enregistré l'assurée sous le NIR {} le mois dernier.",
            "Joindre une attestation portant le numéro {} délivrée par l'Assurance maladie."),
    "TELEPHONE": ("Pour tout renseignement, appelez le {} du lundi au vendredi.",
                  "Le demandeur peut être joint au {} ou par courrier.",
                  "Tél. : {}"),
    "EMAIL": ("Envoyez les pièces justificatives à {} avant la fin du mois.",
              "Contact : {}",
              "La réponse a été adressée à l'intéressé ({}) le lendemain."),
    "PLAQUE": ("Le véhicule immatriculé {} stationnait sur une place réservée.",
               "Amende d'ordre pour la voiture {} (excès de vitesse de 12 km/h).",
               "Le propriétaire du véhicule {} est prié de le déplacer."),
}
MAKERS: dict[str, Callable[[random.Random], str]] = {
    "IBAN": lambda rng: make_iban(rng, rng.choice(["CH", "FR", "DE"]), rng.random() < 0.3),
    "AVS": lambda rng: make_avs(rng, rng.choice([".", ".", " ", ""])),
    "NIR": make_nir, "TELEPHONE": make_phone, "EMAIL": make_email, "PLAQUE": make_plate,
}
CHECKED = ("IBAN", "AVS", "NIR")  # kinds with check digits: also generated with a wrong one
# Sentences whose numbers are not personal data: any identifier found in them is a false one.
DISTRACTORS = (
    "Le crédit de 1 250 000 francs a été voté le 12 mars 2024 par 45 voix contre 3.",
    "Selon l'article 12, alinéa 3, de la loi 2019-1480 du 28 décembre 2019, le délai est de "
    "30 jours.",
    "La commande n° 4500123456 porte sur 2 400 exemplaires livrés en 2023.",
    "La parcelle 1234 de la commune de Vernier (code postal 1214) mesure 5 600 m2.",
    "Le budget 2025 prévoit 3 450 000 euros, soit 12,5 % de plus qu'en 2024.",
    "Réf. interne 2023/456/78 ; version 1.2.3 du règlement, page 14 sur 120.",
    "La séance du Conseil municipal aura lieu à 18 h 30 à la salle 204 du bâtiment B.",
    "Le taux de 0,75 % s'applique aux 15 000 premiers francs, puis 1,25 % au-delà.",
)


def identifiers_sample(count: int = 50, seed: int = 2026) -> Sample:
    """`count` sentences per kind with a valid identifier, `count` with a wrong check digit for
    IBAN, AVS and NIR, and the distractor sentences, shuffled, one a line."""
    rng = random.Random(seed)
    items: list[tuple[str, str | None, str, bool]] = []  # template, value, kind, valid
    for kind, templates in TEMPLATES.items():
        for _ in range(count):
            items.append((rng.choice(templates), MAKERS[kind](rng), kind, True))
            if kind in CHECKED:
                items.append((rng.choice(templates), spoiled(MAKERS[kind](rng), rng), kind,
                              False))
    items += [(d, None, "", True) for d in DISTRACTORS for _ in range(count // 10 or 1)]
    rng.shuffle(items)
    sample = Sample("")
    lines: list[str] = []
    at = 0
    for template, value, kind, valid in items:
        line = template.format(value) if value else template
        if value:
            start = at + template.index("{}")
            sample.entities.append(Entity(start, start + len(value), kind, valid))
        lines.append(line)
        at += len(line) + 1
    sample.text = "\n".join(lines)
    return sample
