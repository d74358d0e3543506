"""The usage charter as every user reads and accepts it (`/charter`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from civique.auth.models import User
from civique.auth.routes import safe_next
from civique.errors import UserError
from civique.governance import charter
from civique.web.deps import DB, check_csrf, error_message, render, require

router = APIRouter()
# Any logged-in user: this page is where the gate of chat, documents and the API sends them.
Member = Annotated[User, Depends(require("account.manage"))]
Csrf = [Depends(check_csrf)]


def _page(
    request: Request,
    db: DB,
    user: User,
    next_page: str,
    status: int = 200,
    error: str | None = None,
) -> Response:
    current = charter.current(db, user.org_id)
    return render(
        request,
        "charter.html",
        status,
        charter=current,
        accepted=current is not None and charter.accepted(db, user, current),
        next_page=safe_next(next_page),
        error=error,
    )


@router.get("/charter", name="charter")
def charter_page(request: Request, user: Member, db: DB, next: str = "/") -> Response:
    """The current charter, and the button to accept it."""
    return _page(request, db, user, next)


@router.post("/charter/accept", dependencies=Csrf)
def accept(
    request: Request,
    user: Member,
    db: DB,
    version: Annotated[int, Form()] = 0,
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Accept the version read; then go on to the page the user was going to."""
    try:
        charter.accept(db, user, version)
    except UserError as exc:
        if exc.code != "charter_changed":
            raise
        db.rollback()
        return _page(request, db, user, next, exc.status, error_message(exc))
    return RedirectResponse(safe_next(next), 303)
