"""Login, logout, invitation and reset links, account page, API tokens, language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from civique.auth import service
from civique.auth.models import User
from civique.errors import UserError
from civique.i18n import LANGUAGES
from civique.web.deps import (
    DB,
    AppSettings,
    check_csrf,
    error_message,
    optional_user,
    render,
    require,
    session_user,
)

router = APIRouter()
Account = Annotated[User, Depends(require("account.manage"))]


def safe_next(target: str | None) -> str:
    """Only local paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def start_session(request: Request, user: User) -> None:
    """Bind the session cookie to the user (a fresh CSRF token too)."""
    chosen = request.session.get("lang")  # picked on the login page: keep it for a new account
    request.session.clear()
    request.session.update({"uid": user.id, "epoch": user.session_epoch})
    if user.language or chosen:
        request.session["lang"] = user.language or chosen


@router.get("/login", name="login")
def login_page(
    request: Request, user: Annotated[User | None, Depends(optional_user)], next: str = "/"
) -> Response:
    """The login form (or the home page when already logged in)."""
    if user is not None:
        return RedirectResponse(safe_next(next), 303)
    return render(request, "auth/login.html", next=safe_next(next), email="", error=None)


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(
    request: Request,
    db: DB,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=300)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check credentials; one message for every failure."""
    client = request.client.host if request.client else "unknown"
    try:
        user = service.authenticate(db, settings, email, password, client)
    except UserError as exc:
        return render(
            request,
            "auth/login.html",
            status=exc.status,
            next=safe_next(next),
            email=email,
            error=error_message(exc),
        )
    start_session(request, user)
    return RedirectResponse(safe_next(next), 303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request, db: DB) -> Response:
    """End the session (noted in the audit log)."""
    user = session_user(request, db)
    if user is not None:
        service.record_logout(db, user)
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/login", 303)


@router.get("/lang/{code}", name="set_language")
def set_language(request: Request, code: str, db: DB, next: str = "/") -> Response:
    """Switch the interface language (remembered in the session and on the account)."""
    if code in LANGUAGES:
        request.session["lang"] = code
        uid = request.session.get("uid")
        user = db.get(User, uid) if uid else None
        if user is not None:
            user.language = code
            db.commit()
    return RedirectResponse(safe_next(next), 303)


def _link_page(request: Request, db: DB, token: str, purpose: str) -> Response:
    try:
        _, user = service.find_link(db, token)
    except UserError as exc:
        return render(
            request,
            "auth/set_password.html",
            status=exc.status,
            error=error_message(exc),
            invalid=True,
            purpose=purpose,
            target=None,
        )
    return render(
        request, "auth/set_password.html", error=None, invalid=False, purpose=purpose, target=user
    )


def _link_submit(
    request: Request,
    db: DB,
    settings: AppSettings,
    token: str,
    purpose: str,
    password: str,
    confirm: str,
) -> Response:
    try:
        user = service.use_link(db, settings, token, password, confirm)
    except UserError as exc:
        invalid = exc.code == "link_invalid"
        target = None if invalid else service.find_link(db, token)[1]
        return render(
            request,
            "auth/set_password.html",
            status=exc.status,
            error=error_message(exc),
            invalid=invalid,
            purpose=purpose,
            target=target,
        )
    start_session(request, user)
    return RedirectResponse("/", 303)


@router.get("/invite/{token}")
def invite_page(request: Request, db: DB, token: str) -> Response:
    """Accept an invitation: choose a password."""
    return _link_page(request, db, token, "invite")


@router.post("/invite/{token}", dependencies=[Depends(check_csrf)])
def invite_submit(
    request: Request,
    db: DB,
    settings: AppSettings,
    token: str,
    password: Annotated[str, Form(max_length=1000)] = "",
    confirm: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Set the first password and log in."""
    return _link_submit(request, db, settings, token, "invite", password, confirm)


@router.get("/reset/{token}")
def reset_page(request: Request, db: DB, token: str) -> Response:
    """Password reset link issued by an administrator."""
    return _link_page(request, db, token, "reset")


@router.post("/reset/{token}", dependencies=[Depends(check_csrf)])
def reset_submit(
    request: Request,
    db: DB,
    settings: AppSettings,
    token: str,
    password: Annotated[str, Form(max_length=1000)] = "",
    confirm: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Set a new password and log in."""
    return _link_submit(request, db, settings, token, "reset", password, confirm)


@router.get("/account", name="account")
def account_page(request: Request, user: Account, db: DB) -> Response:
    """Profile and personal API tokens."""
    return render(
        request,
        "account/index.html",
        tokens=service.list_api_tokens(db, user),
        new_token=None,
        error=None,
    )


@router.post("/account/tokens", dependencies=[Depends(check_csrf)])
def create_token(
    request: Request, user: Account, db: DB, name: Annotated[str, Form(max_length=300)] = ""
) -> Response:
    """Create a token and show it once."""
    try:
        _, clear = service.create_api_token(db, user, name)
    except UserError as exc:
        return render(
            request,
            "account/index.html",
            status=exc.status,
            tokens=service.list_api_tokens(db, user),
            new_token=None,
            error=error_message(exc),
        )
    return render(
        request,
        "account/index.html",
        tokens=service.list_api_tokens(db, user),
        new_token=clear,
        error=None,
    )


@router.post("/account/tokens/{token_id}/revoke", dependencies=[Depends(check_csrf)])
def revoke_token(user: Account, db: DB, token_id: int) -> Response:
    """Revoke one of the user's tokens."""
    service.revoke_api_token(db, user, token_id)
    return RedirectResponse("/account", 303)
