"""PostgreSQL for the scale benchmark: bulk COPY, then the index code's own DDL.

`pgserver` (a wheel with PostgreSQL 16 and pgvector 0.6) starts a throw-away server. The system
PostgreSQL 15 has no pgvector: the index falls back to exact `real[]`. Index DDL and names come
from `civique.documents.index_pg`, so the tables are the product's.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from civique.documents import index_pg
from civique.documents.index import fold

SYSTEM_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_COLUMNS = ("id", "org_id", "collection_id", "document_id", "version_id", "ordinal", "section",
            "end_section", "page", "label", "start", "end", "text", "embedded")
_QUOTED = ", ".join(f'"{c}"' for c in _COLUMNS)


@contextlib.contextmanager
def pgvector_server() -> Iterator[Callable[[str], str]]:
    """A PostgreSQL 16 + pgvector server; yields a function making a fresh database's URL."""
    import pgserver

    with tempfile.TemporaryDirectory(prefix="civique-pg-") as tmp:
        server = pgserver.get_server(Path(tmp) / "data", cleanup_mode="delete")
        try:
            def url_for(name: str) -> str:
                server.psql(f"CREATE DATABASE {name};")
                url = make_url(server.get_uri(name)).set(drivername="postgresql+psycopg")
                return url.render_as_string(hide_password=False)

            yield url_for
        finally:
            server.cleanup()


@contextlib.contextmanager
def system_database() -> Iterator[str | None]:
    """A fresh database on the system PostgreSQL (None when it does not answer), dropped after."""
    name = f"civique_scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SYSTEM_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception:  # no server here: skip this row, say so in the table
        admin.dispose()
        yield None
        return
    try:
        yield SYSTEM_SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _split(ddl: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The index code's DDL as (tables and settings, indexes): indexes are built after the load."""
    return ([d for d in ddl if "CREATE INDEX" not in d], [d for d in ddl if "CREATE INDEX" in d])


def load(engine: Engine, batches: Iterator[tuple[list[Any], np.ndarray]],
         database: str) -> tuple[float, float]:
    """COPY chunks and vectors, fill the keyword table; returns (load, index build) seconds."""
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        pgvector = _pgvector(connection)
        if pgvector:
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        search_ddl, search_indexes = _split(index_pg._SEARCH_DDL)
        vector_ddl, vector_indexes = _split(index_pg._vector_ddl(384, pgvector))
        for ddl in (*search_ddl, *vector_ddl):
            connection.execute(ddl)
        connection.execute("CREATE TEMP TABLE folded (id int, collection_id int, body text)")
        for rows, vectors in batches:
            _copy(connection, rows, vectors, pgvector)
        # The index folds accents in Python before to_tsvector (`fold`): same here, in bulk.
        connection.execute(
            "INSERT INTO chunk_search(chunk_id, collection_id, tsv) SELECT id, collection_id, "
            f"to_tsvector('{index_pg._CONFIG}', body) FROM folded")
        connection.execute("DROP TABLE folded")
        connection.commit()
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        # Index builds after the load, as a bulk import would; 2 GB so HNSW builds in memory.
        connection.execute("SET maintenance_work_mem = '2GB'")
        for ddl in (*search_indexes, *vector_indexes):
            connection.execute(ddl)
        connection.execute("ANALYZE")
        connection.commit()
        return loaded, time.perf_counter() - started
    finally:
        raw.close()


def _pgvector(connection: Any) -> bool:
    found = connection.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    return found is not None


def _copy(connection: Any, rows: list[Any], vectors: np.ndarray, pgvector: bool) -> None:
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY chunks ({_QUOTED}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        with cursor.copy("COPY folded (id, collection_id, body) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row[0], row[2], fold(row[12])))
        with cursor.copy("COPY chunk_vectors (chunk_id, collection_id, document_id, media_type, "
                         "day, embedding) FROM STDIN") as copy:
            for row, vector in zip(rows, vectors, strict=True):
                values = ",".join(f"{v:.6g}" for v in vector)
                literal = f"[{values}]" if pgvector else f"{{{values}}}"
                copy.write_row((row[0], row[2], row[3], "text/plain", 0, literal))
