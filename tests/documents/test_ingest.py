"""Ingestion end to end on real files: parse → chunks → keyword and vector index → search."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from civique.db.engine import make_engine
from civique.db.registry import Base
from civique.demo_documents import demo_files
from civique.documents import files, ingest, search
from civique.documents.index import Filters, IndexRow, backend_for, check_model, index_model
from civique.documents.models import Chunk, Document, DocumentSection, DocumentVersion
from civique.documents.service import create_collection
from civique.documents.storage import FileStore
from civique.errors import UserError, stored_message
from civique.llm.gateway import CallContext
from civique.llm.models import ModelCall
from tests.conftest import emptied
from tests.helpers import Tenant


@pytest.fixture(params=["sqlite", "postgresql", "pgvector"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Here also PostgreSQL with pgvector: the index has a mode per database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'civique.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return url
    return emptied(
        request.getfixturevalue("pg_url" if request.param == "postgresql" else "pgvector_url")
    )


def _ctx(app: FastAPI, tmp_path: Path) -> ingest.IngestContext:
    return ingest.IngestContext(
        app.state.sessions, FileStore(tmp_path / "uploads"), app.state.gateway, app.state.settings
    )


def _index_rows(db: Session, table: str) -> int:
    return int(db.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


@pytest.fixture
def loaded(
    app: FastAPI, db: Session, tenant: Tenant, tmp_path: Path
) -> tuple[int, ingest.IngestContext]:
    """A collection holding the demo documents, ingested."""
    agent = tenant.users["agent"]
    collection = create_collection(db, agent, "Démo", "personal")
    ctx = _ctx(app, tmp_path)
    for name, data in demo_files():
        outcome = files.add_file(db, ctx.store, ctx.settings, agent, collection.id, name, data)
        assert outcome.status == "queued", outcome
    assert ingest.run_pending(ctx) == len(demo_files())
    return collection.id, ctx


def test_every_demo_file_is_ready_with_chunks_and_vectors(
    loaded: tuple[int, ingest.IngestContext], db: Session
) -> None:
    versions = db.scalars(select(DocumentVersion)).all()
    assert {v.status for v in versions} == {"ready"}
    assert all(v.progress_done == v.progress_total > 0 for v in versions)
    chunks = db.scalar(select(func.count()).select_from(Chunk))
    assert chunks and chunks >= len(versions)
    pdf = next(v for v in versions if v.filename == "reglement-cimetiere.pdf")
    assert pdf.page_count == 4
    pages = set(db.scalars(select(Chunk.page).where(Chunk.version_id == pdf.id)).all())
    assert pages == {1, 2, 3, 4}
    assert _index_rows(db, "chunk_vectors") == chunks
    docs = db.scalars(select(Document)).all()
    assert all(d.current_version_id is not None for d in docs)


def test_keyword_search_finds_the_page(
    loaded: tuple[int, ingest.IngestContext], db: Session, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    hits = search.ranked(db, agent, "caution salle polyvalente", None, mode="keyword")
    assert hits and hits[0].filename == "reglement-salle-polyvalente.pdf"
    assert hits[0].page is not None


def test_search_never_returns_another_users_personal_collection(
    loaded: tuple[int, ingest.IngestContext], db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    strangers = (
        tenant.users["validator"],
        other_tenant.users["agent"],
        other_tenant.users["org_admin"],
    )
    for user in strangers:
        vector = asyncio.run(
            search.embed_query(
                loaded[1].gateway, CallContext(user.org_id, user.id, user.role), "fake/embed", "x"
            )
        )
        assert search.ranked(db, user, "caution salle polyvalente", vector) == []


def test_filters_narrow_by_type(
    loaded: tuple[int, ingest.IngestContext], db: Session, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    hits = search.ranked(db, agent, "inscription cantine", None, filters=Filters((docx,)))
    assert hits and {h.media_type for h in hits} == {docx}


def test_deleting_a_document_removes_it_everywhere(
    loaded: tuple[int, ingest.IngestContext], db: Session, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    ctx = loaded[1]
    document = db.scalar(select(Document).where(Document.filename == "collecte-dechets.pdf"))
    assert document is not None
    before = _index_rows(db, "chunk_vectors")
    own = db.scalar(select(func.count()).select_from(Chunk).where(Chunk.document_id == document.id))
    files.delete_document(db, ctx.store, agent, document.id)
    left = select(func.count()).select_from(Chunk).where(Chunk.document_id == document.id)
    assert db.scalar(left) == 0
    assert db.scalar(select(func.count()).select_from(DocumentSection)) > 0
    assert _index_rows(db, "chunk_vectors") == before - (own or 0)
    assert search.ranked(db, agent, "encombrants déchetterie", None, mode="keyword") == [] or all(
        h.document_id != document.id
        for h in search.ranked(db, agent, "encombrants déchetterie", None, mode="keyword")
    )


def test_vectors_use_the_databases_best_mode(
    loaded: tuple[int, ingest.IngestContext], db: Session, request: pytest.FixtureRequest
) -> None:
    backend = request.node.callspec.params["database_url"]
    if backend == "sqlite":
        assert _index_rows(db, "chunk_vectors") > 0
        return
    kind = db.execute(
        text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'chunk_vectors'::regclass AND attname = 'embedding'"
        )
    ).scalar()
    assert kind == ("vector(8)" if backend == "pgvector" else "real[]")


def test_french_words_match_across_forms_and_accents(
    loaded: tuple[int, ingest.IngestContext], db: Session, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    # "concessions" (plural, in the question) finds "concession"; "cimetiere" without accent too.
    hits = search.ranked(db, agent, "tarifs des concessions au cimetiere", None, mode="keyword")
    assert hits and hits[0].filename == "reglement-cimetiere.pdf"


def test_reindex_embeds_everything_again(
    loaded: tuple[int, ingest.IngestContext], db: Session
) -> None:
    chunks = db.scalar(select(func.count()).select_from(Chunk))
    assert ingest.reset_vectors(db) == len(demo_files())
    assert index_model(db) is None
    assert ingest.run_pending(loaded[1]) == len(demo_files())
    db.expire_all()
    assert set(db.scalars(select(DocumentVersion.status)).all()) == {"ready"}
    assert _index_rows(db, "chunk_vectors") == chunks


def test_vectors_of_another_model_are_refused(
    loaded: tuple[int, ingest.IngestContext], db: Session
) -> None:
    with pytest.raises(UserError) as refused:
        check_model(db, "embedded/multilingual-e5-small", 384)
    assert refused.value.code == "index_model_mismatch"


def test_a_document_in_an_unsupported_language_fails_with_its_reason(
    app: FastAPI, db: Session, tenant: Tenant, tmp_path: Path
) -> None:
    agent = tenant.users["agent"]
    collection = create_collection(db, agent, "Langues", "personal")
    ctx = _ctx(app, tmp_path)
    dutch = (
        b"De gemeente organiseert elke week een markt op het plein. Inwoners kunnen hun afval "
        b"gescheiden aanbieden bij het milieupark, dat op zaterdag open is van negen tot vijf."
    )
    outcome = files.add_file(db, ctx.store, ctx.settings, agent, collection.id, "nl.txt", dutch)
    assert ingest.process(ctx, outcome.version_id or 0) == "failed"
    version = db.get(DocumentVersion, outcome.version_id)
    db.refresh(version)
    assert version is not None and version.error_code == "doc_language"
    assert version.error_params == {"language": "nl"}
    assert db.scalar(select(func.count()).select_from(Chunk)) == 0


def test_stored_reasons_render_whatever_their_parameter_names() -> None:
    """Reasons kept in the database may carry parameters named like UserError's own ones."""
    message = stored_message("doc_embedding_unavailable", {"reason": "unavailable"})
    assert "unavailable" in message
    assert stored_message("doc_language", {"language": "nl", "code": "x", "status": 1})


def test_small_documents_are_embedded_together_in_full_batches(
    loaded: tuple[int, ingest.IngestContext], db: Session
) -> None:
    """One job took the other waiting documents along: every model call but the last is full."""
    chunks = db.scalar(select(func.count()).select_from(Chunk)) or 0
    batch = loaded[1].settings.documents_embed_batch
    calls = db.scalars(
        select(ModelCall.tokens_in).where(ModelCall.tool == "documents.ingest")
    ).all()
    assert len(calls) == -(-chunks // batch)  # ceil: no call for fewer than a batch but the last


def test_storing_a_chunks_vector_again_replaces_it(
    loaded: tuple[int, ingest.IngestContext], db: Session
) -> None:
    chunk = db.scalars(select(Chunk)).first()
    assert chunk is not None
    version = db.get(DocumentVersion, chunk.version_id)
    assert version is not None
    before = _index_rows(db, "chunk_vectors")
    row = IndexRow(chunk.id, chunk.collection_id, chunk.document_id, version.media_type, 20261125)
    backend = backend_for(db)
    backend.add_vectors(db, [(row, [1.0] + [0.0] * 7)])
    backend.add_vectors(db, [(row, [0.0, 1.0] + [0.0] * 6)])
    db.commit()
    assert _index_rows(db, "chunk_vectors") == before


def test_ingestion_runs_from_code_whose_event_loop_is_running() -> None:
    """`civique demo` may be called where a loop runs (browser tests, notebooks)."""

    async def inner() -> int:
        return 42

    async def outer() -> int:
        return ingest.run_sync(inner())

    assert ingest.run_sync(inner()) == 42
    assert asyncio.run(outer()) == 42
