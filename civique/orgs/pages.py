"""Helpers shared by the administration and platform pages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from civique.errors import NotFound, UserError, error_message
from civique.llm.types import ModelInfo
from civique.web.deps import render


def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """Render an admin page with the one-shot notice left by the previous redirect."""
    context.setdefault("error", None)
    return render(
        request, template, status=status, notice=request.session.pop("flash", None), **context
    )


def done(request: Request, target: str, message: str) -> Response:
    """Redirect after a successful change (post/redirect/get), with a notice for the next page."""
    request.session["flash"] = message
    return RedirectResponse(target, 303)


def failed(db: Session, exc: UserError) -> tuple[int, str]:
    """Drop the half-made change and give the status and translated message to show."""
    db.rollback()
    return exc.status, error_message(exc)


def registry_models(request: Request) -> list[ModelInfo]:
    """Every model the instance serves."""
    return list(request.app.state.gateway.registry.models())


def optional_id(value: str) -> int | None:
    """An id chosen in a select: empty means none; anything else must be a number."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise NotFound()
    return int(value)
