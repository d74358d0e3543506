"""Uploads into a collection (many files, ZIPs unpacked), new versions, and what the pages and the
API show of documents and their versions.

Each uploaded file gets its own outcome: one refused file never stops the others. Files are read
from the request's spooled temporary files one at a time, and a file above the size limit is
refused from its size alone, without being read.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.documents import files
from civique.documents.files import FileOutcome
from civique.documents.models import Document, DocumentVersion
from civique.documents.schemas import (
    DocumentDetail,
    DocumentSummary,
    UploadOutcome,
    VersionSummary,
)
from civique.documents.service import can_write, readable_collection
from civique.documents.storage import FileStore
from civique.errors import NotFound, UserError, stored_message
from civique.settings import Settings

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Office files are ZIPs too: these members tell them apart from an archive of documents.
OFFICE_MARKERS = ("[Content_Types].xml", "mimetype")

Enqueue = Callable[[int], object]


@dataclass
class Upload:
    """One file of an upload request: its name and its (spooled, seekable) content."""

    filename: str
    handle: BinaryIO


def _size(handle: BinaryIO) -> int:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    return size


def _is_archive(handle: BinaryIO) -> bool:
    """True for a ZIP of documents (by content), False for anything else, office files included."""
    head = handle.read(4)
    handle.seek(0)
    if head not in ZIP_MAGIC:
        return False
    try:
        with zipfile.ZipFile(handle) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False  # add_file says it is damaged
    finally:
        handle.seek(0)
    return not any(marker in names for marker in OFFICE_MARKERS)


def upload_files(
    session: Session,
    store: FileStore,
    settings: Settings,
    user: User,
    collection_id: int,
    uploads: list[Upload],
    enqueue: Enqueue,
) -> list[FileOutcome]:
    """Add every file (ZIP members included) to a collection and queue each new version."""
    files.writable_collection(session, user, collection_id)
    if not uploads:
        raise UserError("upload_no_file")
    limit = settings.documents_max_files
    if len(uploads) > limit:
        raise UserError("upload_too_many", count=len(uploads), limit=limit)
    outcomes: list[FileOutcome] = []
    for index, upload in enumerate(uploads):
        room = limit - len(outcomes) - (len(uploads) - index - 1)  # files this one may hold
        try:
            named = _contents(upload, settings, room)
        except UserError as exc:
            outcomes.append(files.refused(upload.filename, exc))
            continue
        for name, data in named:
            outcome = files.add_file(session, store, settings, user, collection_id, name, data)
            if outcome.version_id is not None:
                enqueue(outcome.version_id)  # at once: ingestion starts while the rest is stored
            outcomes.append(outcome)
    return outcomes


def _contents(upload: Upload, settings: Settings, room: int) -> list[tuple[str, bytes]]:
    """The files an upload holds: itself, or the members of a ZIP (at most `room` more)."""
    size = _size(upload.handle)
    if _is_archive(upload.handle):
        if size > settings.documents_max_upload_bytes:
            raise UserError("upload_too_big", limit=settings.documents_max_upload_bytes)
        members = files.expand_zip(upload.handle.read(), settings)
        if len(members) > room:
            raise UserError(
                "upload_too_many", count=len(members), limit=settings.documents_max_files
            )
        return members
    if size > settings.documents_max_file_bytes:
        raise UserError("doc_too_big", size=size, limit=settings.documents_max_file_bytes)
    return [(upload.filename, upload.handle.read())]


def add_version(
    session: Session,
    store: FileStore,
    settings: Settings,
    user: User,
    document_id: int,
    upload: Upload,
    enqueue: Enqueue,
) -> FileOutcome:
    """Store a file as the next version of a document (it keeps the document's file name)."""
    document = files.writable_document(session, user, document_id)
    size = _size(upload.handle)
    if size > settings.documents_max_file_bytes:
        return files.refused(
            upload.filename,
            UserError("doc_too_big", size=size, limit=settings.documents_max_file_bytes),
        )
    outcome = files.add_file(
        session,
        store,
        settings,
        user,
        document.collection_id,
        document.filename,
        upload.handle.read(),
    )
    if outcome.version_id is not None:
        enqueue(outcome.version_id)
    return outcome


def outcome_summary(outcome: FileOutcome) -> UploadOutcome:
    """An outcome as the pages and the API show it, its message in the current language."""
    message = None
    if outcome.error_code:
        message = stored_message(outcome.error_code, outcome.error_params)
    return UploadOutcome(
        filename=outcome.filename,
        status=outcome.status,
        document_id=outcome.document_id,
        version=outcome.version,
        error_code=outcome.error_code,
        message=message,
    )


# What pages and the API show -------------------------------------------------------------------


def _names(session: Session, user_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()
    return {row[0]: row[1] for row in rows}


def version_summary(
    version: DocumentVersion, names: dict[int, str], searchable_id: int | None
) -> VersionSummary:
    """One version with its failure reason and notices in the current language."""
    error = None
    if version.error_code:
        error = stored_message(version.error_code, version.error_params)
    notices = [
        stored_message(n.get("code", ""), n.get("params"))
        for n in version.notices or []
    ]
    return VersionSummary(
        number=version.number,
        filename=version.filename,
        status=version.status,
        media_type=version.media_type,
        size_bytes=version.size_bytes,
        created_at=version.created_at,
        created_by=names.get(version.created_by) if version.created_by else None,
        progress_done=version.progress_done,
        progress_total=version.progress_total,
        page_count=version.page_count,
        language=version.language,
        ocr_pages=list(version.ocr_pages or []),
        error_code=version.error_code,
        error_message=error,
        notices=notices,
        searchable=version.id == searchable_id,
    )


def _searchable_numbers(session: Session, documents: list[Document]) -> dict[int, int]:
    ids = [d.current_version_id for d in documents if d.current_version_id is not None]
    if not ids:
        return {}
    rows = session.execute(
        select(DocumentVersion.document_id, DocumentVersion.number).where(
            DocumentVersion.id.in_(ids)
        )
    ).all()
    return {row[0]: row[1] for row in rows}


def collection_documents(session: Session, user: User, collection_id: int) -> list[DocumentSummary]:
    """The documents of a readable collection with their newest version, newest first."""
    documents = files.list_documents(session, user, collection_id)
    latest = files.latest_versions(session, [d.id for d in documents])
    names = _names(session, {v.created_by for v in latest.values()})
    searchable = _searchable_numbers(session, documents)
    return [
        _summary(d, version_summary(latest[d.id], names, d.current_version_id), searchable)
        for d in documents
        if d.id in latest
    ]


def _summary(
    document: Document, latest: VersionSummary, searchable: dict[int, int]
) -> DocumentSummary:
    return DocumentSummary(
        id=document.id,
        collection_id=document.collection_id,
        title=document.title,
        filename=document.filename,
        updated_at=document.updated_at,
        latest=latest,
        searchable_version=searchable.get(document.id),
    )


def document_detail(session: Session, user: User, document_id: int) -> DocumentDetail:
    """A readable document with every version, newest first."""
    document = files.readable_document(session, user, document_id)
    rows = files.versions(session, user, document_id)
    names = _names(session, {v.created_by for v in rows})
    history = [version_summary(v, names, document.current_version_id) for v in rows]
    searchable = _searchable_numbers(session, [document])
    return DocumentDetail(
        **_summary(document, history[0], searchable).model_dump(), versions=history
    )


def version_file(
    session: Session, store: FileStore, user: User, document_id: int, number: int
) -> tuple[Path, str, str]:
    """The stored original of a version of a readable document: (path, file name, media type)."""
    document = files.readable_document(session, user, document_id)
    version = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == number
        )
    )
    if version is None:
        raise NotFound()
    path = store.path(version.storage_key)
    if not path.exists():
        raise NotFound()
    return path, version.filename, version.media_type or "application/octet-stream"


def can_change(session: Session, user: User, document_id: int) -> bool:
    """True when `user` may add versions to or delete a readable document."""
    document = files.readable_document(session, user, document_id)
    collection = readable_collection(session, user, document.collection_id)
    return can_write(session, user, collection)


def remove_document(
    session: Session, store: FileStore, user: User, document_id: int
) -> tuple[int, str]:
    """Delete a document everywhere; (its collection id, its title) for the page that follows."""
    document = files.writable_document(session, user, document_id)
    where = (document.collection_id, document.title)
    files.delete_document(session, store, user, document_id)
    return where
