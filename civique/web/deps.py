"""Request dependencies: database session, current user, `require(action)`, CSRF, rendering."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.auth.service import user_for_token
from civique.errors import UserError, error_message
from civique.governance import charter
from civique.i18n import gettext
from civique.orgs.models import Organisation
from civique.settings import Settings


class LoginRequired(Exception):
    """Raised for a page that needs a session; answered with a redirect to the login page."""


class PageForbidden(Exception):
    """Raised when the user's role lacks the action; answered with a 403 page."""


class CharterRequired(Exception):
    """Raised when the user must first accept the charter; answered with a redirect to it."""


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """A database session for the request."""
    with request.app.state.sessions() as session:
        yield session


DB = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def session_user(request: Request, db: Session) -> User | None:
    """The user of a valid session cookie (active, same epoch, organisation active)."""
    uid = request.session.get("uid")
    if not uid:
        return None
    user = db.get(User, uid)
    if user is None or not user.active or user.session_epoch != request.session.get("epoch"):
        request.session.pop("uid", None)
        return None
    org = db.get(Organisation, user.org_id)
    if org is None or not org.active:
        return None
    return user


def optional_user(request: Request, db: DB) -> User | None:
    """The logged-in user, if any."""
    return session_user(request, db)


def release_connection(db: Session) -> None:
    """End the session's transaction so its pooled connection goes back at once.

    Routes that stream for minutes would otherwise hold one connection each until the end and
    exhaust the pool (the objects stay usable: sessions do not expire them on commit).
    """
    db.commit()


def require(action: str) -> Callable[..., User]:
    """Dependency for pages: a logged-in user whose role allows `action`."""

    def dependency(request: Request, db: DB) -> User:
        user = session_user(request, db)
        if user is None:
            raise LoginRequired()
        if not can(user.role, action):
            raise PageForbidden()
        request.state.user = user
        if charter.needs_acceptance(db, user, action) is not None:
            raise CharterRequired()
        release_connection(db)
        return user

    dependency.__name__ = f"require_{action.replace('.', '_')}"
    return dependency


def require_api(action: str) -> Callable[..., User]:
    """Dependency for the JSON API: a personal token (Bearer) or a session, allowing `action`."""

    def dependency(request: Request, db: DB) -> User:
        header = request.headers.get("authorization", "")
        user = None
        if header.lower().startswith("bearer "):
            user = user_for_token(db, header[7:].strip())
        elif "session" in request.scope:
            user = session_user(request, db)
            if user is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
                # A browser session may change things only from our own pages' scripts, which
                # send the session's CSRF token; a cross-site form cannot.
                expected = str(request.session.get("csrf") or "")
                sent = request.headers.get("x-csrf-token") or ""
                if not expected or not secrets.compare_digest(expected, sent):
                    raise HTTPException(403, api_error_body(UserError("csrf", 403)))
        if user is None:
            raise HTTPException(
                401,
                _api_error("unauthorized", gettext("Authentication required.")),
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not can(user.role, action):
            raise HTTPException(403, api_error_body(UserError("forbidden", 403)))
        if charter.needs_acceptance(db, user, action) is not None:
            # Tokens act for their owner: the owner accepts once, on the page.
            refused = UserError("charter_not_accepted", 403, url=f"{request.base_url}charter")
            raise HTTPException(403, api_error_body(refused))
        request.state.user = user
        release_connection(db)
        return user

    return dependency


def _api_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": "invalid_request_error"}}


def api_error_body(exc: UserError) -> dict[str, Any]:
    """OpenAI-style error body for a `UserError`."""
    return _api_error(exc.code, error_message(exc))


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """Refuse state-changing requests without the session's CSRF token (form field or header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.session.get("csrf")
    if not expected:  # the session cookie expired or was lost: log in again, then come back
        raise LoginRequired()
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(str(expected), sent):
        raise UserError("csrf", 403)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the common context (user, organisation, CSRF token, language)."""
    templates = request.app.state.templates
    user: User | None = getattr(request.state, "user", None)
    org = None
    if user is not None:
        with request.app.state.sessions() as db:
            org = db.get(Organisation, user.org_id)
    context.setdefault("user", user)
    context["org"] = org
    context["csrf_token"] = csrf_token(request)
    context["current_path"] = request.url.path
    context["login_next"] = quote(str(request.url.path))
    context["settings"] = request.app.state.settings
    return templates.TemplateResponse(request, template, context, status_code=status)
