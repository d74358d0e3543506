"""Every feature's background tasks, registered on one queue (web process and workers alike)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from huey import Huey
from sqlalchemy.orm import Session, sessionmaker

from civique.documents.ingest import IngestContext
from civique.documents.jobs import register as register_documents
from civique.documents.storage import FileStore
from civique.governance.jobs import register as register_governance
from civique.jobs.queue import make_queue
from civique.lab.jobs import register as register_lab
from civique.llm.gateway import Gateway
from civique.settings import Settings


@dataclass
class Jobs:
    """The queue and the functions that enqueue each kind of job."""

    queue: Huey
    ingest: IngestContext
    enqueue_ingestion: Callable[[int], object]
    purge_retention: Callable[[], int]  # runs the daily retention purge now
    refresh_rollups: Callable[[], int]  # rolls up the Lab's missing closed weeks now


def file_store(settings: Settings) -> FileStore:
    """Where uploaded files live (under the data directory)."""
    return FileStore(settings.data_dir / "uploads")


def register_all(settings: Settings, sessions: sessionmaker[Session], gateway: Gateway) -> Jobs:
    """Make the queue and register every task on it."""
    queue = make_queue(settings)
    ingest = IngestContext(sessions, file_store(settings), gateway, settings)
    enqueue_ingestion = register_documents(queue, ingest)
    purge = register_governance(queue, sessions, gateway.vault, ingest.store, settings)
    refresh = register_lab(queue, sessions, settings)
    return Jobs(queue, ingest, enqueue_ingestion, purge, refresh)


def build_worker_context(settings: Settings) -> Huey:
    """For `civique worker`: database, gateway and tasks of a standalone worker process."""
    from civique.db.engine import make_engine, make_session_factory
    from civique.db.registry import Base
    from civique.llm.registry import build_registry

    # Every feature's tables must be mapped before the first flush (foreign keys across features).
    Base.registry.configure()

    sessions = make_session_factory(make_engine(settings.sqlalchemy_url, settings.database_echo))
    return register_all(
        settings, sessions, Gateway(build_registry(settings), sessions, settings)
    ).queue
