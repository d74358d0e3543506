"""Ingestion as durable jobs: one task per document version, and a periodic sweep that resumes
versions whose worker died (their lease ran out), e.g. after a restart."""

from __future__ import annotations

from collections.abc import Callable

from huey import Huey, crontab

from civique.documents.ingest import IngestContext, process, run_pending


def register(queue: Huey, ctx: IngestContext) -> Callable[[int], object]:
    """Register the ingestion tasks on `queue`; returns the function that enqueues a version."""

    @queue.task(name="documents.ingest", retries=3, retry_delay=30)
    def ingest_version(version_id: int) -> str:
        return process(ctx, version_id)

    @queue.periodic_task(crontab(minute="*"), name="documents.resume")
    def resume_stalled() -> int:
        return run_pending(ctx, enqueue=ingest_version)

    @queue.on_startup(name="documents.resume_at_start")
    def resume_at_start() -> None:
        run_pending(ctx, enqueue=ingest_version)

    return ingest_version
