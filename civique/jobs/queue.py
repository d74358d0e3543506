"""The job queue: `SqliteHuey` in the data directory, or `RedisHuey` when a Redis URL is set.

The same tasks are registered in the web process (to enqueue, and to run them in-process in the
embedded setup) and in `civique worker` processes (at scale).
"""

from __future__ import annotations

import logging

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from civique.settings import Settings

log = logging.getLogger(__name__)


def make_queue(settings: Settings) -> Huey:
    """The queue jobs are enqueued on and consumed from (survives restarts)."""
    if settings.redis_url:
        return RedisHuey("civique", url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("civique", filename=str(settings.data_dir / "jobs.db"))


class QuietConsumer(Consumer):
    """A consumer that leaves signal handling to its host (uvicorn owns SIGINT/SIGTERM)."""

    def _set_signal_handlers(self) -> None:
        """Keep the host's handlers."""


def start_in_process(queue: Huey, workers: int = 1) -> Consumer:
    """Run a consumer in background threads of this process; stop it with `.stop()`."""
    consumer = QuietConsumer(queue, workers=workers, worker_type="thread", periodic=True)
    consumer.start()
    log.info("job worker started in process", extra={"workers": workers})
    return consumer


def run_worker(settings: Settings) -> None:
    """Consume jobs until stopped (Ctrl-C), with every feature's tasks registered."""
    from civique.jobs.tasks import build_worker_context

    queue = build_worker_context(settings)
    Consumer(queue, workers=2, worker_type="thread").run()
