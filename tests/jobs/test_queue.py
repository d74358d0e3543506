"""The job queue persists work in SQLite by default and in a real Redis at scale."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from civique.jobs.queue import make_queue
from civique.settings import Settings


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_job_survives_a_restart_and_runs(backend: str, tmp_path: Path) -> None:
    redis_url = (
        f"redis://127.0.0.1:6379/15?civique={uuid.uuid4().hex}" if backend == "redis" else ""
    )
    settings = Settings(_env_file=None, data_dir=tmp_path, redis_url=redis_url.split("?")[0])  # type: ignore[call-arg]
    queue = make_queue(settings)
    queue.flush()

    @queue.task()
    def double(value: int) -> int:
        return value * 2

    double(21)
    assert queue.pending_count() == 1
    restarted = make_queue(settings)  # a new process would see the same pending job
    assert restarted.pending_count() == 1
    task = queue.dequeue()
    assert task is not None and queue.execute(task) == 42
    assert queue.pending_count() == 0
    queue.flush()
