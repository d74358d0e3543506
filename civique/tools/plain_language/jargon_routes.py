"""The jargon list page: administrators add, remove and restore the words FALC flags."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import UserError
from civique.i18n import gettext
from civique.orgs.pages import done, failed, page
from civique.tools.plain_language import jargon_store
from civique.web.deps import DB, check_csrf, require

router = APIRouter()
Admin = Annotated[User, Depends(require("tools.manage_jargon"))]
Csrf = [Depends(check_csrf)]
Short = Annotated[str, Form(max_length=1000)]


def _page(
    request: Request, db: Session, actor: User, status: int = 200, **context: Any
) -> Response:
    context.setdefault("form", {"term": "", "suggestion": ""})
    return page(
        request,
        "tools/jargon.html",
        status,
        terms=jargon_store.terms(db, actor.org_id),
        removed=jargon_store.removed_defaults(db, actor.org_id),
        default_count=len(jargon_store.DEFAULT_JARGON),
        **context,
    )


@router.get("/admin/jargon", name="admin_jargon")
def jargon_page(request: Request, actor: Admin, db: DB) -> Response:
    """The organisation's jargon list."""
    return _page(request, db, actor)


@router.post("/admin/jargon", dependencies=Csrf)
def set_term(
    request: Request, actor: Admin, db: DB, term: Short = "", suggestion: Short = ""
) -> Response:
    """Add a word with its plain suggestion, or change a suggestion."""
    try:
        jargon_store.set_term(db, actor, term, suggestion)
    except UserError as exc:
        status, message = failed(db, exc)
        form = {"term": term, "suggestion": suggestion}
        return _page(request, db, actor, status, form=form, error=message)
    return done(request, "/admin/jargon", gettext("The jargon list was saved."))


@router.post("/admin/jargon/remove", dependencies=Csrf)
def remove_term(request: Request, actor: Admin, db: DB, term: Short = "") -> Response:
    """Take a word off the list."""
    try:
        jargon_store.remove_term(db, actor, term)
    except UserError as exc:
        status, message = failed(db, exc)
        return _page(request, db, actor, status, error=message)
    return done(request, "/admin/jargon", gettext("The word was removed from the list."))


@router.post("/admin/jargon/restore", dependencies=Csrf)
def restore(request: Request, actor: Admin, db: DB, keep_own: Short = "") -> Response:
    """Bring back the default list (keeping the organisation's own words, or not)."""
    jargon_store.restore_defaults(db, actor, keep_own=keep_own == "1")
    return done(request, "/admin/jargon", gettext("The default words were restored."))
