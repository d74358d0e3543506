"""The source viewer: a cited page with the passage marked, and PDF pages as images."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from civique.auth.models import User
from civique.documents import viewer
from civique.web.deps import DB, render, require

router = APIRouter()
Member = Annotated[User, Depends(require("documents.use"))]
OptionalId = Annotated[int | None, Query(ge=0, le=2**31 - 1)]


@router.get("/documents/{document_id}/source", name="document_source")
def source_page(
    request: Request,
    user: Member,
    db: DB,
    document_id: int,
    chunk: OptionalId = None,
    version: OptionalId = None,
    page: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    start: OptionalId = None,
    end: OptionalId = None,
) -> Response:
    """One page of a document with the cited passage highlighted."""
    shown = viewer.source_page(db, user, document_id, chunk, version, page, start, end)
    return render(request, "documents/source.html", source=shown)


@router.get("/documents/{document_id}/page.png")
def page_image(
    request: Request,
    user: Member,
    db: DB,
    document_id: int,
    version: OptionalId = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """A PDF page as PNG (access checked like the viewer; the current version by default)."""
    store = request.app.state.jobs.ingest.store
    image = viewer.render_page_png(db, store, user, document_id, version, page)
    return Response(
        image,
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
