"""A worker killed in the middle of an ingestion loses nothing: the next worker resumes the work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from civique.db.engine import make_engine, make_session_factory
from civique.db.migrate import upgrade
from civique.demo import create_demo
from civique.documents.models import Chunk, DocumentVersion
from civique.jobs.tasks import register_all
from civique.llm.gateway import Gateway
from civique.llm.registry import build_registry
from civique.settings import Settings

pytestmark = pytest.mark.slow

ENV = {
    "CIVIQUE_EMBEDDED_ENABLED": "false",
    "CIVIQUE_DOCUMENTS_EMBED_BATCH": "2",
    "CIVIQUE_DOCUMENTS_LEASE_SECONDS": "3",
    "CIVIQUE_LOG_JSON": "false",
}


def _settings(data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        embedded_enabled=False,
        documents_embed_batch=2,
        documents_lease_seconds=3,
        log_json=False,
    )


def _worker(data_dir: Path, log_name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **ENV, "CIVIQUE_DATA_DIR": str(data_dir)}
    with (data_dir / log_name).open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "civique.cli", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _progress(sessions: object, deadline: float, done: int) -> tuple[int, int]:
    """Wait until `done` chunks are embedded (or the deadline); (embedded, total)."""
    while True:
        with sessions() as session:  # type: ignore[operator]
            embedded = session.scalar(select(func.count()).where(Chunk.embedded.is_(True))) or 0
            total = session.scalar(select(func.count()).select_from(Chunk)) or 0
        if embedded >= done or time.monotonic() > deadline:
            return embedded, total
        time.sleep(0.2)


def test_a_killed_worker_loses_nothing(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    upgrade(settings)
    create_demo(settings.model_copy(update={"embedded_embeddings_enabled": False}))
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
    jobs = register_all(settings, sessions, Gateway(build_registry(settings), sessions, settings))
    with sessions() as session:
        # The demo could not embed (no embedding model in its settings): its versions wait.
        waiting = session.scalars(select(DocumentVersion.id)).all()
    for version_id in waiting:
        jobs.enqueue_ingestion(version_id)

    time.sleep(3.5)  # the paused versions' retry lease runs out
    first = _worker(tmp_path, "first.log")
    embedded, _total = _progress(sessions, time.monotonic() + 45, 6)
    os.killpg(first.pid, signal.SIGKILL)  # no chance to clean up: like a power cut
    first.wait()
    assert embedded > 0, (tmp_path / "first.log").read_text()
    with sessions() as session:
        unfinished = session.scalar(select(func.count()).where(DocumentVersion.status != "ready"))
    assert unfinished, "the kill came too late to test a resume"

    time.sleep(3.5)  # the dead worker's lease runs out
    second = _worker(tmp_path, "second.log")
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with sessions() as session:
                states = set(session.scalars(select(DocumentVersion.status)).all())
            if states <= {"ready", "failed"}:
                break
            time.sleep(0.5)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    with sessions() as session:
        assert set(session.scalars(select(DocumentVersion.status)).all()) == {"ready"}
        chunks = session.scalar(select(func.count()).select_from(Chunk))
        vectors = session.execute(text("SELECT count(*) FROM chunk_vectors")).scalar()
        assert chunks and vectors == chunks
        # No chunk was written twice by the two workers.
        per_version = session.execute(
            select(Chunk.version_id, Chunk.ordinal, func.count())
            .group_by(Chunk.version_id, Chunk.ordinal)
            .having(func.count() > 1)
        ).all()
        assert per_version == []
    engine.dispose()
