"""Hybrid search: keyword (BM25 / ts_rank) and vector results fused by reciprocal rank.

The collections a user may read are a subquery inside both index queries, so no chunk of another
collection is ever fetched, ranked or returned; UI, API and grounded chat all come through here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.documents.index import Filters, backend_for, index_model, unit
from civique.documents.models import Chunk, Collection, Document, DocumentVersion
from civique.documents.service import readable_collections_clause
from civique.errors import UserError
from civique.llm.gateway import CallContext, Gateway, GatewayError

RRF_K = 60
CANDIDATES = 50
# With vectors, the keyword ranking contributes its best 3 at half weight: measured on the CNIL
# question set (562 questions, docs/benchmarks.md), equal-weight fusion of all 50 keyword results
# lost to vectors alone (recall@5 82.6 % vs 84.2 %): the keyword list is weaker on paraphrased
# questions. Its top 3 still lift exact-word matches (codes, article numbers, names) into the first
# results: recall@5 87.0 %, on both halves of the set. Keyword-only searches use the whole list.
KEYWORD_TOP = 3
KEYWORD_WEIGHT = 0.5
QUERY_LIMIT = 1000
log = logging.getLogger(__name__)


@dataclass
class Hit:
    """One retrieved passage with where it comes from."""

    chunk_id: int
    document_id: int
    version_id: int
    collection_id: int
    collection_name: str
    title: str
    filename: str
    media_type: str
    page: int | None
    label: str | None
    section: int
    start: int
    end: int
    text: str
    score: float
    keyword_rank: int | None
    vector_rank: int | None
    rerank_score: float | None = None


def allowed_collections(user: User, collection_ids: list[int] | None) -> Select[int]:
    """Ids of collections `user` may read, narrowed to `collection_ids` when given."""
    query = select(Collection.id).where(readable_collections_clause(user))
    if collection_ids:
        query = query.where(Collection.id.in_(collection_ids))
    return query


def fuse(
    rankings: list[list[int]], k: int = RRF_K, weights: list[float] | None = None
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: score = sum of weight / (k + rank) over the rankings, best first."""
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def hybrid(keyword: list[int], nearest: list[int]) -> list[tuple[int, float]]:
    """The product's fusion: vectors, plus the keyword ranking's best at a lower weight."""
    if not nearest:
        return fuse([keyword]) if keyword else []
    if not keyword:
        return fuse([nearest])
    return fuse([nearest, keyword[:KEYWORD_TOP]], weights=[1.0, KEYWORD_WEIGHT])


def check_query(query: str) -> str:
    """The query, stripped; refuses empty or oversized ones."""
    query = " ".join(query.split())
    if not query:
        raise UserError("search_empty")
    if len(query) > QUERY_LIMIT:
        raise UserError("search_too_long", limit=QUERY_LIMIT)
    return query


async def embed_query(gateway: Gateway, ctx: CallContext, model_id: str, query: str) -> list[float]:
    """The query's vector from the index's embedding model."""
    result = await gateway.embed(ctx, model_id, [query], "query", platform=True)
    return unit(result.vectors[0])


def ranked(
    session: Session,
    user: User,
    query: str,
    vector: list[float] | None,
    collection_ids: list[int] | None = None,
    filters: Filters | None = None,
    limit: int = 10,
    mode: str = "hybrid",
) -> list[Hit]:
    """Search the collections `user` may read; `mode` is hybrid, keyword or vector."""
    filters = filters or Filters()
    allowed = allowed_collections(user, collection_ids)
    backend = backend_for(session)
    keyword = (
        backend.keyword(session, query, allowed, filters, CANDIDATES) if mode != "vector" else []
    )
    nearest = (
        backend.nearest(session, vector, allowed, filters, CANDIDATES)
        if vector is not None and mode != "keyword"
        else []
    )
    fused = hybrid(keyword, nearest)[:limit]
    return _hits(session, user, fused, keyword, nearest)


def _hits(
    session: Session,
    user: User,
    fused: list[tuple[int, float]],
    keyword: list[int],
    nearest: list[int],
) -> list[Hit]:
    """Load the fused chunks with their document and collection, in fused order."""
    if not fused:
        return []
    ids = [chunk_id for chunk_id, _ in fused]
    rows = session.execute(
        select(Chunk, Document, DocumentVersion.media_type, Collection.name)
        .join(Document, Document.id == Chunk.document_id)
        .join(DocumentVersion, DocumentVersion.id == Chunk.version_id)
        .join(Collection, Collection.id == Chunk.collection_id)
        # The access rule again on the way out: an index row can never smuggle a chunk in.
        .where(Chunk.id.in_(ids), readable_collections_clause(user))
    ).all()
    by_id = {row[0].id: row for row in rows}
    keyword_rank = {c: i for i, c in enumerate(keyword, start=1)}
    vector_rank = {c: i for i, c in enumerate(nearest, start=1)}
    hits: list[Hit] = []
    for chunk_id, score in fused:
        if chunk_id not in by_id:
            continue
        chunk, document, media_type, collection_name = by_id[chunk_id]
        hits.append(
            Hit(
                chunk.id,
                document.id,
                chunk.version_id,
                chunk.collection_id,
                collection_name,
                document.title,
                document.filename,
                media_type,
                chunk.page,
                chunk.label,
                chunk.section,
                chunk.start,
                chunk.end,
                chunk.text,
                score,
                keyword_rank.get(chunk_id),
                vector_rank.get(chunk_id),
            )
        )
    return hits


async def search(
    gateway: Gateway,
    session: Session,
    user: User,
    ctx: CallContext,
    query: str,
    collection_ids: list[int] | None = None,
    filters: Filters | None = None,
    limit: int = 10,
    *,
    reranker: str = "",
    rerank_candidates: int = 20,
) -> list[Hit]:
    """Embed the query (when the index has vectors), run the hybrid search, rerank if asked."""
    query = check_query(query)
    model = index_model(session)
    session.rollback()  # hold no database connection while the model works
    vector: list[float] | None = None
    if model is not None:
        try:
            vector = await embed_query(gateway, ctx, model[0], query)
        except GatewayError:
            vector = None  # the embedding model is down: keyword results still answer
    wanted = max(limit, rerank_candidates) if reranker else limit
    hits = ranked(session, user, query, vector, collection_ids, filters, wanted)
    if reranker and hits:  # the hits it sees already passed the access rule
        session.rollback()  # again: no connection held while the reranker works
        hits = await rerank(gateway, ctx, reranker, query, hits, rerank_candidates)
    return hits[:limit]


async def rerank(
    gateway: Gateway, ctx: CallContext, model_id: str, query: str, hits: list[Hit], candidates: int
) -> list[Hit]:
    """The first `candidates` hits reordered by the reranker's score (ties keep the fused order)."""
    head, tail = hits[:candidates], hits[candidates:]
    try:
        scores = await gateway.rerank(ctx, model_id, query, [hit.text for hit in head])
    except GatewayError as exc:  # the search still answers, in the fused order
        log.warning("reranking failed, fused order kept: %s", exc.code, extra={"model": model_id})
        return hits
    for hit, score in zip(head, scores, strict=True):
        hit.rerank_score = score
    order = sorted(range(len(head)), key=lambda i: -scores[i])  # stable: ties keep fused order
    return [head[i] for i in order] + tail
