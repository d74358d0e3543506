"""An organisation's translation glossaries: create, import and export CSV, edit entries.

Every member of the organisation reads them (the translation tool checks its drafts against
one); only administrators change them. Another organisation's glossary is a 404.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.db.base import utcnow
from civique.errors import Forbidden, NotFound, UserError
from civique.governance import audit
from civique.tools.text import fold
from civique.tools.translation.glossary import (
    LANGUAGES,
    MAX_TERM,
    SOURCE_LANGUAGE,
    Entry,
    Glossary,
    RowProblem,
    parse_csv,
)
from civique.tools.translation.glossary_models import GlossaryEntryRow, GlossaryRow

ImportMode = Literal["merge", "replace"]
MAX_DESCRIPTION = 2000
MAX_NAME = 200
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TARGET_LANGUAGES = tuple(code for code in LANGUAGES if code != SOURCE_LANGUAGE)


@dataclass(frozen=True)
class ImportReport:
    """What an import did: entries added, changed, kept as they were, removed; and bad rows."""

    mode: ImportMode
    added: int
    updated: int
    unchanged: int
    removed: int
    errors: tuple[RowProblem, ...]
    duplicates: tuple[RowProblem, ...]

    @property
    def kept(self) -> int:
        """Good rows saved from the file."""
        return self.added + self.updated + self.unchanged


def _manage(actor: User) -> None:
    if not can(actor.role, "tools.manage_glossaries"):
        raise Forbidden()


def term_key(term: str) -> str:
    """A term without case, accents or repeated spaces: the identity of an entry."""
    return " ".join(fold(term).split())


def list_glossaries(session: Session, actor: User) -> list[GlossaryRow]:
    """The glossaries of the actor's organisation, by name."""
    stmt = select(GlossaryRow).where(GlossaryRow.org_id == actor.org_id)
    return list(session.scalars(stmt.order_by(GlossaryRow.name)))


def entry_counts(session: Session, actor: User) -> dict[int, int]:
    """Number of entries of each glossary of the organisation."""
    stmt = (
        select(GlossaryEntryRow.glossary_id, func.count())
        .where(GlossaryEntryRow.org_id == actor.org_id)
        .group_by(GlossaryEntryRow.glossary_id)
    )
    return {int(gid): int(count) for gid, count in session.execute(stmt)}


def get_glossary(session: Session, actor: User, glossary_id: int) -> GlossaryRow:
    """A glossary of the actor's organisation (404 for any other)."""
    row = session.get(GlossaryRow, glossary_id)
    if row is None or row.org_id != actor.org_id:
        raise NotFound()
    return row


def entries(session: Session, actor: User, glossary_id: int) -> list[GlossaryEntryRow]:
    """The entries of a glossary, by term then language."""
    get_glossary(session, actor, glossary_id)
    stmt = select(GlossaryEntryRow).where(
        GlossaryEntryRow.glossary_id == glossary_id, GlossaryEntryRow.org_id == actor.org_id
    )
    rows = list(session.scalars(stmt))
    order = {code: i for i, code in enumerate(LANGUAGES)}
    return sorted(rows, key=lambda r: (r.term_key, order.get(r.language, 99)))


def _text(value: str, limit: int, code: str, required: bool = False) -> str:
    value = " ".join(value.split()) if limit <= MAX_NAME else value.strip()
    if (required and not value) or len(value) > limit:
        raise UserError(code, limit=limit)
    return value


def _name(session: Session, actor: User, name: str, current: int | None = None) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise UserError("name_required")
    clash = session.scalar(
        select(GlossaryRow.id).where(
            GlossaryRow.org_id == actor.org_id, func.lower(GlossaryRow.name) == name.lower()
        )
    )
    if clash is not None and clash != current:
        raise UserError("name_taken")
    return name


def create_glossary(session: Session, actor: User, name: str, description: str = "") -> GlossaryRow:
    """A new, empty glossary of the actor's organisation (French source)."""
    _manage(actor)
    row = GlossaryRow(
        org_id=actor.org_id,
        name=_name(session, actor, name),
        description=_text(description, MAX_DESCRIPTION, "glossary_text_too_long"),
        source_language=SOURCE_LANGUAGE,
    )
    session.add(row)
    session.flush()
    _audit(session, actor, row, "created")
    session.commit()
    return row


def update_glossary(
    session: Session, actor: User, glossary_id: int, name: str, description: str
) -> GlossaryRow:
    """Rename a glossary or change its description."""
    _manage(actor)
    row = get_glossary(session, actor, glossary_id)
    row.name = _name(session, actor, name, row.id)
    row.description = _text(description, MAX_DESCRIPTION, "glossary_text_too_long")
    row.updated_at = utcnow()
    _audit(session, actor, row, "renamed")
    session.commit()
    return row


def delete_glossary(session: Session, actor: User, glossary_id: int) -> None:
    """Delete a glossary and its entries."""
    _manage(actor)
    row = get_glossary(session, actor, glossary_id)
    _audit(session, actor, row, "deleted")
    session.execute(delete(GlossaryEntryRow).where(GlossaryEntryRow.glossary_id == row.id))
    session.delete(row)
    session.commit()


def _audit(session: Session, actor: User, row: GlossaryRow, change: str, **details: object) -> None:
    target = {"kind": "glossary", "id": row.id, "name": row.name}
    audit.record(
        session,
        actor.org_id,
        actor,
        "tools.glossary_changed",
        target=target,
        change=change,
        **details,
    )


# Import and export -----------------------------------------------------------------------------


def _unescaped(value: str) -> str:
    """Undo the export's protection of a cell that would start a formula."""
    if value.startswith("'") and value[1:2] in _FORMULA_START:
        return value[1:]
    return value


def _imported(entry: Entry) -> Entry:
    return Entry(
        _unescaped(entry.term),
        entry.language,
        _unescaped(entry.translation),
        _unescaped(entry.note),
        entry.line,
    )


def import_csv(
    session: Session, actor: User, glossary_id: int, data: bytes, mode: str
) -> ImportReport:
    """Save the good rows of a CSV into a glossary; bad rows are reported by line, not saved.

    `merge` adds new entries and updates those of the same term and language; `replace` also
    removes the entries the file does not have. A file without any good row changes nothing.
    """
    _manage(actor)
    if mode not in ("merge", "replace"):
        raise UserError("glossary_import_mode")
    checked: ImportMode = "replace" if mode == "replace" else "merge"
    row = get_glossary(session, actor, glossary_id)
    parsed = parse_csv(data)
    incoming = {(term_key(e.term), e.language): _imported(e) for e in parsed.glossary.entries}
    counts = _apply(session, actor, row, incoming, checked == "replace")
    report = ImportReport(checked, *counts, parsed.errors, parsed.duplicates)
    row.updated_at = utcnow()
    _audit(
        session,
        actor,
        row,
        f"import_{mode}",
        added=report.added,
        updated=report.updated,
        removed=report.removed,
        bad_rows=len(parsed.errors),
    )
    session.commit()
    return report


def _apply(
    session: Session,
    actor: User,
    row: GlossaryRow,
    incoming: dict[tuple[str, str], Entry],
    replace: bool,
) -> tuple[int, int, int, int]:
    """Write the imported entries; (added, updated, unchanged, removed)."""
    existing = {(r.term_key, r.language): r for r in entries(session, actor, row.id)}
    added = updated = unchanged = removed = 0
    for key, entry in incoming.items():
        current = existing.get(key)
        if current is None:
            session.add(_new_row(row, entry))
            added += 1
        elif (current.translation, current.note) != (entry.translation, entry.note):
            current.term, current.translation, current.note = (
                entry.term,
                entry.translation,
                entry.note,
            )
            updated += 1
        else:
            unchanged += 1
    if replace and incoming:
        for key, current in existing.items():
            if key not in incoming:
                session.delete(current)
                removed += 1
    return added, updated, unchanged, removed


def _new_row(glossary: GlossaryRow, entry: Entry) -> GlossaryEntryRow:
    return GlossaryEntryRow(
        glossary_id=glossary.id,
        org_id=glossary.org_id,
        term=entry.term,
        term_key=term_key(entry.term),
        language=entry.language,
        translation=entry.translation,
        note=entry.note,
    )


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character is quoted."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_csv(session: Session, actor: User, glossary_id: int) -> bytes:
    """The glossary as CSV in the long form (UTF-8 with BOM, for spreadsheets), importable back."""
    rows = entries(session, actor, glossary_id)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["term", "language", "translation", "note"])
    for r in rows:
        writer.writerow([_safe_cell(v) for v in (r.term, r.language, r.translation, r.note)])
    return buffer.getvalue().encode("utf-8-sig")


# Single entries --------------------------------------------------------------------------------


def _entry_fields(term: str, language: str, translation: str, note: str) -> tuple[str, ...]:
    term, translation, note = (" ".join(v.split()) for v in (term, translation, note))
    if not term or not translation:
        raise UserError("glossary_term_required")
    if language not in TARGET_LANGUAGES:
        raise UserError("glossary_language")
    if max(len(term), len(translation), len(note)) > MAX_TERM:
        raise UserError("glossary_entry_too_long", limit=MAX_TERM)
    return term, language, translation, note


def _clash(session: Session, glossary_id: int, key: str, language: str) -> int | None:
    return session.scalar(
        select(GlossaryEntryRow.id).where(
            GlossaryEntryRow.glossary_id == glossary_id,
            GlossaryEntryRow.term_key == key,
            GlossaryEntryRow.language == language,
        )
    )


def add_entry(
    session: Session,
    actor: User,
    glossary_id: int,
    term: str,
    language: str,
    translation: str,
    note: str = "",
) -> GlossaryEntryRow:
    """Add one entry; a term already translated into that language is refused."""
    _manage(actor)
    row = get_glossary(session, actor, glossary_id)
    term, language, translation, note = _entry_fields(term, language, translation, note)
    if _clash(session, row.id, term_key(term), language) is not None:
        raise UserError("glossary_entry_exists", term=term)
    entry = _new_row(row, Entry(term, language, translation, note))
    session.add(entry)
    row.updated_at = utcnow()
    _audit(session, actor, row, "entry_added", term=term, language=language)
    session.commit()
    return entry


def get_entry(session: Session, actor: User, entry_id: int) -> GlossaryEntryRow:
    """An entry of a glossary of the actor's organisation (404 for any other)."""
    entry = session.get(GlossaryEntryRow, entry_id)
    if entry is None or entry.org_id != actor.org_id:
        raise NotFound()
    return entry


def update_entry(
    session: Session,
    actor: User,
    entry_id: int,
    term: str,
    language: str,
    translation: str,
    note: str = "",
) -> GlossaryEntryRow:
    """Change one entry (its term, language, translation or note)."""
    _manage(actor)
    entry = get_entry(session, actor, entry_id)
    term, language, translation, note = _entry_fields(term, language, translation, note)
    clash = _clash(session, entry.glossary_id, term_key(term), language)
    if clash is not None and clash != entry.id:
        raise UserError("glossary_entry_exists", term=term)
    entry.term, entry.term_key, entry.language = term, term_key(term), language
    entry.translation, entry.note = translation, note
    glossary = get_glossary(session, actor, entry.glossary_id)
    glossary.updated_at = utcnow()
    _audit(session, actor, glossary, "entry_changed", term=term, language=language)
    session.commit()
    return entry


def delete_entry(session: Session, actor: User, entry_id: int) -> int:
    """Delete one entry; returns its glossary's id."""
    _manage(actor)
    entry = get_entry(session, actor, entry_id)
    glossary = get_glossary(session, actor, entry.glossary_id)
    _audit(session, actor, glossary, "entry_deleted", term=entry.term, language=entry.language)
    session.delete(entry)
    glossary.updated_at = utcnow()
    session.commit()
    return glossary.id


# For the translation tool ----------------------------------------------------------------------


def checker_glossary(
    session: Session, org_id: int, glossary_id: int, target_lang: str | None = None
) -> Glossary:
    """The glossary as `translation.glossary.check` takes it, for one target language or all.

    Takes the organisation id (the tool runs for a user of it): another one's glossary is a 404.
    """
    row = session.get(GlossaryRow, glossary_id)
    if row is None or row.org_id != org_id:
        raise NotFound()
    stmt = select(GlossaryEntryRow).where(
        GlossaryEntryRow.glossary_id == glossary_id, GlossaryEntryRow.org_id == org_id
    )
    if target_lang is not None:
        stmt = stmt.where(GlossaryEntryRow.language == target_lang)
    return Glossary(
        tuple(
            Entry(r.term, r.language, r.translation, r.note)
            for r in session.scalars(stmt.order_by(GlossaryEntryRow.id))
        )
    )
