"""Documents of a collection: add files (new documents or new versions), list, delete, read back.

Adding a file only stores it and queues its ingestion (see `ingest.py`); every function checks the
user's right on the collection first. ZIP uploads are unpacked here, within bounds.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.documents.ingest import parse_limits
from civique.documents.models import (
    ACTIVE_STATES,
    Chunk,
    Document,
    DocumentSection,
    DocumentVersion,
)
from civique.documents.service import can_write, readable_collection
from civique.documents.sniff import sniff
from civique.documents.storage import FileStore
from civique.errors import Forbidden, NotFound, UserError
from civique.settings import Settings

FILENAME_LIMIT = 255


@dataclass
class FileOutcome:
    """What happened to one uploaded file: queued (with its version) or refused (with why)."""

    filename: str
    status: str  # queued | duplicate | refused
    document_id: int | None = None
    version_id: int | None = None
    version: int | None = None
    error_code: str | None = None
    error_params: dict[str, Any] = field(default_factory=dict)


def safe_filename(name: str) -> str:
    """The last part of a path, without control characters, bounded; `document` if empty."""
    base = PurePosixPath(name.replace("\\", "/")).name
    cleaned = "".join(c for c in base if c.isprintable()).strip()
    return cleaned[:FILENAME_LIMIT] or "document"


def writable_collection(session: Session, user: User, collection_id: int) -> int:
    """The id of a collection `user` may add to, or NotFound/Forbidden."""
    collection = readable_collection(session, user, collection_id)
    if not can_write(session, user, collection):
        raise Forbidden()
    return collection.id


def expand_zip(data: bytes, settings: Settings) -> list[tuple[str, bytes]]:
    """The files inside a ZIP upload, checked against declared sizes before any is unpacked."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UserError("doc_corrupt", kind="ZIP") from None
    if len(members) > settings.documents_max_files:
        raise UserError("upload_too_many", count=len(members), limit=settings.documents_max_files)
    declared = sum(m.file_size for m in members)
    if declared > settings.documents_max_decompressed_bytes:
        raise UserError(
            "doc_zip_bomb", size=declared, limit=settings.documents_max_decompressed_bytes
        )
    files: list[tuple[str, bytes]] = []
    for member in members:
        name = safe_filename(member.filename)
        if name.startswith(".") or member.filename.startswith("__MACOSX/"):
            continue  # system files of the archiver, not documents
        if member.flag_bits & 0x1:
            raise UserError("doc_encrypted")
        with archive.open(member) as handle:
            # Read one byte past the declared size: a member that lies about its size is refused.
            content = handle.read(member.file_size + 1)
        if len(content) > member.file_size:
            raise UserError(
                "doc_zip_bomb", size=len(content), limit=settings.documents_max_decompressed_bytes
            )
        files.append((name, content))
    return files


def refused(filename: str, exc: UserError) -> FileOutcome:
    """The outcome of a file refused for `exc` (its parameters kept as text)."""
    params = {k: str(v) for k, v in exc.params.items()}
    return FileOutcome(safe_filename(filename), "refused", error_code=exc.code, error_params=params)


def add_file(
    session: Session,
    store: FileStore,
    settings: Settings,
    user: User,
    collection_id: int,
    filename: str,
    data: bytes,
) -> FileOutcome:
    """Store one file as a new document, or a new version of the document of the same name."""
    collection_id = writable_collection(session, user, collection_id)
    filename = safe_filename(filename)
    try:
        media_type = _check_file(data, filename, settings)
    except UserError as exc:
        return refused(filename, exc)
    key, sha256 = store.put(user.org_id, data)
    same = session.execute(
        select(Document.id, Document.title)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(
            DocumentVersion.collection_id == collection_id,
            DocumentVersion.sha256 == sha256,
            DocumentVersion.status.not_in(("failed", "cancelled")),
        )
        .limit(1)
    ).first()
    if same is not None:
        return FileOutcome(
            filename,
            "duplicate",
            document_id=same[0],
            error_code="doc_duplicate",
            error_params={"title": same[1]},
        )
    document = session.scalar(
        select(Document).where(
            Document.collection_id == collection_id, Document.filename == filename
        )
    )
    if document is None:
        title = PurePosixPath(filename).stem.replace("_", " ").strip() or filename
        document = Document(
            org_id=user.org_id,
            collection_id=collection_id,
            title=title[:300],
            filename=filename,
            created_by=user.id,
        )
        session.add(document)
        session.flush()
    number = (
        session.scalar(
            select(func.max(DocumentVersion.number)).where(
                DocumentVersion.document_id == document.id
            )
        )
        or 0
    ) + 1
    version = DocumentVersion(
        document_id=document.id,
        org_id=user.org_id,
        collection_id=collection_id,
        number=number,
        filename=filename,
        sha256=sha256,
        size_bytes=len(data),
        media_type=media_type,
        storage_key=key,
        status="queued",
        created_by=user.id,
    )
    session.add(version)
    session.commit()
    return FileOutcome(filename, "queued", document.id, version.id, number)


def _check_file(data: bytes, filename: str, settings: Settings) -> str:
    """Refuse empty, oversized and unsupported files at once; the media type read from content."""
    if not data:
        raise UserError("doc_empty")
    if len(data) > settings.documents_max_file_bytes:
        raise UserError("doc_too_big", size=len(data), limit=settings.documents_max_file_bytes)
    return sniff(data, filename, parse_limits(settings))


def readable_document(session: Session, user: User, document_id: int) -> Document:
    """A document in a collection `user` may read, else NotFound."""
    document = session.get(Document, document_id)
    if document is None or document.org_id != user.org_id:
        raise NotFound()
    readable_collection(session, user, document.collection_id)
    return document


def writable_document(session: Session, user: User, document_id: int) -> Document:
    """A document `user` may change (write right on its collection)."""
    document = readable_document(session, user, document_id)
    writable_collection(session, user, document.collection_id)
    return document


def versions(session: Session, user: User, document_id: int) -> list[DocumentVersion]:
    """Every version of a readable document, newest first."""
    document = readable_document(session, user, document_id)
    return list(
        session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == document.id)
            .order_by(DocumentVersion.number.desc())
        ).all()
    )


def list_documents(session: Session, user: User, collection_id: int) -> list[Document]:
    """The documents of a readable collection, newest first."""
    collection = readable_collection(session, user, collection_id)
    return list(
        session.scalars(
            select(Document)
            .where(Document.collection_id == collection.id)
            .order_by(Document.updated_at.desc(), Document.id.desc())
        ).all()
    )


def latest_versions(session: Session, document_ids: list[int]) -> dict[int, DocumentVersion]:
    """The newest version of each document (what its status shows)."""
    if not document_ids:
        return {}
    newest = (
        select(func.max(DocumentVersion.id))
        .where(DocumentVersion.document_id.in_(document_ids))
        .group_by(DocumentVersion.document_id)
    )
    rows = session.scalars(select(DocumentVersion).where(DocumentVersion.id.in_(newest))).all()
    return {r.document_id: r for r in rows}


def delete_document(session: Session, store: FileStore, user: User, document_id: int) -> None:
    """Delete a document with every version, section, chunk, index row and unshared file.

    An ingestion running at that moment notices at its next batch and stops writing.
    """
    erase_document(session, store, writable_document(session, user, document_id))


def erase_document(session: Session, store: FileStore, document: Document) -> None:
    """Delete a document everywhere without a right check (the caller checked, or it is the
    retention purge); commits, then removes the files no other version uses."""
    keys = set(
        session.scalars(
            select(DocumentVersion.storage_key).where(DocumentVersion.document_id == document.id)
        ).all()
    )
    version_ids = select(DocumentVersion.id).where(DocumentVersion.document_id == document.id)
    # Explicit deletes (not only ON DELETE CASCADE) so SQLite's index triggers see every chunk.
    session.execute(delete(Chunk).where(Chunk.version_id.in_(version_ids)))
    session.execute(delete(DocumentSection).where(DocumentSection.version_id.in_(version_ids)))
    session.execute(delete(DocumentVersion).where(DocumentVersion.document_id == document.id))
    session.delete(document)
    session.commit()
    _drop_unused_files(session, store, keys)


def _drop_unused_files(session: Session, store: FileStore, keys: set[str]) -> None:
    """Remove stored files no remaining version points to."""
    for key in keys:
        used = session.scalar(
            select(DocumentVersion.id).where(DocumentVersion.storage_key == key).limit(1)
        )
        if used is None:
            store.delete(key)


def section_text(session: Session, version_id: int, ordinal: int) -> DocumentSection | None:
    """One parsed section of a version."""
    return session.scalar(
        select(DocumentSection).where(
            DocumentSection.version_id == version_id, DocumentSection.ordinal == ordinal
        )
    )


def is_active(version: DocumentVersion) -> bool:
    """True while the version is still being ingested."""
    return version.status in ACTIVE_STATES
