"""FALC rule checker: measures a French text against explicit "easy to read" rules.

Rules from « L'information pour tous — Règles européennes pour une information facile à lire et
à comprendre » (Inclusion Europe and its partners, project Pathways, 2009; French edition by
Unapei): short sentences, one idea per sentence, no abbreviations or acronyms unless explained,
positive rather than negative sentences, active rather than passive voice, numbers in digits,
no percentages or big/decimal numbers, no Roman numerals, everyday words instead of jargon.
Every rule is a deterministic heuristic (no model); its limits are documented where it is
written. Offsets are character offsets in the text as given.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from civique.errors import N_
from civique.tools.findings import Finding, Severity
from civique.tools.plain_language.jargon import DEFAULT_JARGON
from civique.tools.text import Span, fold, paragraph_index, paragraphs, sentences, words

RULES: dict[str, tuple[str, Severity]] = {
    "falc.sentence_too_long": (
        N_("This sentence has %(words)s words; a FALC sentence has at most %(limit)s."), "warning"),
    "falc.several_ideas": (
        N_("This sentence may hold more than one idea (joined by “%(connectors)s”): write one "
           "idea per sentence."), "warning"),
    "falc.abbreviation": (
        N_("“%(abbreviation)s” is not explained: write the words in full, or explain it in "
           "parentheses the first time."), "warning"),
    "falc.negation": (
        N_("Negative phrase “%(phrase)s”: say it in the positive if you can."), "warning"),
    "falc.passive": (
        N_("Passive voice “%(phrase)s”: say who does what (active voice)."), "warning"),
    "falc.number_in_words": (N_("Write the number “%(number)s” in digits."), "warning"),
    "falc.jargon": (N_("“%(term)s” is administrative jargon: write “%(suggestion)s”."), "warning"),
    "falc.percentage": (
        N_("Percentage “%(number)s”: prefer words such as “1 person out of 4” or “half”."), "info"),
    "falc.complex_number": (
        N_("Decimal number “%(number)s”: round it if you can."), "info"),
    "falc.roman_numeral": (N_("Roman numeral “%(numeral)s”: write it in digits."), "info"),
}
_JARGON_NO_SUGGESTION = N_(
    "“%(term)s” is on your organisation's list of words to avoid: use an everyday word.")

Hit = tuple[str, int, int, dict[str, Any]]  # code, start, end, message parameters


def check(
    text: str, jargon: Iterable[str] = DEFAULT_JARGON, max_words: int = 15
) -> list[Finding]:
    """Every FALC rule broken in `text`, ordered by place; `jargon` may map terms to advice."""
    folded = fold(text)
    spans = sentences(text)
    hits: list[Hit] = [
        *_long_sentences(spans, max_words),
        *_several_ideas(spans, folded),
        *_abbreviations(text),
        *_negations(spans, folded),
        *_passives(text, folded),
        *_numbers_in_words(folded, text),
        *_jargon(folded, text, jargon),
        *_numbers(folded, text),
        *_roman_numerals(text),
    ]
    paras = paragraphs(text)
    findings = [_finding(hit, paras) for hit in hits]
    return sorted(findings, key=lambda f: (f.start or 0, f.end or 0, f.code))


def _finding(hit: Hit, paras: list[Span]) -> Finding:
    code, start, end, params = hit
    message, severity = RULES[code]
    if code == "falc.jargon" and not params.get("suggestion"):
        message = _JARGON_NO_SUGGESTION
    return Finding(code, message, start, end, paragraph_index(paras, start), severity, params)


def summary(findings: Iterable[Finding], text: str) -> dict[str, Any]:
    """Counts for a report or the benchmark: findings per 100 words, and per rule."""
    found = list(findings)
    count = len(words(text))
    return {
        "words": count,
        "sentences": len(sentences(text)),
        "findings": len(found),
        "per_100_words": round(100 * len(found) / count, 2) if count else 0.0,
        "by_code": dict(sorted(Counter(f.code for f in found).items())),
    }


def _long_sentences(spans: list[Span], max_words: int) -> Iterable[Hit]:
    """Sentences longer than `max_words` words (numbers count as words)."""
    for span in spans:
        count = len(words(span.text))
        if count > max_words:
            params = {"words": count, "limit": max_words}
            yield "falc.sentence_too_long", span.start, span.end, params


# One idea per sentence, heuristic: a semicolon, a subordinating conjunction or relative pronoun
# ("qui", "que", "lorsque", "parce que"…) or a clause-joining coordinator ("mais", "car",
# "donc", "or") signals a second clause; "et"/"ou" often join two nouns ("nom et adresse"), so
# they count only when the sentence has two of them. Comparisons ("plus … que") and "ne … que"
# are counted too: a known source of false alarms.
_STRONG = re.compile(
    r";|\b(?:parce qu|puisqu|lorsqu|bien qu|afin qu|alors qu|tandis qu|qu)(?:'|e\b)"
    r"|\b(?:mais|car|donc|or|quand|qui|dont)\b"
)
_WEAK = re.compile(r"\b(?:et|ou)\b")


def _several_ideas(spans: list[Span], folded: str) -> Iterable[Hit]:
    for span in spans:
        piece = folded[span.start : span.end]
        strong = [m.group() for m in _STRONG.finditer(piece) if not _restrictive(piece, m)]
        weak: list[str] = []
        for match in _WEAK.finditer(piece):
            # "où" (where) is a relative pronoun; folding made it "ou", so look at the original.
            word = span.text[match.start() : match.end()].lower()
            (strong if word == "où" else weak).append(word)
        if strong or len(weak) >= 2:
            joined = ", ".join(dict.fromkeys(strong + weak))
            yield "falc.several_ideas", span.start, span.end, {"connectors": joined}


def _restrictive(piece: str, match: re.Match[str]) -> bool:
    """The "que" of "ne … que" (only): "vous n'avez qu'à signer" is one idea."""
    if match.group() not in ("que", "qu'"):
        return False
    before = list(_NE.finditer(piece, 0, match.start()))
    return bool(before) and _PARTICLE.search(piece, before[-1].end(), match.start()) is None


_ACRONYM = re.compile(r"(?<![\w-])[A-ZÀ-Ý]{2,}[0-9]*(?![\w-])")
_ROMAN = re.compile(r"(?<![\w-])(X{0,3}(?:IX|IV|V?I{0,3}))(er|re|e|ème)?(?![\w-])")
_DOTTED = re.compile(
    r"(?<![\w.])(?:art|cf|etc|ex|env|tél|tel|chap|p\. ?ex|c\.-à-d|c-à-d)\.(?!\w)"
    r"|(?<![\w.])M{1,2}\.(?=\s+[A-ZÀ-Ý])|(?<!\w)M(?:mes?|lles?)(?!\w)\.?|(?<!\w)[nN]°",
)


def _abbreviations(text: str) -> Iterable[Hit]:
    """Dotted abbreviations every time; each acronym once, unless explained at first use.

    An acronym is explained when its first use is followed by its expansion in parentheses,
    "CAF (caisse d'allocations familiales)", or is itself in parentheses after the expansion,
    "caisse d'allocations familiales (CAF)". Lines written all in capitals (headings) and Roman
    numerals are skipped.
    """
    for match in _DOTTED.finditer(text):
        yield "falc.abbreviation", match.start(), match.end(), {"abbreviation": match.group()}
    seen: set[str] = set()
    for match in _ACRONYM.finditer(text):
        token = match.group()
        if token in seen or _is_roman(token) or _in_capital_line(text, match.start()):
            continue
        seen.add(token)
        if not _explained(text, match):
            yield "falc.abbreviation", match.start(), match.end(), {"abbreviation": token}


def _is_roman(token: str) -> bool:
    match = _ROMAN.fullmatch(token)
    return bool(match and match.group(1))


def _in_capital_line(text: str, offset: int) -> bool:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    letters = [c for c in text[start : end if end >= 0 else len(text)] if c.isalpha()]
    alone = len(letters) <= len(text[offset:].split(None, 1)[0])
    return not alone and all(c.isupper() for c in letters)


def _explained(text: str, match: re.Match[str]) -> bool:
    after = re.match(r"\s*\(([^()]{3,})\)", text[match.end() :])
    if after and len(words(after.group(1))) >= 2:
        return True
    before = text[: match.start()]
    inside = re.search(r"(\w[^()]*?)\s*\(\s*$", before)
    closed = re.match(r"\s*\)", text[match.end() :])
    return bool(inside and closed and len(words(inside.group(1))) >= 2)


_NE = re.compile(r"\bne\b|\bn'")
_PARTICLE = re.compile(r"\b(?:pas|plus|jamais|rien|aucune?|personne|guere|point|nullement|ni)\b")


def _negations(spans: list[Span], folded: str) -> Iterable[Hit]:
    """"ne/n' … pas, plus, jamais, rien, aucun…" within a sentence, and every "sans".

    "ne … que" (only) is a restriction, not a negation, and is not reported.
    """
    for span in spans:
        piece = folded[span.start : span.end]
        position = 0
        while (ne := _NE.search(piece, position)) is not None:
            particle = _PARTICLE.search(piece, ne.end(), ne.end() + 60)
            if particle is None:
                position = ne.end()
                continue
            start, end = span.start + ne.start(), span.start + particle.end()
            yield "falc.negation", start, end, {"phrase": span.text[ne.start() : particle.end()]}
            position = particle.end()
        for sans in re.finditer(r"\bsans\b", piece):
            start, end = span.start + sans.start(), span.start + sans.end()
            yield "falc.negation", start, end, {"phrase": span.text[sans.start() : sans.end()]}


def _wordset(text: str) -> frozenset[str]:
    """The folded words of a space-separated list."""
    return frozenset(fold(word) for word in text.split())


_ETRE = re.compile(
    r"\b(?:suis|es|est|sommes|etes|sont|etais|etait|etions|etiez|etaient|serai|seras|sera"
    r"|serons|serez|seront|serais|serait|serions|seriez|seraient|sois|soit|soyons|soyez|soient"
    r"|fus|fut|furent|ete|etre|etant)\b"
)
_REFLEXIVE = re.compile(r"(?:\b(?:se|me|te)\s+|\b[smt]'|\bnous\s+nous\s+|\bvous\s+vous\s+)$")
_ADVERBS = _wordset(
    "pas plus jamais bien deja toujours souvent aussi egalement automatiquement obligatoirement "
    "rapidement immediatement entierement ensuite alors encore parfois generalement "
    "normalement ne"
)
_IRREGULAR = _wordset(
    "fait pris mis écrit inscrit offert admis transmis remis soumis permis reçu vendu rendu "
    "tenu obtenu prévu perçu vu lu élu fini établi rempli choisi saisi accueilli réuni garanti "
    "fourni construit produit conduit réduit traduit joint atteint dit interdit détruit exclu "
    "inclus conclu retenu maintenu compris suspendu entendu interrompu acquis requis promis "
    "repris commis"
)
# Past participles after "être" that are not passives: verbs conjugated with "être" (il est
# venu) and participles used as adjectives of state (elle est mariée, le bureau est fermé).
_NOT_PASSIVE = _wordset(
    "allé arrivé venu parti resté né mort tombé entré sorti monté descendu retourné devenu "
    "revenu passé décédé intervenu parvenu survenu rentré apparu situé âgé marié divorcé pacsé "
    "domicilié désolé fermé ouvert concerné intéressé fatigué habilité destiné lié basé "
    "handicapé salarié retraité occupé privé élevé pressé obligé séparé composé"
)


def _passives(text: str, folded: str) -> Iterable[Hit]:
    """A form of "être" followed (adverbs allowed between) by a past participle.

    Participles are words ending in -é, -ée, -és, -ées, or listed irregular ones (fait, pris,
    reçu…). Limits: reflexive verbs ("il s'est inscrit") are skipped; adjectives ending in -é
    ("il est âgé") are skipped only when listed; a passive without "être" ("le dossier reçu")
    is not found.
    """
    for etre in _ETRE.finditer(folded):
        if _REFLEXIVE.search(folded, max(0, etre.start() - 12), etre.start()):
            continue
        participle = _participle_after(text, folded, etre.end())
        if participle is not None:
            phrase = text[etre.start() : participle]
            yield "falc.passive", etre.start(), participle, {"phrase": phrase}


def _participle_after(text: str, folded: str, position: int) -> int | None:
    """The end of the past participle following `position` in the same clause, if any."""
    for _ in range(3):
        match = re.compile(r"\s+([^\W\d_]+)").match(folded, position)
        if match is None:
            return None
        word, original = match.group(1), text[match.start(1) : match.end(1)].lower()
        if word in _ADVERBS:
            position = match.end()
            continue
        if _candidates(word) & _NOT_PASSIVE:
            return None
        if re.search(r"ée?s?$", original) or _candidates(word) & _IRREGULAR:
            return match.end(1)
        return None
    return None


def _candidates(word: str) -> set[str]:
    """The word and its forms without a final e, s or es (agreement of a participle)."""
    forms = {word}
    if word.endswith(("e", "s")):
        forms.add(word[:-1])
    if word.endswith("es"):
        forms.add(word[:-2])
    return forms


_NUMBER_WORDS = sorted(_wordset(
    "deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize "
    "vingt vingts trente quarante cinquante soixante septante huitante octante nonante cent "
    "cents mille millions? milliards?"
), key=len, reverse=True)
_NUMBER = "|".join(_NUMBER_WORDS)
_NUMBER_RE = re.compile(
    rf"(?<![\w-])(?:{_NUMBER})(?:(?:-|\s+)(?:et(?:-|\s+))?(?:{_NUMBER}|une?)(?![\w]))*"
    r"(?![\w-])"
)


def _numbers_in_words(folded: str, text: str) -> Iterable[Hit]:
    """Numbers written in words ("trois", "vingt-cinq", "deux mille"); "un"/"une" alone are
    articles and are skipped; "neuf" at the end of a clause is the adjective (new)."""
    for match in _NUMBER_RE.finditer(folded):
        if match.group() == "neuf" and not re.match(r"\s+\w", folded[match.end() :]):
            continue
        if match.group() == "cent" and folded[: match.start()].endswith("pour "):
            continue  # "pour cent" is a percentage, reported as such
        number = text[match.start() : match.end()]
        yield "falc.number_in_words", match.start(), match.end(), {"number": number}


def _jargon(folded: str, text: str, jargon: Iterable[str]) -> Iterable[Hit]:
    """Terms of the jargon list; the longest wins where two overlap ("y afférent")."""
    advice = jargon if isinstance(jargon, Mapping) else {}
    hits: list[Hit] = []
    for term in sorted(set(jargon), key=len, reverse=True):
        pattern = _term_pattern(term)
        if pattern is None:
            continue
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(start < h[2] and h[1] < end for h in hits):
                continue
            params = {"term": text[start:end], "suggestion": str(advice.get(term, ""))}
            hits.append(("falc.jargon", start, end, params))
    return hits


def _term_pattern(term: str) -> re.Pattern[str] | None:
    """A folded term as a regex: free spacing, final e/s/x/es tolerated on words of 4+ letters."""
    parts = fold(term).split()
    if not parts:
        return None
    pieces = [re.escape(p) + ("(?:e|s|x|es)?" if len(p) >= 4 else "") for p in parts]
    return re.compile(r"(?<!\w)" + r"\s+".join(pieces) + r"(?!\w)")


_PERCENT = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?\s?%|\bpour\s?cent\b|\bpourcentages?\b")
_DECIMAL = re.compile(r"(?<![\w.,])\d+[.,]\d+(?![.,]?\d)")


def _numbers(folded: str, text: str) -> Iterable[Hit]:
    """Percentages, and decimal numbers not already part of a percentage."""
    percents = [m.span() for m in _PERCENT.finditer(folded)]
    for start, end in percents:
        yield "falc.percentage", start, end, {"number": text[start:end]}
    for match in _DECIMAL.finditer(folded):
        if not any(s <= match.start() < e for s, e in percents):
            yield "falc.complex_number", match.start(), match.end(), {"number": match.group()}


def _roman_numerals(text: str) -> Iterable[Hit]:
    """Roman numerals of two letters or more (II, XIV) or with an ordinal ending (Ier, XXe)."""
    for match in _ROMAN.finditer(text):
        numeral, suffix = match.group(1), match.group(2)
        if numeral and (len(numeral) >= 2 or suffix):
            yield "falc.roman_numeral", match.start(), match.end(), {"numeral": match.group()}
