"""SQLite index: FTS5 over chunk texts (accents folded) and a sqlite-vec `vec0` table of vectors.

Virtual tables have no foreign keys, so triggers on `chunks` keep both in step with deletions
(a deleted document, version or collection takes its index rows with it).
"""

from __future__ import annotations

import struct
from typing import Any

import sqlite_vec
from sqlalchemy import Select, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from civique.documents.index import Filters, IndexRow, allowed_sql, light_stem, query_terms

_FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5("
    "text, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN "
    "INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
)
_VEC_TABLE = "chunk_vectors"


def load_vec_extension(dbapi_conn: Any, _record: Any) -> None:
    """Load sqlite-vec into every new connection (pysqlite3 allows extensions)."""
    dbapi_conn.enable_load_extension(True)
    sqlite_vec.load(dbapi_conn)
    dbapi_conn.enable_load_extension(False)


def install(engine: Engine) -> None:
    """Load sqlite-vec on each connection of `engine`."""
    event.listen(engine, "connect", load_vec_extension)


def _vec_ddl(dimension: int) -> tuple[str, ...]:
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {_VEC_TABLE} USING vec0("
        "chunk_id INTEGER PRIMARY KEY, collection_id INTEGER, document_id INTEGER, "
        f"media_type TEXT, day INTEGER, embedding float[{dimension}] distance_metric=cosine)",
        f"CREATE TRIGGER IF NOT EXISTS chunk_vectors_delete AFTER DELETE ON chunks BEGIN "
        f"DELETE FROM {_VEC_TABLE} WHERE chunk_id = old.id; END",
    )


def _has_table(session: Session, name: str) -> bool:
    found = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE name = :name"), {"name": name}
    ).first()
    return found is not None


def fts_query(query: str) -> str:
    """An FTS5 expression: any content word (prefix-matched on its light stem), quoted."""
    terms = [light_stem(t) for t in query_terms(query)]
    return " OR ".join(f'"{t}"*' for t in dict.fromkeys(terms))


class SqliteIndex:
    """Keyword (BM25) and vector (exact cosine) lookups, the access rule inside each query."""

    def ensure(self, session: Session) -> None:
        """Create the keyword table and its trigger (idempotent)."""
        for ddl in _FTS_DDL:
            session.execute(text(ddl))

    def add_texts(self, session: Session, rows: list[tuple[IndexRow, str]]) -> None:
        """Index chunk texts (rows of `chunks` already written in this transaction)."""
        self.ensure(session)
        session.execute(
            text("INSERT INTO chunks_fts(rowid, text) VALUES (:id, :text)"),
            [{"id": row.chunk_id, "text": body} for row, body in rows],
        )

    def add_vectors(self, session: Session, rows: list[tuple[IndexRow, list[float]]]) -> None:
        """Store vectors; the vec0 table is created at the first vectors' dimension."""
        if not rows:
            return
        for ddl in _vec_ddl(len(rows[0][1])):
            session.execute(text(ddl))
        # vec0 ignores INSERT OR REPLACE (it raises on an existing id): replace by hand.
        session.execute(
            text(f"DELETE FROM {_VEC_TABLE} WHERE chunk_id = :id"),
            [{"id": row.chunk_id} for row, _ in rows],
        )
        session.execute(
            text(
                f"INSERT INTO {_VEC_TABLE}"
                "(chunk_id, collection_id, document_id, media_type, day, embedding) "
                "VALUES (:id, :collection, :document, :media, :day, :vector)"
            ),
            [
                {
                    "id": row.chunk_id,
                    "collection": row.collection_id,
                    "document": row.document_id,
                    "media": row.media_type,
                    "day": row.day,
                    "vector": struct.pack(f"{len(vector)}f", *vector),
                }
                for row, vector in rows
            ],
        )

    def drop_vectors(self, session: Session) -> None:
        """Drop the vec0 table and its trigger."""
        session.execute(text("DROP TRIGGER IF EXISTS chunk_vectors_delete"))
        session.execute(text(f"DROP TABLE IF EXISTS {_VEC_TABLE}"))

    def remove_versions(self, session: Session, version_ids: list[int]) -> None:
        """Nothing to do: the triggers on `chunks` remove index rows with their chunks."""

    def keyword(
        self,
        session: Session,
        query: str,
        allowed: Select[int],
        filters: Filters,
        limit: int,
    ) -> list[int]:
        """BM25 over FTS5, joined to chunks whose collection is in `allowed`."""
        expression = fts_query(query)
        if not expression:
            return []
        self.ensure(session)
        allowed_clause = allowed_sql(session, allowed)
        params: dict[str, Any] = {}
        conditions, filter_params = _chunk_filters(filters)
        sql = (
            "SELECT c.id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
            "JOIN document_versions v ON v.id = c.version_id "
            f"WHERE chunks_fts MATCH :fts AND c.collection_id IN ({allowed_clause}) {conditions} "
            "ORDER BY bm25(chunks_fts) LIMIT :limit"
        )
        params.update(filter_params, fts=expression, limit=limit)
        return [r[0] for r in session.execute(text(sql), params)]

    def nearest(
        self,
        session: Session,
        vector: list[float],
        allowed: Select[int],
        filters: Filters,
        limit: int,
    ) -> list[int]:
        """Exact k-nearest over vec0 with the collection (and filters) as metadata constraints."""
        if not _has_table(session, _VEC_TABLE):
            return []
        allowed_clause = allowed_sql(session, allowed)
        params: dict[str, Any] = {}
        conditions = [f"collection_id IN ({allowed_clause})"]
        if filters.media_types:
            conditions.append(_in_list("media_type", "media", filters.media_types, params))
        if filters.since:
            conditions.append("day >= :since")
            params["since"] = int(filters.since.strftime("%Y%m%d"))
        if filters.until:
            conditions.append("day <= :until")
            params["until"] = int(filters.until.strftime("%Y%m%d"))
        if filters.document_ids:
            conditions.append(_in_list("document_id", "doc", filters.document_ids, params))
        sql = (
            f"SELECT chunk_id FROM {_VEC_TABLE} WHERE embedding MATCH :vector AND k = :limit AND "
            + " AND ".join(conditions)
            + " ORDER BY distance"
        )
        params.update(vector=struct.pack(f"{len(vector)}f", *vector), limit=limit)
        return [r[0] for r in session.execute(text(sql), params)]


def _chunk_filters(filters: Filters) -> tuple[str, dict[str, Any]]:
    """SQL conditions on `c` (chunks) and `v` (versions) for the optional filters."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    if filters.media_types:
        parts.append(_in_list("v.media_type", "media", filters.media_types, params))
    if filters.since:
        parts.append("date(v.created_at) >= :since")
        params["since"] = filters.since.isoformat()
    if filters.until:
        parts.append("date(v.created_at) <= :until")
        params["until"] = filters.until.isoformat()
    if filters.document_ids:
        parts.append(_in_list("c.document_id", "doc", filters.document_ids, params))
    return "".join(f" AND {p}" for p in parts), params


def _in_list(column: str, prefix: str, values: tuple[Any, ...], params: dict[str, Any]) -> str:
    """`column IN (:prefix0, :prefix1, …)`, the values added to `params`."""
    params.update({f"{prefix}{i}": v for i, v in enumerate(values)})
    return f"{column} IN ({', '.join(f':{prefix}{i}' for i in range(len(values)))})"
