"""Document search: the page /search and the API /api/v1/search (GET with a query string, or POST
with a JSON body). Both go through `search.search`, which applies the access rule in the index.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.documents import search, search_view, service, sniff
from civique.documents.index import Filters
from civique.documents.schemas import SearchQuery
from civique.errors import UserError, error_message
from civique.i18n import gettext
from civique.llm.gateway import CallContext
from civique.orgs.pages import optional_id, page
from civique.web.deps import DB, require, require_api

router = APIRouter()
Member = Annotated[User, Depends(require("documents.use"))]
ApiMember = Annotated[User, Depends(require_api("documents.use"))]
Many = Annotated[list[str], Query(default_factory=list, max_length=200)]
PAGE_RESULTS = 20


def _ctx(user: User, channel: str) -> CallContext:
    return CallContext(
        org_id=user.org_id,
        user_id=user.id,
        role=user.role,
        tool="documents.search",
        channel=channel,
        prompt_template="documents.search",
    )


def _chosen_ids(values: list[str]) -> list[int]:
    return [i for i in (optional_id(v) for v in values) if i is not None]


async def _run(
    request: Request, db: Session, user: User, query: SearchQuery, channel: str
) -> list[search.Hit]:
    filters = Filters(tuple(query.media_types), query.since, query.until)
    settings = request.app.state.settings
    return await search.search(
        request.app.state.gateway,
        db,
        user,
        _ctx(user, channel),
        query.query,
        query.collection_ids or None,
        filters,
        query.limit,
        reranker=settings.documents_reranker_model,
        rerank_candidates=settings.documents_rerank_candidates,
    )


def _type_labels() -> dict[str, str]:
    return {key: gettext(label) for key, (label, _) in search_view.TYPE_GROUPS.items()}


@router.get("/search", name="search")
async def search_page(
    request: Request,
    user: Member,
    db: DB,
    *,
    q: Annotated[str | None, Query(max_length=4000)] = None,
    collection: Many,
    type: Many,
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The search form, and the passages of readable documents that match the query."""
    chosen = _chosen_ids(collection)
    form = {"q": q or "", "collections": chosen, "types": type, "since": since, "until": until}
    context: dict[str, Any] = {"hits": [], "searched": False}
    status = 200
    if q is not None:
        try:
            query = SearchQuery(
                query=q,
                collection_ids=chosen,
                media_types=list(search_view.media_types(type)),
                since=search_view.parse_day(since),
                until=search_view.parse_day(until),
                limit=PAGE_RESULTS,
            )
            hits = await _run(request, db, user, query, "web")
            context = {"hits": _shown(hits, q), "searched": True}
        except UserError as exc:
            status, context["error"] = exc.status, error_message(exc)
    return page(
        request,
        "documents/search.html",
        status,
        form=form,
        collections=service.list_collections(db, user),
        type_labels=_type_labels(),
        **context,
    )


def _shown(hits: list[search.Hit], query: str) -> list[dict[str, Any]]:
    """What the page shows of each hit."""
    return [
        {
            "hit": hit,
            "kind": sniff.KIND_NAMES.get(hit.media_type, hit.media_type),
            "snippet": search_view.snippet(hit.text, query),
            "url": search_view.source_url(hit.document_id, hit.chunk_id),
        }
        for hit in hits
    ]


# API -------------------------------------------------------------------------------------------


def _api_result(hits: list[search.Hit]) -> dict[str, Any]:
    return {"object": "list", "data": [search_view.api_hit(h) for h in hits]}


@router.get("/api/v1/search", tags=["Documents"])
async def api_search(
    request: Request,
    user: ApiMember,
    db: DB,
    *,
    query: Annotated[str, Query(max_length=4000)] = "",
    collection_ids: Annotated[list[int], Query(default_factory=list, max_length=200)],
    media_types: Many,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    """Passages of the documents the caller may read that match `query`, best first."""
    body = SearchQuery(
        query=query,
        collection_ids=collection_ids,
        media_types=media_types,
        since=since,
        until=until,
        limit=limit,
    )
    return _api_result(await _run(request, db, user, body, "api"))


@router.post("/api/v1/search", tags=["Documents"])
async def api_search_post(
    request: Request, user: ApiMember, db: DB, body: SearchQuery
) -> dict[str, Any]:
    """The same search with a JSON body (for long queries or many collections)."""
    return _api_result(await _run(request, db, user, body, "api"))
