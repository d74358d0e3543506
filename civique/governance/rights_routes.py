"""A user's own data: the page, the ZIP download (page and API), deleting all conversations."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from typing import IO, Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import func, select

from civique.auth.models import User
from civique.chat.models import Conversation
from civique.governance import rights
from civique.web.deps import DB, AppSettings, check_csrf, render, require, require_api

router = APIRouter()
Account = Annotated[User, Depends(require("account.manage"))]
ApiUser = Annotated[User, Depends(require_api("api.use"))]
Csrf = [Depends(check_csrf)]
_CHUNK = 256 * 1024


@router.get("/account/data", name="account_data")
def data_page(request: Request, user: Account, db: DB, deleted: int | None = None) -> Response:
    """What Civique holds about the user, the download and the deletion of conversations."""
    conversations = db.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.user_id == user.id)
    )
    return render(request, "account/data.html", conversations=conversations or 0, deleted=deleted)


def _zip(request: Request, db: DB, user: User, max_bytes: int) -> Response:
    """The ZIP, built in a spooled temporary file (kept in memory up to 8 MB) and streamed."""
    target = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - streamed, closed below
    store = request.app.state.jobs.ingest.store
    rights.export_user_data(db, store, user, target, max_bytes)
    target.seek(0)

    def chunks(handle: IO[bytes]) -> Iterator[bytes]:
        try:
            while block := handle.read(_CHUNK):
                yield block
        finally:
            handle.close()

    name = f"civique-mes-donnees-{date.today().isoformat()}.zip"
    return StreamingResponse(
        chunks(target),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/account/data/export", dependencies=Csrf)
def export_page(request: Request, user: Account, db: DB, settings: AppSettings) -> Response:
    """Download everything as a ZIP of JSON files and the uploaded files."""
    return _zip(request, db, user, settings.rights_export_max_file_bytes)


@router.get("/api/v1/me/export")
def export_api(request: Request, user: ApiUser, db: DB, settings: AppSettings) -> Response:
    """The same ZIP as the account page, for a personal token."""
    return _zip(request, db, user, settings.rights_export_max_file_bytes)


@router.post("/account/conversations/delete", dependencies=Csrf)
def delete_conversations(request: Request, user: Account, db: DB) -> Response:
    """Delete every conversation of the user (their vault entries go with them)."""
    count = rights.delete_conversations(db, request.app.state.gateway.vault, user)
    return RedirectResponse(f"/account/data?deleted={count}", 303)
