"""The data-protection officer's page for a data subject: find their traces, erase them.

The name or identifier is always sent in a form (POST), never in a URL: URLs end up in browser
histories and proxies' logs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from civique.auth.models import User
from civique.errors import UserError, error_message
from civique.governance import subjects
from civique.governance.policy import legal_hold
from civique.i18n import gettext
from civique.orgs.pages import done as finished
from civique.orgs.pages import page
from civique.web.deps import DB, check_csrf, require

router = APIRouter()
Dpo = Annotated[User, Depends(require("register.read"))]
Csrf = [Depends(check_csrf)]
Value = Annotated[str, Form(max_length=400)]
TEMPLATE = "register/subject.html"


@router.get("/subjects", name="subjects")
def subject_page(request: Request, actor: Dpo) -> Response:
    """The search form."""
    return page(request, TEMPLATE, value="", traces=None)


@router.post("/subjects", dependencies=Csrf)
def subject_search(request: Request, actor: Dpo, db: DB, value: Value = "") -> Response:
    """Where the value appears: register entries and conversations."""
    vault = request.app.state.gateway.vault
    try:
        traces = subjects.find(db, vault, actor, value)
    except UserError as exc:
        return page(request, TEMPLATE, exc.status, error=error_message(exc), value=value,
                    traces=None)
    return page(request, TEMPLATE, value=value, traces=traces)


@router.post("/subjects/erase", dependencies=Csrf)
def subject_erase(
    request: Request, actor: Dpo, db: DB, value: Value = "",
    reference: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Erase the value everywhere in the organisation (vault, conversations, records)."""
    vault = request.app.state.gateway.vault
    try:
        done = subjects.erase(db, vault, actor, value, reference, legal_hold)
    except UserError as exc:
        traces = None
        if exc.code != "subject_length":
            traces = subjects.find(db, vault, actor, value)
        return page(request, TEMPLATE, exc.status, error=error_message(exc), value=value,
                    traces=traces)
    notice = gettext(
        "Erased. Vault entries deleted: %(entries)s; messages redacted: %(messages)s; register "
        "entries redacted: %(outputs)s. The register keeps its entries, pseudonymised, with an "
        "erasure event.",
        entries=done.vault_entries, messages=done.messages, outputs=done.outputs,
    )
    return finished(request, "/subjects", notice)
