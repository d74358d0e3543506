"""Collection pages (list, creation, one collection with its shares) and the read-only API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.documents import service
from civique.documents.schemas import CollectionSummary
from civique.documents.views import collection_documents_context
from civique.errors import N_, NotFound, UserError
from civique.i18n import gettext
from civique.orgs.pages import done, failed, optional_id, page
from civique.orgs.service import list_teams, list_units
from civique.web.deps import DB, check_csrf, require, require_api

router = APIRouter()
Member = Annotated[User, Depends(require("documents.use"))]
ApiMember = Annotated[User, Depends(require_api("documents.use"))]
Csrf = [Depends(check_csrf)]
ShortText = Annotated[str, Form(max_length=1000)]
LongText = Annotated[str, Form(max_length=4000)]

SCOPE_LABELS = {
    "personal": N_("Personal"),
    "team": N_("Team"),
    "unit": N_("Unit"),
    "organisation": N_("Whole organisation"),
    "public": N_("Public (citizen assistant)"),
}
RIGHT_LABELS = {"read": N_("Read"), "write": N_("Read and add documents"), "manage": N_("Manage")}


def _labels() -> dict[str, Any]:
    return {
        "scope_labels": {k: gettext(v) for k, v in SCOPE_LABELS.items()},
        "right_labels": {k: gettext(v) for k, v in RIGHT_LABELS.items()},
    }


def _list_page(
    request: Request, db: Session, user: User, status: int = 200, **context: Any
) -> Response:
    scopes = ["personal", "team", "unit"]
    if can(user.role, "org.manage"):
        scopes += ["organisation", "public"]
    context.setdefault("form", {"name": "", "description": "", "scope": "personal", "team_id": ""})
    return page(
        request,
        "documents/collections.html",
        status,
        collections=service.list_collections(db, user),
        scopes=scopes,
        teams=service.user_teams(db, user),
        has_unit=user.unit_id is not None,
        **_labels(),
        **context,
    )


@router.get("/collections", name="collections")
def collections_page(request: Request, user: Member, db: DB) -> Response:
    """The collections the user may read, and the form to create one."""
    return _list_page(request, db, user)


@router.post("/collections", dependencies=Csrf)
def create_collection(
    request: Request,
    user: Member,
    db: DB,
    name: ShortText = "",
    description: LongText = "",
    scope: ShortText = "personal",
    team_id: ShortText = "",
) -> Response:
    """Create a collection owned by the user."""
    try:
        collection = service.create_collection(
            db, user, name, scope, description, optional_id(team_id)
        )
    except UserError as exc:
        if exc.status in (403, 404):
            raise
        status, message = failed(db, exc)
        form = {"name": name, "description": description, "scope": scope, "team_id": team_id}
        return _list_page(request, db, user, status, form=form, error=message)
    return done(
        request,
        f"/collections/{collection.id}",
        gettext("Collection %(name)s created.", name=collection.name),
    )


def _detail_page(
    request: Request, db: Session, user: User, collection_id: int, status: int = 200, **context: Any
) -> Response:
    summary = service.collection_summary(db, user, collection_id)
    manager = summary.right == "manage"
    context.setdefault("form", {"name": summary.name, "description": summary.description})
    return page(
        request,
        "documents/collection.html",
        status,
        collection=summary,
        manager=manager,
        shares=service.list_shares(db, user, collection_id) if manager else [],
        readers=service.readers(db, user, collection_id) if manager else [],
        teams=list_teams(db, user) if manager else [],
        units=list_units(db, user) if manager else [],
        **collection_documents_context(db, user, summary),
        **_labels(),
        **context,
    )


@router.get("/collections/{collection_id}", name="collection")
def collection_page(request: Request, user: Member, db: DB, collection_id: int) -> Response:
    """One collection; for those who manage it, its shares and who can read it."""
    return _detail_page(request, db, user, collection_id)


@router.post("/collections/{collection_id}/rename", dependencies=Csrf)
def rename_collection(
    request: Request,
    user: Member,
    db: DB,
    collection_id: int,
    name: ShortText = "",
    description: LongText = "",
) -> Response:
    """Change the name and description of a collection."""
    try:
        service.update_collection(db, user, collection_id, name, description)
    except UserError as exc:
        if exc.status in (403, 404):
            raise
        status, message = failed(db, exc)
        form = {"name": name, "description": description}
        return _detail_page(request, db, user, collection_id, status, form=form, error=message)
    return done(request, f"/collections/{collection_id}", gettext("Collection updated."))


@router.post("/collections/{collection_id}/delete", dependencies=Csrf)
def delete_collection(request: Request, user: Member, db: DB, collection_id: int) -> Response:
    """Delete a collection and its shares."""
    service.delete_collection(db, user, collection_id)
    return done(request, "/collections", gettext("The collection was deleted."))


def _shared(
    request: Request, db: Session, user: User, collection_id: int, **target: Any
) -> Response:
    try:
        service.share(db, user, collection_id, target.pop("right"), **target)
    except UserError as exc:
        if exc.status in (403, 404):
            raise
        status, message = failed(db, exc)
        return _detail_page(request, db, user, collection_id, status, error=message)
    return done(request, f"/collections/{collection_id}", gettext("Sharing updated."))


@router.post("/collections/{collection_id}/shares/team", dependencies=Csrf)
def share_with_team(
    request: Request,
    user: Member,
    db: DB,
    collection_id: int,
    team_id: ShortText = "",
    right: ShortText = "read",
) -> Response:
    """Open the collection to a team of the organisation."""
    return _shared(request, db, user, collection_id, team_id=_required_id(team_id), right=right)


@router.post("/collections/{collection_id}/shares/unit", dependencies=Csrf)
def share_with_unit(
    request: Request,
    user: Member,
    db: DB,
    collection_id: int,
    unit_id: ShortText = "",
    right: ShortText = "read",
) -> Response:
    """Open the collection to a unit of the organisation."""
    return _shared(request, db, user, collection_id, unit_id=_required_id(unit_id), right=right)


def _required_id(value: str) -> int:
    chosen = optional_id(value)
    if chosen is None:
        raise NotFound()
    return chosen


@router.post("/collections/{collection_id}/shares/{share_id}/delete", dependencies=Csrf)
def unshare(request: Request, user: Member, db: DB, collection_id: int, share_id: int) -> Response:
    """Stop sharing the collection with a team or unit."""
    service.unshare(db, user, collection_id, share_id)
    return done(request, f"/collections/{collection_id}", gettext("Sharing updated."))


# API -------------------------------------------------------------------------------------------


@router.get("/api/v1/collections", tags=["Documents"])
def api_collections(user: ApiMember, db: DB) -> dict[str, Any]:
    """The collections the caller may read, with the caller's right on each."""
    return {"object": "list", "data": service.list_collections(db, user)}


@router.get("/api/v1/collections/{collection_id}", tags=["Documents"])
def api_collection(user: ApiMember, db: DB, collection_id: int) -> CollectionSummary:
    """One collection the caller may read (404 for any other)."""
    return service.collection_summary(db, user, collection_id)
