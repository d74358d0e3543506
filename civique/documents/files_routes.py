"""Documents of a collection, in pages and the JSON API: upload (many files or a ZIP), progress,
versions, download of the originals, delete.

Upload bodies may reach `documents_max_upload_bytes` (see `UPLOAD_PATHS` and the body-size
middleware); the multipart form is parsed here, with the file count bounded, into temporary files
that are read one at a time.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from civique.auth.models import User
from civique.documents import files, service, uploads
from civique.documents import routes as collection_routes
from civique.documents.files import FileOutcome
from civique.documents.schemas import (
    DeletedDocument,
    DocumentDetail,
    DocumentList,
    UploadResult,
)
from civique.documents.storage import FileStore
from civique.documents.uploads import Enqueue, Upload
from civique.documents.views import OUTCOME_LABELS, document_rows, status_view
from civique.errors import UserError, error_message
from civique.i18n import gettext
from civique.orgs.pages import done, page
from civique.settings import Settings
from civique.web.deps import DB, check_csrf, require, require_api

router = APIRouter()
Member = Annotated[User, Depends(require("documents.use"))]
ApiMember = Annotated[User, Depends(require_api("documents.use"))]
Csrf = [Depends(check_csrf)]

# The requests that carry files: the body-size middleware lets them reach the upload limit.
UPLOAD_PATHS = re.compile(r"^/(api/v1/)?collections/\d+/documents$|^/documents/\d+/versions$")
MAX_FIELDS = 20  # besides files: the CSRF token
# The body is parsed by hand (bounded); this describes it in the OpenAPI document.
MULTIPART_FILES = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                }
            }
        },
    }
}


async def _read_uploads(request: Request, settings: Settings) -> list[Upload]:
    """The files of a multipart request (empty file inputs skipped), bounded in number."""
    refused = getattr(request.state, "upload_too_big", None)
    if refused is not None:
        raise UserError("upload_too_big", 413, limit=refused)
    limit = settings.documents_max_files
    try:
        form = await request.form(max_files=limit, max_fields=MAX_FIELDS)
    except HTTPException as exc:
        if "files" in str(exc.detail):  # Starlette stopped reading past `limit` files
            raise UserError("upload_too_many", 413, count=f"{limit + 1}+", limit=limit) from None
        raise UserError("upload_no_file") from None
    return [
        Upload(value.filename or "document", value.file)
        for _, value in form.multi_items()
        if isinstance(value, UploadFile) and (value.filename or value.size)
    ]


def _store(request: Request) -> FileStore:
    store: FileStore = request.app.state.jobs.ingest.store
    return store


def _enqueue(request: Request) -> Enqueue:
    enqueue: Enqueue = request.app.state.jobs.enqueue_ingestion
    return enqueue


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _outcome_rows(outcomes: list[FileOutcome]) -> list[dict[str, Any]]:
    return [
        {"outcome": uploads.outcome_summary(o), "label": gettext(OUTCOME_LABELS[o.status])}
        for o in outcomes
    ]


# Pages -----------------------------------------------------------------------------------------


@router.post("/collections/{collection_id}/documents")
async def upload_page(request: Request, user: Member, db: DB, collection_id: int) -> Response:
    """Add files (or the files of ZIPs) to a collection; each says what became of it."""
    settings = _settings(request)
    chosen = await _read_uploads(request, settings)
    await check_csrf(request)

    def run() -> Response:
        try:
            outcomes = uploads.upload_files(
                db, _store(request), settings, user, collection_id, chosen, _enqueue(request)
            )
        except UserError as exc:
            if exc.status in (403, 404):
                raise
            db.rollback()
            return collection_routes._detail_page(
                request, db, user, collection_id, exc.status, error=error_message(exc)
            )
        return collection_routes._detail_page(
            request, db, user, collection_id, outcomes=_outcome_rows(outcomes)
        )

    return await run_in_threadpool(run)


@router.get("/collections/{collection_id}/documents/status")
def status_json(user: Member, db: DB, collection_id: int) -> dict[str, Any]:
    """The status of every document of a collection, for the page to refresh its list."""
    rows = document_rows(uploads.collection_documents(db, user, collection_id))
    documents = [
        {"id": r["document"].id, "version": r["document"].latest.number, **_plain(r)} for r in rows
    ]
    return {"active": any(d["active"] for d in documents), "documents": documents}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "label", "active", "done", "total", "details")
    return {k: row[k] for k in keys}


def _document_page(
    request: Request,
    db: Session,
    user: User,
    document_id: int,
    status: int = 200,
    **context: Any,
) -> Response:
    detail = uploads.document_detail(db, user, document_id)
    collection = service.collection_summary(db, user, detail.collection_id)
    return page(
        request,
        "documents/document.html",
        status,
        document=detail,
        collection=collection,
        can_change=uploads.can_change(db, user, document_id),
        versions=[{"version": v, **status_view(v)} for v in detail.versions],
        **context,
    )


@router.get("/documents/{document_id}", name="document")
def document_page(request: Request, user: Member, db: DB, document_id: int) -> Response:
    """A document: its versions, their status, download, new version and delete."""
    return _document_page(request, db, user, document_id)


@router.post("/documents/{document_id}/versions")
async def new_version_page(request: Request, user: Member, db: DB, document_id: int) -> Response:
    """Upload a new version of a document; the older ones stay in its history."""
    settings = _settings(request)
    chosen = await _read_uploads(request, settings)
    await check_csrf(request)

    def run() -> Response:
        if len(chosen) != 1:
            files.writable_document(db, user, document_id)  # refuse outsiders first
            exc = (
                UserError("upload_no_file")
                if not chosen
                else UserError("upload_too_many", count=len(chosen), limit=1)
            )
            return _document_page(request, db, user, document_id, 400, error=error_message(exc))
        outcome = uploads.add_version(
            db, _store(request), settings, user, document_id, chosen[0], _enqueue(request)
        )
        if outcome.status != "queued":
            message = uploads.outcome_summary(outcome).message
            return _document_page(request, db, user, document_id, 400, error=message)
        note = gettext("Version %(number)s added; it is being processed.", number=outcome.version)
        return done(request, f"/documents/{document_id}", note)

    return await run_in_threadpool(run)


@router.get("/documents/{document_id}/versions/{number}/file")
def download_page(
    request: Request, user: Member, db: DB, document_id: int, number: int
) -> Response:
    """The original file of a version, as an attachment."""
    return _download(request, db, user, document_id, number)


def _download(request: Request, db: Session, user: User, document_id: int, number: int) -> Response:
    path, filename, media_type = uploads.version_file(
        db, _store(request), user, document_id, number
    )
    return FileResponse(
        path,
        media_type=media_type,
        filename=filename,
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


@router.post("/documents/{document_id}/delete", dependencies=Csrf)
def delete_page(request: Request, user: Member, db: DB, document_id: int) -> Response:
    """Delete a document, its versions, text, passages and files (ingestion stops)."""
    collection_id, title = uploads.remove_document(db, _store(request), user, document_id)
    return done(
        request,
        f"/collections/{collection_id}",
        gettext("The document %(title)s was deleted.", title=title),
    )


# API -------------------------------------------------------------------------------------------


@router.post(
    "/api/v1/collections/{collection_id}/documents",
    tags=["Documents"],
    openapi_extra=MULTIPART_FILES,
)
async def api_upload(request: Request, user: ApiMember, db: DB, collection_id: int) -> UploadResult:
    """Add files (multipart; any number of parts, ZIPs unpacked) to a collection.

    Returns one outcome per file: `queued` (being ingested), `duplicate` or `refused` (with why).
    """
    settings = _settings(request)
    chosen = await _read_uploads(request, settings)
    outcomes = await run_in_threadpool(
        uploads.upload_files,
        db,
        _store(request),
        settings,
        user,
        collection_id,
        chosen,
        _enqueue(request),
    )
    data = [uploads.outcome_summary(o) for o in outcomes]
    statuses = [o.status for o in data]
    return UploadResult(
        data=data,
        queued=statuses.count("queued"),
        duplicate=statuses.count("duplicate"),
        refused=statuses.count("refused"),
    )


@router.get("/api/v1/collections/{collection_id}/documents", tags=["Documents"])
def api_documents(user: ApiMember, db: DB, collection_id: int) -> DocumentList:
    """The documents of a readable collection with the state of their newest version."""
    return DocumentList(data=uploads.collection_documents(db, user, collection_id))


@router.get("/api/v1/documents/{document_id}", tags=["Documents"])
def api_document(user: ApiMember, db: DB, document_id: int) -> DocumentDetail:
    """A document: status and progress of its newest version, and every version."""
    return uploads.document_detail(db, user, document_id)


@router.get("/api/v1/documents/{document_id}/versions/{number}/file", tags=["Documents"])
def api_download(
    request: Request, user: ApiMember, db: DB, document_id: int, number: int
) -> Response:
    """The original file of a version (Content-Disposition: attachment)."""
    return _download(request, db, user, document_id, number)


@router.delete("/api/v1/documents/{document_id}", tags=["Documents"])
def api_delete(request: Request, user: ApiMember, db: DB, document_id: int) -> DeletedDocument:
    """Delete a document everywhere (an ingestion under way stops)."""
    uploads.remove_document(db, _store(request), user, document_id)
    return DeletedDocument(id=document_id)
