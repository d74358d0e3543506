"""The content-quality report of a collection: page and API (for those who may add documents)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from civique.auth.models import User
from civique.documents import quality, service
from civique.documents.schemas import QualityReport
from civique.errors import N_
from civique.i18n import gettext
from civique.orgs.pages import page
from civique.web.deps import DB, require, require_api

router = APIRouter()
Member = Annotated[User, Depends(require("documents.use"))]
ApiMember = Annotated[User, Depends(require_api("documents.use"))]

ISSUE_LABELS = {
    "empty": N_("Empty page (no text)"),
    "little_text": N_("Very little text"),
    "ocr": N_("Read by text recognition (OCR): check the text"),
}


@router.get("/collections/{collection_id}/quality", name="collection_quality")
def quality_page(request: Request, user: Member, db: DB, collection_id: int) -> Response:
    """What needs attention in a collection: duplicates, unreadable pages, unused documents…"""
    report = quality.report(db, user, collection_id)
    return page(
        request,
        "documents/quality.html",
        collection=service.collection_summary(db, user, collection_id),
        report=report,
        issue_labels={k: gettext(v) for k, v in ISSUE_LABELS.items()},
        threshold=round(quality.SIMILARITY * 100),
        little_words=quality.LITTLE_TEXT_WORDS,
    )


@router.get("/api/v1/collections/{collection_id}/quality", tags=["Documents"])
def api_quality(user: ApiMember, db: DB, collection_id: int) -> QualityReport:
    """The quality report of a collection the caller may add documents to."""
    return quality.report(db, user, collection_id)
