"""PostgreSQL index: tsvector (French stemming) and pgvector HNSW.

Accents are folded in Python before indexing and querying (`index.fold`): the effect of the
`unaccent` extension, without needing it installed (pgvector builds often ship without contrib).

Both tables reference `chunks` with ON DELETE CASCADE. Without the pgvector extension (Debian's
PostgreSQL 15 has no package), vectors are stored as `real[]` and compared exactly in SQL: correct,
but slow beyond ~100k chunks; `vector_mode` tells which is in use.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, text
from sqlalchemy.orm import Session

from civique.documents.index import Filters, IndexRow, allowed_sql, fold, query_terms

_CONFIG = "french"
# A query word in at least this many chunks is too common to select candidates by itself.
COMMON_ROWS = 1000
# At most this many matching chunks are ranked per query (bounds the cost at any index size;
# measured at a million chunks, warm: keyword p95 25 ms with these two, 42 ms with 2,000
# candidates, 8,152 ms ranking every match).
MAX_CANDIDATES = 1000
# HNSW candidates per scan (pgvector's default is 40); without iterative scans (pgvector < 0.8)
# the access filter applies after them, hence more (pgvector allows at most 1,000).
EF_SEARCH = 100
EF_SEARCH_WITHOUT_ITERATION = 400
_SEARCH_DDL = (
    "CREATE TABLE IF NOT EXISTS chunk_search ("
    "chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE, "
    "collection_id INTEGER NOT NULL, tsv tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_chunk_search_tsv ON chunk_search USING gin (tsv)",
    "CREATE INDEX IF NOT EXISTS ix_chunk_search_collection ON chunk_search (collection_id)",
)


_VECTOR_FROM = (
    "SELECT cv.chunk_id FROM chunk_vectors cv "
    "JOIN chunks c ON c.id = cv.chunk_id JOIN document_versions v ON v.id = c.version_id "
)


def _vector_ddl(dimension: int, pgvector: bool) -> tuple[str, ...]:
    column = f"vector({dimension})" if pgvector else "real[]"
    ddl = [
        "CREATE TABLE IF NOT EXISTS chunk_vectors ("
        "chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE, "
        "collection_id INTEGER NOT NULL, document_id INTEGER NOT NULL, media_type TEXT, "
        f"day INTEGER NOT NULL, embedding {column} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS ix_chunk_vectors_collection ON chunk_vectors (collection_id)",
    ]
    if pgvector:
        ddl.append(
            "CREATE INDEX IF NOT EXISTS ix_chunk_vectors_hnsw ON chunk_vectors "
            "USING hnsw (embedding vector_ip_ops)"
        )
    return tuple(ddl)


def vector_mode(session: Session) -> str:
    """`pgvector` when the extension can be used, else `exact` (real[] arrays)."""
    found = session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")).first()
    if found:
        return "pgvector"
    available = session.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    return "pgvector" if available else "exact"


def _vector_literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in vector) + "]"


class PostgresIndex:
    """Keyword (ts_rank_cd) and vector (inner product; vectors are unit length) lookups."""

    def ensure(self, session: Session) -> None:
        """Create the text-search configuration and keyword table (idempotent)."""
        if session.execute(text("SELECT to_regclass('chunk_search')")).scalar() is None:
            # Concurrent first ingestions: one creates, the others wait on the lock, then see it.
            session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
            for ddl in _SEARCH_DDL:
                session.execute(text(ddl))

    def add_texts(self, session: Session, rows: list[tuple[IndexRow, str]]) -> None:
        """Index chunk texts for keyword search."""
        self.ensure(session)
        session.execute(
            text(
                "INSERT INTO chunk_search(chunk_id, collection_id, tsv) "
                f"VALUES (:id, :collection, to_tsvector('{_CONFIG}', :text)) "
                "ON CONFLICT (chunk_id) DO NOTHING"
            ),
            [
                {"id": r.chunk_id, "collection": r.collection_id, "text": fold(body)}
                for r, body in rows
            ],
        )

    def _ensure_vectors(self, session: Session, dimension: int) -> bool:
        if session.execute(text("SELECT to_regclass('chunk_vectors')")).scalar() is not None:
            return self._uses_pgvector(session)
        session.execute(text("SELECT pg_advisory_xact_lock(4242002)"))
        pgvector = vector_mode(session) == "pgvector"
        if pgvector:
            session.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        for ddl in _vector_ddl(dimension, pgvector):
            session.execute(text(ddl))
        return pgvector

    def _uses_pgvector(self, session: Session) -> bool:
        kind = session.execute(
            text(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'chunk_vectors'::regclass AND attname = 'embedding'"
            )
        ).scalar()
        return str(kind).startswith("vector")

    def add_vectors(self, session: Session, rows: list[tuple[IndexRow, list[float]]]) -> None:
        """Store vectors (pgvector when available, else real[])."""
        if not rows:
            return
        pgvector = self._ensure_vectors(session, len(rows[0][1]))
        cast = "CAST(:vector AS vector)" if pgvector else "CAST(:vector AS real[])"
        session.execute(
            text(
                "INSERT INTO chunk_vectors"
                "(chunk_id, collection_id, document_id, media_type, day, embedding) "
                f"VALUES (:id, :collection, :document, :media, :day, {cast}) "
                "ON CONFLICT (chunk_id) DO UPDATE SET embedding = EXCLUDED.embedding"
            ),
            [
                {
                    "id": r.chunk_id,
                    "collection": r.collection_id,
                    "document": r.document_id,
                    "media": r.media_type,
                    "day": r.day,
                    "vector": _vector_literal(v)
                    if pgvector
                    else "{" + _vector_literal(v)[1:-1] + "}",
                }
                for r, v in rows
            ],
        )

    def drop_vectors(self, session: Session) -> None:
        """Drop the vector table (its HNSW index goes with it)."""
        session.execute(text("DROP TABLE IF EXISTS chunk_vectors"))

    def remove_versions(self, session: Session, version_ids: list[int]) -> None:
        """Nothing to do: both tables cascade from `chunks`."""

    def keyword(
        self,
        session: Session,
        query: str,
        allowed: Select[int],
        filters: Filters,
        limit: int,
    ) -> list[int]:
        """Content words of `query` (French stems), ranked by cover density over all of them.

        Matching uses the words found in fewer than `COMMON_ROWS` chunks (all of them in a small
        index); a query made only of common words matches chunks that have them all. Ranking
        reads at most `MAX_CANDIDATES` matching chunks: at a million chunks, ranking every chunk
        holding "demande" or "commune" cost seconds, and such words barely tell chunks apart.
        """
        terms = query_terms(query)
        if (
            not terms
            or session.execute(text("SELECT to_regclass('chunk_search')")).scalar() is None
        ):
            return []
        counted = _term_counts(session, terms)
        if not counted:
            return []
        rare = [term for term, rows in counted if rows < COMMON_ROWS]
        match = " | ".join(rare) if rare else " & ".join(term for term, _ in counted)
        conditions, params = _filters_sql(filters, "s")
        # The terms are stemmed already: cast, not to_tsquery, so they are not stemmed twice.
        sql = (
            "WITH q AS (SELECT CAST(:rank AS tsquery) AS rank, "
            "CAST(:match AS tsquery) AS match), "
            "candidates AS (SELECT s.chunk_id, s.tsv FROM chunk_search s "
            "JOIN chunks c ON c.id = s.chunk_id JOIN document_versions v ON v.id = c.version_id, q "
            f"WHERE s.tsv @@ q.match AND s.collection_id IN ({allowed_sql(session, allowed)})"
            f"{conditions} LIMIT :candidates) "
            "SELECT chunk_id FROM candidates, q "
            "ORDER BY ts_rank_cd(candidates.tsv, q.rank) DESC, chunk_id LIMIT :limit"
        )
        params.update(
            rank=" | ".join(term for term, _ in counted),
            match=match,
            candidates=MAX_CANDIDATES,
            limit=limit,
        )
        return [r[0] for r in session.execute(text(sql), params)]

    def nearest(
        self,
        session: Session,
        vector: list[float],
        allowed: Select[int],
        filters: Filters,
        limit: int,
    ) -> list[int]:
        """Nearest by inner product; HNSW with iterative scans so filters still fill `limit`."""
        if session.execute(text("SELECT to_regclass('chunk_vectors')")).scalar() is None:
            return []
        conditions, params = _filters_sql(filters, "cv")
        where = f"cv.collection_id IN ({allowed_sql(session, allowed)}){conditions}"
        if self._uses_pgvector(session):
            _hnsw_settings(session)
            sql = (
                _VECTOR_FROM
                + f"WHERE {where} ORDER BY cv.embedding <#> CAST(:vector AS vector) LIMIT :limit"
            )
            params["vector"] = _vector_literal(vector)
        else:
            sql = (
                _VECTOR_FROM
                + f"WHERE {where} ORDER BY (SELECT sum(a * b) FROM unnest(cv.embedding, "
                "CAST(:vector AS real[])) AS t(a, b)) DESC LIMIT :limit"
            )
            params["vector"] = "{" + _vector_literal(vector)[1:-1] + "}"
        params["limit"] = limit
        return [r[0] for r in session.execute(text(sql), params)]


def _hnsw_settings(session: Session) -> None:
    """Search settings of this transaction's HNSW scans. pgvector 0.8 goes on scanning until
    the access filter leaves enough rows (iterative scans); older releases stop after
    `ef_search` candidates, so they look at more of them to fill the page after filtering."""
    version = session.execute(
        text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    ).scalar()
    if _release(str(version or "0")) >= (0, 8):
        session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
        session.execute(text(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}"))
    else:
        session.execute(text(f"SET LOCAL hnsw.ef_search = {EF_SEARCH_WITHOUT_ITERATION}"))


def _release(version: str) -> tuple[int, ...]:
    """'0.8.2' as (0, 8, 2); a part that is not a number counts as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def _term_counts(session: Session, terms: list[str]) -> list[tuple[str, float]]:
    """Each term as a tsquery (plainto_tsquery's parsing: quote-safe, stemmed) with the number of
    chunks estimated to hold it, from the planner's statistics on the tsvector column: its most
    common lexemes and their frequencies (a lexeme not among them is rarer than all of them; an
    index never analysed counts nothing as common). Reading them costs ~3 ms at any size, where
    counting matches in the index cost ~100 ms at a million chunks. Terms that stem to nothing
    are left out."""
    rows = session.execute(
        text(
            "WITH stats AS (SELECT CAST(CAST(s.most_common_elems AS text) AS text[]) AS lexemes, "
            "s.most_common_elem_freqs AS freqs, greatest(c.reltuples, 0) AS total "
            "FROM pg_stats s JOIN pg_class c ON c.oid = to_regclass('chunk_search') "
            "WHERE s.tablename = 'chunk_search' AND s.attname = 'tsv' "
            "AND s.schemaname = current_schema()) "
            "SELECT CAST(q AS text), coalesce((SELECT freqs[array_position(lexemes, "
            "btrim(CAST(q AS text), ''''))] * total FROM stats), 0) "
            "FROM unnest(CAST(:terms AS text[])) WITH ORDINALITY AS t(term, n), "
            f"LATERAL plainto_tsquery('{_CONFIG}', t.term) AS q "
            "WHERE CAST(q AS text) <> '' ORDER BY t.n"
        ),
        {"terms": terms},
    ).all()
    return [(f"({query})", float(count)) for query, count in rows]


def _filters_sql(filters: Filters, alias: str) -> tuple[str, dict[str, Any]]:
    """SQL conditions on versions `v` and chunks `c` for the optional filters."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    if filters.media_types:
        parts.append("v.media_type = ANY(:media)")
        params["media"] = list(filters.media_types)
    if filters.since:
        parts.append("v.created_at >= :since")
        params["since"] = filters.since
    if filters.until:
        parts.append("v.created_at < (CAST(:until AS date) + 1)")
        params["until"] = filters.until
    if filters.document_ids:
        parts.append("c.document_id = ANY(:docs)")
        params["docs"] = list(filters.document_ids)
    del alias  # conditions use the joined chunk and version rows in both queries
    return "".join(f" AND {p}" for p in parts), params
