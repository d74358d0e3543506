"""The job queue: `SqliteHuey` in the data directory, or `RedisHuey` when a Redis URL is set."""

from __future__ import annotations

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from civique.settings import Settings


def make_queue(settings: Settings) -> Huey:
    """The queue jobs are enqueued on and consumed from (survives restarts)."""
    if settings.redis_url:
        return RedisHuey("civique", url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("civique", filename=str(settings.data_dir / "jobs.db"))


def run_worker(settings: Settings) -> None:
    """Consume jobs until stopped (Ctrl-C); features register their tasks on `make_queue`."""
    queue = make_queue(settings)
    Consumer(queue, workers=2, worker_type="thread").run()
