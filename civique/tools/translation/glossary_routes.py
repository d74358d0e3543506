"""Glossary pages: administrators create, import, edit and export; every member reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import UserError
from civique.i18n import gettext
from civique.orgs.pages import done, failed, page
from civique.tools.translation import glossaries
from civique.tools.translation.glossary import LANGUAGES, MAX_BYTES
from civique.web.deps import DB, check_csrf, require

router = APIRouter()
Reader = Annotated[User, Depends(require("tools.read_glossaries"))]
Admin = Annotated[User, Depends(require("tools.manage_glossaries"))]
Csrf = [Depends(check_csrf)]
Short = Annotated[str, Form(max_length=1000)]
Long = Annotated[str, Form(max_length=10_000)]


def _languages() -> list[tuple[str, str]]:
    return [(code, gettext(LANGUAGES[code])) for code in glossaries.TARGET_LANGUAGES]


def _list_page(
    request: Request, db: Session, actor: User, template: str, status: int = 200, **context: Any
) -> Response:
    context.setdefault("form", {"name": "", "description": ""})
    return page(
        request,
        template,
        status,
        glossaries=glossaries.list_glossaries(db, actor),
        counts=glossaries.entry_counts(db, actor),
        **context,
    )


def _glossary_page(
    request: Request,
    db: Session,
    actor: User,
    glossary_id: int,
    status: int = 200,
    **context: Any,
) -> Response:
    row = glossaries.get_glossary(db, actor, glossary_id)
    context.setdefault("form", {"name": row.name, "description": row.description})
    context.setdefault("entry", {"term": "", "language": "en", "translation": "", "note": ""})
    context.setdefault("report", None)
    context.setdefault("mode", "merge")
    return page(
        request,
        "tools/glossary.html",
        status,
        glossary=row,
        entries=glossaries.entries(db, actor, glossary_id),
        languages=_languages(),
        language_names=dict(_languages()),
        max_bytes=MAX_BYTES,
        **context,
    )


# Reading (every member) ------------------------------------------------------------------------


@router.get("/glossaries", name="glossaries")
def reader_list(request: Request, actor: Reader, db: DB) -> Response:
    """The organisation's glossaries, read-only."""
    return _list_page(request, db, actor, "tools/glossary_read_list.html")


@router.get("/glossaries/{glossary_id}")
def reader_view(request: Request, actor: Reader, db: DB, glossary_id: int) -> Response:
    """One glossary's entries, read-only."""
    row = glossaries.get_glossary(db, actor, glossary_id)
    return page(
        request,
        "tools/glossary_read.html",
        glossary=row,
        entries=glossaries.entries(db, actor, glossary_id),
        language_names=dict(_languages()),
    )


@router.get("/glossaries/{glossary_id}/export.csv")
def export(actor: Reader, db: DB, glossary_id: int) -> Response:
    """The glossary as a CSV file (long form), to open in a spreadsheet or import elsewhere."""
    data = glossaries.export_csv(db, actor, glossary_id)
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="glossary-{glossary_id}.csv"'},
    )


# Administration --------------------------------------------------------------------------------


@router.get("/admin/glossaries", name="admin_glossaries")
def admin_list(request: Request, actor: Admin, db: DB) -> Response:
    """The glossaries, with the form to create one."""
    return _list_page(request, db, actor, "tools/glossary_list.html")


@router.post("/admin/glossaries", dependencies=Csrf)
def create(
    request: Request, actor: Admin, db: DB, name: Short = "", description: Long = ""
) -> Response:
    """Create a glossary, then open it to import its entries."""
    try:
        row = glossaries.create_glossary(db, actor, name, description)
    except UserError as exc:
        status, message = failed(db, exc)
        form = {"name": name, "description": description}
        return _list_page(
            request, db, actor, "tools/glossary_list.html", status, form=form, error=message
        )
    return done(request, f"/admin/glossaries/{row.id}", gettext("The glossary was created."))


@router.get("/admin/glossaries/{glossary_id}")
def admin_view(request: Request, actor: Admin, db: DB, glossary_id: int) -> Response:
    """A glossary: its entries, the import form, the form to add an entry."""
    return _glossary_page(request, db, actor, glossary_id)


@router.post("/admin/glossaries/{glossary_id}", dependencies=Csrf)
def rename(
    request: Request,
    actor: Admin,
    db: DB,
    glossary_id: int,
    name: Short = "",
    description: Long = "",
) -> Response:
    """Change the glossary's name or description."""
    try:
        glossaries.update_glossary(db, actor, glossary_id, name, description)
    except UserError as exc:
        status, message = failed(db, exc)
        form = {"name": name, "description": description}
        return _glossary_page(request, db, actor, glossary_id, status, form=form, error=message)
    return done(request, f"/admin/glossaries/{glossary_id}", gettext("The glossary was saved."))


@router.post("/admin/glossaries/{glossary_id}/delete", dependencies=Csrf)
def remove(request: Request, actor: Admin, db: DB, glossary_id: int) -> Response:
    """Delete the glossary and its entries."""
    glossaries.delete_glossary(db, actor, glossary_id)
    return done(request, "/admin/glossaries", gettext("The glossary was deleted."))


@router.post("/admin/glossaries/{glossary_id}/import", dependencies=Csrf)
def import_file(
    request: Request,
    actor: Admin,
    db: DB,
    glossary_id: int,
    file: Annotated[UploadFile | None, File()] = None,
    mode: Short = "merge",
) -> Response:
    """Import a CSV: the page lists the bad rows by line; the good ones are saved."""
    glossaries.get_glossary(db, actor, glossary_id)
    data = file.file.read(MAX_BYTES + 1) if file is not None else b""
    try:
        if not data:
            raise UserError("glossary_no_file")
        report = glossaries.import_csv(db, actor, glossary_id, data, mode)
    except UserError as exc:
        status, message = failed(db, exc)
        return _glossary_page(request, db, actor, glossary_id, status, error=message, mode=mode)
    return _glossary_page(request, db, actor, glossary_id, report=report, mode=mode)


@router.post("/admin/glossaries/{glossary_id}/entries", dependencies=Csrf)
def add_entry(
    request: Request,
    actor: Admin,
    db: DB,
    glossary_id: int,
    term: Short = "",
    language: Short = "",
    translation: Short = "",
    note: Short = "",
) -> Response:
    """Add one entry to the glossary."""
    try:
        glossaries.add_entry(db, actor, glossary_id, term, language, translation, note)
    except UserError as exc:
        status, message = failed(db, exc)
        entry = {"term": term, "language": language, "translation": translation, "note": note}
        return _glossary_page(
            request, db, actor, glossary_id, status, entry=entry, entry_error=message
        )
    return done(request, f"/admin/glossaries/{glossary_id}", gettext("The entry was added."))


def _entry_page(
    request: Request, db: Session, actor: User, entry_id: int, status: int = 200, **context: Any
) -> Response:
    entry = glossaries.get_entry(db, actor, entry_id)
    context.setdefault(
        "form",
        {
            "term": entry.term,
            "language": entry.language,
            "translation": entry.translation,
            "note": entry.note,
        },
    )
    return page(
        request,
        "tools/glossary_entry.html",
        status,
        entry=entry,
        glossary=glossaries.get_glossary(db, actor, entry.glossary_id),
        languages=_languages(),
        **context,
    )


@router.get("/admin/glossaries/entries/{entry_id}")
def entry_view(request: Request, actor: Admin, db: DB, entry_id: int) -> Response:
    """The form to change one entry."""
    return _entry_page(request, db, actor, entry_id)


@router.post("/admin/glossaries/entries/{entry_id}", dependencies=Csrf)
def entry_save(
    request: Request,
    actor: Admin,
    db: DB,
    entry_id: int,
    term: Short = "",
    language: Short = "",
    translation: Short = "",
    note: Short = "",
) -> Response:
    """Save the changes to one entry."""
    try:
        entry = glossaries.update_entry(db, actor, entry_id, term, language, translation, note)
    except UserError as exc:
        status, message = failed(db, exc)
        form = {"term": term, "language": language, "translation": translation, "note": note}
        return _entry_page(request, db, actor, entry_id, status, form=form, error=message)
    return done(request, f"/admin/glossaries/{entry.glossary_id}", gettext("The entry was saved."))


@router.post("/admin/glossaries/entries/{entry_id}/delete", dependencies=Csrf)
def entry_delete(request: Request, actor: Admin, db: DB, entry_id: int) -> Response:
    """Delete one entry."""
    glossary_id = glossaries.delete_entry(db, actor, entry_id)
    return done(request, f"/admin/glossaries/{glossary_id}", gettext("The entry was deleted."))
