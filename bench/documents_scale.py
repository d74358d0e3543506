"""Search latency at scale: synthetic French-like chunks with random unit 384-dim vectors.

Rows are loaded in bulk (executemany on SQLite, COPY on PostgreSQL), not through ingestion; the
keyword and vector tables are then built with the index code's own DDL, and every query runs
through `civique.documents.search.ranked` (hybrid, access rule subquery inside both lookups).
Databases: SQLite (FTS5 + sqlite-vec), PostgreSQL 16 + pgvector HNSW (the `pgserver` wheel) and
the system PostgreSQL 15 without pgvector (exact `real[]` fallback).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bench.common import percentile
from bench.documents_data import SyntheticText, fiches, question_set, vocabulary
from civique.auth.models import User
from civique.auth.service import create_user
from civique.db.engine import make_engine
from civique.db.migrate import upgrade
from civique.documents import search
from civique.documents.index import IndexRow
from civique.documents.models import Collection, Document, DocumentVersion
from civique.orgs.service import create_organisation
from civique.settings import Settings

DIMENSION = 384
CHUNKS_PER_DOCUMENT = 50
OTHER_SHARE = 10  # every 10th document belongs to another user's collection: the rule filters it
QUERIES = 20
BATCH = 20_000
_CHUNK_COLUMNS = ('id, org_id, collection_id, document_id, version_id, ordinal, section, '
                  'end_section, page, label, start, "end", text, embedded')


@dataclass
class Scale:
    """Latencies (seconds) of one database at one size, and how long it took to build."""

    database: str
    size: int
    load_seconds: float
    index_seconds: float
    hybrid: list[float]
    keyword: list[float]
    vector: list[float]

    def p(self, which: str, q: float) -> float:
        """Percentile `q` of one kind of query, in milliseconds."""
        return percentile(getattr(self, which), q) * 1000


def _settings(url: str) -> Settings:
    return Settings(_env_file=None, environment="development",  # type: ignore[call-arg]
                    database_url=url, log_level="WARNING", log_json=False)


def _seed(session: Session, documents: int) -> tuple[int, list[tuple[int, int, int]]]:
    """An organisation, the searching agent, another user; (document, version, collection)."""
    org = create_organisation(session, None, "scale", "Échelle", [])
    agent = create_user(session, org.id, "agent@scale.test", "Agent", "agent")
    other = create_user(session, org.id, "other@scale.test", "Autre", "agent")
    mine = Collection(org_id=org.id, name="Mes documents", scope="personal", owner_user_id=agent.id)
    theirs = Collection(org_id=org.id, name="Les siens", scope="personal", owner_user_id=other.id)
    session.add_all([mine, theirs])
    session.flush()
    docs = []
    for i in range(documents):
        owner = theirs if i % OTHER_SHARE == 0 else mine
        docs.append(Document(org_id=org.id, collection_id=owner.id, title=f"Document {i}",
                             filename=f"doc-{i}.txt"))
    session.add_all(docs)
    session.flush()
    versions = [DocumentVersion(document_id=d.id, org_id=org.id, collection_id=d.collection_id,
                                number=1, filename=d.filename, sha256=f"{d.id:064d}",
                                size_bytes=1, media_type="text/plain", storage_key="-",
                                status="ready") for d in docs]
    session.add_all(versions)
    session.flush()
    for d, v in zip(docs, versions, strict=True):
        d.current_version_id = v.id
    session.commit()
    return agent.id, [(d.id, v.id, d.collection_id) for d, v in zip(docs, versions, strict=True)]


def _rows(size: int, docs: list[tuple[int, int, int]], org_id: int, words: SyntheticText,
          ) -> Iterator[tuple[list[tuple[Any, ...]], np.ndarray]]:
    """Batches of chunk rows and their unit vectors (deterministic)."""
    rng = np.random.default_rng(17)
    for begin in range(0, size, BATCH):
        rows = []
        for i in range(begin, min(size, begin + BATCH)):
            doc, version, collection = docs[i // CHUNKS_PER_DOCUMENT]
            body = words.chunk()
            rows.append((i + 1, org_id, collection, doc, version, i % CHUNKS_PER_DOCUMENT, 0, 0,
                         None, None, 0, len(body), body, True))
        vectors = rng.standard_normal((len(rows), DIMENSION)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        yield rows, vectors


def _load_sqlite(engine: Engine, batches: Iterator[tuple[list[Any], np.ndarray]]) -> float:
    """executemany into chunks, then FTS5 rebuild and vec0 rows (index DDL from SqliteIndex)."""
    from civique.documents.index_sqlite import SqliteIndex

    index = SqliteIndex()
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        first = True
        for rows, vectors in batches:
            skip = 1 if first else 0  # the index code writes the very first vector itself
            cursor.executemany(f"INSERT INTO chunks ({_CHUNK_COLUMNS}) VALUES "
                               f"({', '.join('?' * 14)})", rows)
            if first:  # the index code creates the vec0 table at the first vector's dimension
                raw.commit()
                with Session(engine) as session:
                    index.ensure(session)
                    row = rows[0]
                    index.add_vectors(session, [(IndexRow(row[0], row[2], row[3], "text/plain",
                                                          0), vectors[0].tolist())])
                    session.commit()
                first = False
            cursor.executemany(
                "INSERT INTO chunk_vectors(chunk_id, collection_id, document_id, "
                "media_type, day, embedding) VALUES (?, ?, ?, 'text/plain', 0, ?)",
                [(r[0], r[2], r[3], v.tobytes())
                 for r, v in zip(rows[skip:], vectors[skip:], strict=True)])
            raw.commit()
        cursor.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def _time_queries(engine: Engine, user_id: int, queries: list[str], vectors: np.ndarray,
                  ) -> tuple[list[float], list[float], list[float]]:
    """Hybrid, keyword-only and vector-only latencies of `ranked` (after two warm-up queries)."""
    out: tuple[list[float], list[float], list[float]] = ([], [], [])
    with Session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        for n, (query, vector) in enumerate(zip(queries, vectors, strict=True)):
            for mode, bucket in zip(("hybrid", "keyword", "vector"), out, strict=True):
                started = time.perf_counter()
                hits = search.ranked(session, user, query, vector.tolist(), None, None, 10, mode)
                elapsed = time.perf_counter() - started
                session.rollback()
                assert all(h.collection_name == "Mes documents" for h in hits)
                if n >= 2:
                    bucket.append(elapsed)
    return out


def _query_set(count: int) -> tuple[list[str], np.ndarray]:
    _, questions = question_set()
    texts = [q.text for q in questions[:: max(1, len(questions) // count)][:count]]
    vectors = np.random.default_rng(29).standard_normal((len(texts), DIMENSION))
    return texts, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _words() -> SyntheticText:
    corpus = [data.decode("utf-8", "replace") for _, data in fiches(5000)]
    return SyntheticText(*vocabulary(corpus))


def measure(database: str, url: str, size: int, words: SyntheticText) -> Scale:
    """Build one database of `size` chunks and time the queries."""
    from bench import documents_scale_pg

    settings = _settings(url)
    upgrade(settings)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            documents = -(-size // CHUNKS_PER_DOCUMENT)
            user_id, docs = _seed(session, documents)
            org_id = session.get(User, user_id).org_id  # type: ignore[union-attr]
        batches = _rows(size, docs, org_id, words)
        print(f"  {database}: loading {size:,} chunks…", flush=True)
        if database == "SQLite":
            load, build = _load_sqlite(engine, batches), 0.0
        else:
            load, build = documents_scale_pg.load(engine, batches, database)
        queries, vectors = _query_set(QUERIES + 2)
        hybrid, keyword, vector = _time_queries(engine, user_id, queries, vectors)
        result = Scale(database, size, load, build, hybrid, keyword, vector)
        print(f"  {database}, {size:,} chunks: hybrid p50 {result.p('hybrid', 50):,.0f} ms, "
              f"p95 {result.p('hybrid', 95):,.0f} ms; load {load:.0f} s, build {build:.0f} s",
              flush=True)
        return result
    finally:
        engine.dispose()


def run(sizes: tuple[int, ...], with_pg: bool = True, exact_size: int = 10_000,
        with_sqlite: bool = True) -> list[Scale]:
    """Every size on SQLite and PostgreSQL + pgvector; exact fallback on PostgreSQL 15 once."""
    from bench import documents_scale_pg

    words = _words()
    results = []
    for size in sizes if with_sqlite else ():
        with tempfile.TemporaryDirectory(prefix="civique-scale-") as tmp:
            results.append(measure("SQLite", f"sqlite:///{Path(tmp) / 'scale.db'}", size, words))
    if not with_pg:
        return results
    with documents_scale_pg.pgvector_server() as url_for:
        for size in sizes:
            results.append(measure("PostgreSQL 16 + pgvector", url_for(f"scale{size}"), size,
                                   words))
    if exact_size:
        with documents_scale_pg.system_database() as url:
            if url is not None:
                results.append(measure("PostgreSQL 15, exact real[]", url, exact_size, words))
    return results
