"""Organisation pages: logo, and (admin) units, teams, users, models, branding, organisations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from civique.auth.models import User
from civique.errors import NotFound
from civique.orgs.models import Organisation
from civique.web.deps import DB, require

router = APIRouter()
Member = Annotated[User, Depends(require("chat.use"))]


@router.get("/org/logo")
def logo(user: Member, db: DB) -> Response:
    """The logo of the user's own organisation."""
    org = db.get(Organisation, user.org_id)
    if org is None or not org.logo:
        raise NotFound()
    return Response(
        org.logo,
        media_type=org.logo_mime or "application/octet-stream",
        headers={"Cache-Control": "private, max-age=300"},
    )
