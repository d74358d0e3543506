"""How documents read on the pages: status labels, progress and details in the user's language.

Shared by the collection page, the document page and the JSON the page polls for progress.
"""

from __future__ import annotations

from typing import Any

from babel import Locale, UnknownLocaleError
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.documents.models import ACTIVE_STATES
from civique.documents.schemas import CollectionSummary, DocumentSummary, VersionSummary
from civique.documents.sniff import KIND_NAMES
from civique.documents.uploads import collection_documents
from civique.errors import N_
from civique.i18n import get_locale, gettext

STATUS_LABELS = {
    "queued": N_("Waiting"),
    "parsing": N_("Reading"),
    "embedding": N_("Indexing"),
    "ready": N_("Ready"),
    "failed": N_("Failed"),
    "superseded": N_("Replaced by a newer version"),
    "cancelled": N_("Cancelled"),
}
OUTCOME_LABELS = {
    "queued": N_("Added, being processed"),
    "duplicate": N_("Already in the collection"),
    "refused": N_("Refused"),
}


def kind(media_type: str) -> str:
    """A short name for a file type (PDF, DOCX…), or the media type itself."""
    return KIND_NAMES.get(media_type, media_type or "—")


def language_name(code: str) -> str:
    """A language's name in the current language ("français"), or its code if unknown."""
    try:
        return Locale.parse(code).get_display_name(get_locale()) or code
    except (UnknownLocaleError, ValueError):
        return code


def _pages(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:20])
    return shown + ("…" if len(numbers) > 20 else "")


def details(version: VersionSummary) -> list[str]:
    """What to say under a version's status: progress, OCR, language, failure, notices."""
    lines: list[str] = []
    if version.status == "queued":
        lines.append(gettext("Waiting for its turn to be read."))
    elif version.status == "parsing":
        lines.append(gettext("Reading the text of the file…"))
    elif version.status == "embedding" and version.progress_total:
        lines.append(
            gettext(
                "%(done)s of %(total)s passages indexed",
                done=version.progress_done,
                total=version.progress_total,
            )
        )
    if version.error_message:
        lines.append(version.error_message)
    if version.ocr_pages:
        lines.append(
            gettext("Text recognised (OCR) on pages %(pages)s", pages=_pages(version.ocr_pages))
        )
    if version.language:
        lines.append(gettext("Language: %(language)s", language=language_name(version.language)))
    return lines + version.notices


def status_view(version: VersionSummary) -> dict[str, Any]:
    """A version's status as shown on the pages and sent to the page while it polls."""
    active = version.status in ACTIVE_STATES
    return {
        "status": version.status,
        "label": gettext(STATUS_LABELS.get(version.status, version.status)),
        "active": active,
        "done": version.progress_done,
        "total": version.progress_total,
        "details": details(version),
    }


def document_rows(documents: list[DocumentSummary]) -> list[dict[str, Any]]:
    """The rows of a collection's document list."""
    rows = []
    for document in documents:
        view = status_view(document.latest)
        if document.latest.status == "failed" and document.searchable_version:
            view["details"].append(
                gettext(
                    "Version %(number)s stays the one searched.",
                    number=document.searchable_version,
                )
            )
        rows.append({"document": document, "kind": kind(document.latest.media_type), **view})
    return rows


def collection_documents_context(
    session: Session, user: User, collection: CollectionSummary
) -> dict[str, Any]:
    """What the collection page needs to list documents and offer the upload form."""
    rows = document_rows(collection_documents(session, user, collection.id))
    return {
        "documents": rows,
        "documents_active": any(r["active"] for r in rows),
        "can_upload": collection.right in ("write", "manage"),
        "outcome_labels": {k: gettext(v) for k, v in OUTCOME_LABELS.items()},
    }
