"""Organisation glossaries: CSV import, and the check that a translation uses mandated terms.

A glossary maps a French term to the translation the organisation mandates in each language.
CSV forms accepted: long, `term,language,translation[,note]` (one row per term and language),
or wide, `fr,en,de,…` (one column per language code, the French term first). Delimiter `,`,
`;` or tab; UTF-8 (with or without BOM) or Windows-1252.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from civique.errors import N_, UserError
from civique.tools.findings import Finding
from civique.tools.text import fold, paragraph_index, paragraphs

LANGUAGES: dict[str, str] = {
    "fr": N_("French"), "en": N_("English"), "de": N_("German"), "it": N_("Italian"),
    "es": N_("Spanish"), "pt": N_("Portuguese"), "ar": N_("Arabic"), "uk": N_("Ukrainian"),
    "ti": N_("Tigrinya"), "sq": N_("Albanian"),
}
SOURCE_LANGUAGE = "fr"
MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
MAX_TERM = 200
_LONG_HEADERS = {"term": "term", "terme": "term", "language": "language", "langue": "language",
                 "translation": "translation", "traduction": "translation", "note": "note"}

ROW_MESSAGES: dict[str, str] = {
    "glossary.row_fields": N_("Line %(line)s has %(count)s fields, the header has %(expected)s."),
    "glossary.row_empty_term": N_("Line %(line)s has no term."),
    "glossary.row_empty_translation": N_("Line %(line)s has no translation."),
    "glossary.row_language": N_("Line %(line)s: unknown language code “%(language)s”."),
    "glossary.row_too_long": N_("Line %(line)s: a term or translation has more than %(limit)s "
                                "characters."),
    "glossary.duplicate": N_("Line %(line)s repeats “%(term)s” (%(language)s) of line %(first)s."),
    "glossary.conflict": N_("Line %(line)s gives “%(term)s” (%(language)s) another translation "
                            "than line %(first)s; the first one is kept."),
}
FINDING_MESSAGE = N_("“%(term)s” must be translated as “%(translation)s” (glossary).")


@dataclass(frozen=True)
class Entry:
    """One mandated translation of a French term into one language."""

    term: str
    language: str
    translation: str
    note: str = ""
    line: int = 0


@dataclass(frozen=True)
class Glossary:
    """An organisation's glossary: entries, at most one per (term, language)."""

    entries: tuple[Entry, ...] = ()

    def for_language(self, language: str) -> tuple[Entry, ...]:
        """The entries giving a translation into `language`."""
        return tuple(e for e in self.entries if e.language == language)

    @property
    def languages(self) -> tuple[str, ...]:
        """The target languages the glossary covers, in the order of `LANGUAGES`."""
        present = {e.language for e in self.entries}
        return tuple(code for code in LANGUAGES if code in present)


@dataclass(frozen=True)
class RowProblem:
    """A bad or repeated row of an imported CSV, by its line number (1 is the header)."""

    line: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The English source message (translate it at render time)."""
        return ROW_MESSAGES[self.code]


@dataclass(frozen=True)
class ParseResult:
    """The glossary built from the good rows, and what was wrong with the others."""

    glossary: Glossary
    errors: tuple[RowProblem, ...]
    duplicates: tuple[RowProblem, ...]


def parse_csv(data: bytes, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS) -> ParseResult:
    """Read a glossary CSV; bad rows are reported by line and skipped, good rows kept."""
    if not data.strip():
        raise UserError("glossary_empty")
    if len(data) > max_bytes:
        raise UserError("glossary_too_big", size=len(data), limit=max_bytes)
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = [cell.strip().lower() for cell in next(reader, [])]
    rows = _rows(reader, header, max_rows)
    return _build(rows)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise UserError("glossary_encoding") from exc


def _delimiter(text: str) -> str:
    """The most frequent of `,`, `;` and tab in the header line (`,` when none is there)."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


Row = tuple[int, str, str, str, str] | RowProblem  # line, term, language, translation, note


def _rows(reader: Any, header: list[str], max_rows: int) -> Iterable[Row]:
    """(line, term, language, translation, note) per cell, or the problem of a bad row."""
    long_form = {_LONG_HEADERS.get(h) for h in header} >= {"term", "language", "translation"}
    wide_form = SOURCE_LANGUAGE in header and all(h in LANGUAGES or h == "note" for h in header)
    if not (long_form or wide_form):
        raise UserError("glossary_header")
    names = [_LONG_HEADERS.get(h, h) for h in header] if long_form else header
    found: list[Row] = []
    for count, cells in enumerate(reader, start=1):
        if count > max_rows:
            raise UserError("glossary_too_many_rows", limit=max_rows)
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names):
            found.append(RowProblem(reader.line_num, "glossary.row_fields", {
                "line": reader.line_num, "count": len(cells), "expected": len(names)}))
            continue
        record = dict(zip(names, (c.strip() for c in cells), strict=False))
        found.extend(_cells(reader.line_num, record, long_form))
    return found


def _cells(line: int, record: dict[str, str], long_form: bool) -> Iterable[Row]:
    term, note = record.get("term" if long_form else SOURCE_LANGUAGE, ""), record.get("note", "")
    if long_form:
        pairs = [(record.get("language", "").lower(), record.get("translation", ""))]
    else:
        pairs = [(k, v) for k, v in record.items() if k in LANGUAGES and k != SOURCE_LANGUAGE and v]
        if not pairs:
            return [RowProblem(line, "glossary.row_empty_translation", {"line": line})]
    return [_validated(line, term, language, translation, note) for language, translation in pairs]


def _validated(line: int, term: str, language: str, translation: str, note: str) -> Row:
    params: dict[str, Any] = {"line": line}
    if not term:
        return RowProblem(line, "glossary.row_empty_term", params)
    if language not in LANGUAGES or language == SOURCE_LANGUAGE:
        return RowProblem(line, "glossary.row_language", {**params, "language": language})
    if not translation:
        return RowProblem(line, "glossary.row_empty_translation", params)
    if max(len(term), len(translation), len(note)) > MAX_TERM:
        return RowProblem(line, "glossary.row_too_long", {**params, "limit": MAX_TERM})
    return line, term, language, translation, note


def _build(rows: Iterable[Row]) -> ParseResult:
    entries: dict[tuple[str, str], Entry] = {}
    errors: list[RowProblem] = []
    duplicates: list[RowProblem] = []
    for row in rows:
        if isinstance(row, RowProblem):
            errors.append(row)
            continue
        line, term, language, translation, note = row
        key = (_key(term), language)
        first = entries.get(key)
        if first is None:
            entries[key] = Entry(term, language, translation, note, line)
            continue
        code = "glossary.duplicate" if _key(first.translation) == _key(translation) else (
            "glossary.conflict")
        duplicates.append(RowProblem(line, code, {
            "line": line, "term": term, "language": language, "first": first.line}))
    return ParseResult(Glossary(tuple(entries.values())), tuple(errors), tuple(duplicates))


def _key(text: str) -> str:
    return " ".join(fold(text).split())


def _pattern(term: str) -> re.Pattern[str]:
    """A folded term as a regex: word boundaries, free spacing, plural s/x/es on each word."""
    words = [re.escape(w) + "(?:s|x|es)?" for w in fold(term).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def check(source: str, translation: str, target_lang: str, glossary: Glossary) -> list[Finding]:
    """Glossary terms found in `source` whose mandated translation is absent from `translation`.

    One finding per term, at its first place in the source; case, accents and plurals ignored.
    """
    folded_source, folded_target = fold(source), fold(translation)
    paras = paragraphs(source)
    findings = []
    for entry in _applicable(folded_source, target_lang, glossary):
        first = _pattern(entry.term).search(folded_source)
        if first is None or _pattern(entry.translation).search(folded_target):
            continue
        params = {"term": source[first.start() : first.end()], "translation": entry.translation}
        findings.append(Finding("glossary.term", FINDING_MESSAGE, first.start(), first.end(),
                                paragraph_index(paras, first.start()), "error", params))
    return sorted(findings, key=lambda f: (f.start or 0, f.code))


def _applicable(folded_source: str, target_lang: str, glossary: Glossary) -> list[Entry]:
    return [e for e in glossary.for_language(target_lang)
            if _pattern(e.term).search(folded_source)]


def applicable_entries(source: str, target_lang: str, glossary: Glossary) -> list[Entry]:
    """The glossary entries for `target_lang` whose term occurs in `source`."""
    return _applicable(fold(source), target_lang, glossary)


def applicable_terms(source: str, target_lang: str, glossary: Glossary) -> int:
    """How many glossary terms for `target_lang` occur in `source`."""
    return len(_applicable(fold(source), target_lang, glossary))


def adherence(
    findings: Iterable[Finding], source: str, target_lang: str, glossary: Glossary
) -> float:
    """Share of applicable terms whose mandated translation was used (1.0 when none applies)."""
    applicable = applicable_terms(source, target_lang, glossary)
    if not applicable:
        return 1.0
    missed = sum(1 for f in findings if f.code == "glossary.term")
    return (applicable - missed) / applicable
