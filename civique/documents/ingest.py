"""Ingestion of one document version: parse → sections and chunks → keyword index → embeddings.

The database is the source of truth: a version in state queued/parsing/embedding is unfinished
work. A worker takes it with a lease (`lease_until`) that it renews after each batch; after a crash
or restart, `resume_stalled` hands versions whose lease ran out to a worker again, and the work goes
on where it stopped (parsed sections and embedded chunks are kept). Every step is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Executable, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from civique.db.base import utcnow
from civique.documents.chunk import chunk_sections
from civique.documents.index import IndexRow, backend_for, check_model, unit
from civique.documents.models import (
    ACTIVE_STATES,
    Chunk,
    Document,
    DocumentSection,
    DocumentVersion,
    IndexSetting,
)
from civique.documents.parse import parse
from civique.documents.storage import FileStore
from civique.documents.types import ParseLimits
from civique.errors import UserError
from civique.llm.gateway import CallContext, Gateway, GatewayError
from civique.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class IngestContext:
    """What a worker needs to ingest: the database, the files, the model gateway, the settings."""

    sessions: sessionmaker[Session]
    store: FileStore
    gateway: Gateway
    settings: Settings


def parse_limits(settings: Settings) -> ParseLimits:
    """The parsing bounds configured in the settings."""
    return ParseLimits(
        max_bytes=settings.documents_max_file_bytes,
        max_pages=settings.documents_max_pages,
        max_decompressed_bytes=settings.documents_max_decompressed_bytes,
        ocr=settings.documents_ocr,
    )


def _now() -> datetime:
    return datetime.now(UTC)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code, even from a thread whose event loop is
    running (e.g. `civique demo` called by a test or a notebook): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1, thread_name_prefix="civique-ingest") as executor:
        return executor.submit(asyncio.run, coroutine).result()


def _changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE and say how many rows it changed."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def claim(session: Session, version_id: int, lease_seconds: int) -> DocumentVersion | None:
    """Take an unfinished version whose lease is free or ran out; None if another worker has it."""
    now = _now()
    taken = _changed(
        session,
        update(DocumentVersion)
        .where(
            DocumentVersion.id == version_id,
            DocumentVersion.status.in_(ACTIVE_STATES),
            or_(DocumentVersion.lease_until.is_(None), DocumentVersion.lease_until < now),
        )
        .values(
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=DocumentVersion.attempts + 1,
        ),
    )
    session.commit()
    return session.get(DocumentVersion, version_id) if taken else None


def _renew(session: Session, version_id: int, lease_seconds: int) -> bool:
    """Extend the lease; False when the version was deleted or cancelled meanwhile."""
    renewed = _changed(
        session,
        update(DocumentVersion)
        .where(DocumentVersion.id == version_id, DocumentVersion.status.in_(ACTIVE_STATES))
        .values(lease_until=_now() + timedelta(seconds=lease_seconds)),
    )
    return bool(renewed)


def _fail(session: Session, version: DocumentVersion, exc: UserError) -> None:
    version.status = "failed"
    version.error_code = exc.code
    version.error_params = {k: str(v) for k, v in exc.params.items()}
    version.lease_until = None
    version.finished_at = utcnow()
    session.commit()


def _index_row(version: DocumentVersion, chunk_id: int) -> IndexRow:
    day = int(version.created_at.strftime("%Y%m%d")) if version.created_at else 0
    return IndexRow(chunk_id, version.collection_id, version.document_id, version.media_type, day)


def _parse_step(session: Session, ctx: IngestContext, version: DocumentVersion) -> None:
    """Parse the file, store sections and chunks, index their words; state → embedding."""
    version.status = "parsing"
    session.commit()
    parsed = parse(ctx.store.get(version.storage_key), version.filename, parse_limits(ctx.settings))
    if parsed.language and parsed.language not in ctx.settings.documents_languages:
        raise UserError("doc_language", language=parsed.language)
    # A crash between here and the commit below leaves nothing half-written (one transaction).
    session.execute(delete(DocumentSection).where(DocumentSection.version_id == version.id))
    sections = [
        DocumentSection(version_id=version.id, ordinal=i, page=s.page, label=s.label, text=s.text)
        for i, s in enumerate(parsed.sections)
    ]
    session.add_all(sections)
    chunks = [
        Chunk(
            org_id=version.org_id,
            collection_id=version.collection_id,
            document_id=version.document_id,
            version_id=version.id,
            ordinal=i,
            section=c.section,
            end_section=c.end_section,
            page=c.page,
            label=c.label,
            start=c.start,
            end=c.end,
            text=c.text,
        )
        for i, c in enumerate(chunk_sections(parsed.sections))
    ]
    session.add_all(chunks)
    session.flush()
    backend_for(session).add_texts(session, [(_index_row(version, c.id), c.text) for c in chunks])
    version.media_type = parsed.media_type
    version.language = parsed.language
    version.page_count = parsed.page_count
    version.ocr_pages = list(parsed.ocr_pages)
    version.notices = [{"code": n.code, "params": n.params} for n in parsed.notices]
    version.progress_total = len(chunks)
    version.progress_done = 0
    version.status = "embedding"
    document = session.get(Document, version.document_id)
    if document is not None and version.number == 1 and parsed.title:
        document.title = parsed.title[:300]
    session.commit()


def _call_context(held: dict[int, DocumentVersion]) -> CallContext:
    """Who the embedding call is recorded for: the uploader when one person sent every held file."""
    versions = list(held.values())
    users = {v.created_by for v in versions}
    return CallContext(
        org_id=versions[0].org_id,
        user_id=users.pop() if len(users) == 1 else None,
        role="agent",
        tool="documents.ingest",
        channel="job",
    )


def _embed_batch(session: Session, ctx: IngestContext, held: dict[int, DocumentVersion]) -> bool:
    """Embed the next batch of chunks of the held versions (one model call, several documents if
    they are small); False when none is left. Versions deleted meanwhile are let go."""
    batch = session.scalars(
        select(Chunk)
        .where(Chunk.version_id.in_(list(held)), Chunk.embedded.is_(False))
        .order_by(Chunk.version_id, Chunk.ordinal)
        .limit(ctx.settings.documents_embed_batch)
    ).all()
    if not batch:
        return False
    call = _call_context(held)
    model = ctx.settings.documents_embedding_model
    session.rollback()  # no transaction held while the model works
    result = run_sync(
        ctx.gateway.embed(call, model, [c.text for c in batch], "passage", platform=True)
    )
    ids = [c.id for c in batch]
    marked = _changed(
        session,
        update(Chunk).where(Chunk.id.in_(ids), Chunk.embedded.is_(False)).values(embedded=True),
    )
    if marked != len(ids):
        session.rollback()  # a document was deleted (or cancelled) while embedding: write nothing
        _let_go_of_vanished(session, held)
        return bool(held)
    check_model(session, model, len(result.vectors[0]))
    vectors = [unit(v) for v in result.vectors]
    backend_for(session).add_vectors(
        session,
        [(_index_row(held[c.version_id], c.id), v) for c, v in zip(batch, vectors, strict=True)],
    )
    for version_id in {c.version_id for c in batch}:
        done = sum(1 for c in batch if c.version_id == version_id)
        session.execute(
            update(DocumentVersion)
            .where(DocumentVersion.id == version_id)
            .values(progress_done=DocumentVersion.progress_done + done)
        )
    for version_id in held:
        _renew(session, version_id, ctx.settings.documents_lease_seconds)
    session.commit()
    return True


def _let_go_of_vanished(session: Session, held: dict[int, DocumentVersion]) -> None:
    """Forget held versions that were deleted or cancelled."""
    alive = set(
        session.scalars(
            select(DocumentVersion.id).where(
                DocumentVersion.id.in_(list(held)), DocumentVersion.status.in_(ACTIVE_STATES)
            )
        ).all()
    )
    for version_id in [v for v in held if v not in alive]:
        del held[version_id]


def _pending(session: Session, held: dict[int, DocumentVersion]) -> int:
    """Chunks of the held versions still without a vector."""
    if not held:
        return 0
    count = session.scalar(
        select(func.count())
        .select_from(Chunk)
        .where(Chunk.version_id.in_(list(held)), Chunk.embedded.is_(False))
    )
    return int(count or 0)


def _top_up(session: Session, ctx: IngestContext, held: dict[int, DocumentVersion]) -> None:
    """While the held versions cannot fill a batch, take and parse more waiting versions of the
    same organisation: small documents are then embedded together (the model is about twice as
    fast on a batch of 16 as on one passage at a time)."""
    org_id = next(iter(held.values())).org_id
    tried: set[int] = set()
    while _pending(session, held) < ctx.settings.documents_embed_batch:
        candidate = session.scalar(
            select(DocumentVersion.id)
            .where(
                DocumentVersion.org_id == org_id,
                DocumentVersion.status.in_(ACTIVE_STATES),
                DocumentVersion.id.not_in(list(held) + list(tried)),
                or_(DocumentVersion.lease_until.is_(None), DocumentVersion.lease_until < _now()),
            )
            .order_by(DocumentVersion.id)
            .limit(1)
        )
        if candidate is None:
            return
        tried.add(candidate)
        version = claim(session, candidate, ctx.settings.documents_lease_seconds)
        if version is not None and _prepare(session, ctx, version) is None:
            held[version.id] = version


def _prepare(session: Session, ctx: IngestContext, version: DocumentVersion) -> str | None:
    """Parse a claimed version if it is not parsed yet; its end state when it cannot go on."""
    if version.status not in ("queued", "parsing"):
        return None
    version_id = version.id  # read now: after a rollback the deleted row cannot be reloaded
    try:
        _parse_step(session, ctx, version)
    except UserError as exc:
        session.rollback()
        _fail(session, version, exc)
        return "failed"
    except (IntegrityError, StaleDataError):
        # The document was deleted while its file was being read: its rows are gone.
        session.rollback()
        if session.get(DocumentVersion, version_id, populate_existing=True) is None:
            return "cancelled"
        raise
    return None


def _finish_embedded(
    session: Session, ctx: IngestContext, held: dict[int, DocumentVersion], ended: dict[int, str]
) -> None:
    """Finish every held version whose chunks all have vectors, and stop holding it."""
    if not held:
        return
    waiting = set(
        session.scalars(
            select(Chunk.version_id)
            .where(Chunk.version_id.in_(list(held)), Chunk.embedded.is_(False))
            .distinct()
        ).all()
    )
    for version_id in [v for v in held if v not in waiting]:
        version = held.pop(version_id)
        if session.get(DocumentVersion, version_id, populate_existing=True) is None:
            ended[version_id] = "cancelled"
        elif version.status != "embedding":
            ended[version_id] = version.status
        else:
            ended[version_id] = _finish(session, ctx, version)


def _retire(session: Session, version_ids: list[int]) -> None:
    """Versions leave search (chunks and index rows go) but stay in the history with their file."""
    backend_for(session).remove_versions(session, version_ids)
    session.execute(delete(Chunk).where(Chunk.version_id.in_(version_ids)))
    session.execute(
        update(DocumentVersion)
        .where(DocumentVersion.id.in_(version_ids))
        .values(status="superseded")
    )


def _finish(session: Session, ctx: IngestContext, version: DocumentVersion) -> str:
    """Make this version the searchable one; older versions keep their file, lose their chunks."""
    document = session.get(Document, version.document_id)
    if document is None:
        return "cancelled"
    newer = session.scalar(
        select(DocumentVersion.id).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.number > version.number,
            DocumentVersion.status == "ready",
        )
    )
    if newer is not None:  # a newer version finished first (another worker): history only
        _retire(session, [version.id])
        version.lease_until = None
        version.finished_at = utcnow()
        session.commit()
        return "superseded"
    older = session.scalars(
        select(DocumentVersion.id).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.id != version.id,
            DocumentVersion.number < version.number,
            DocumentVersion.status == "ready",
        )
    ).all()
    if older:
        _retire(session, list(older))
    version.status = "ready"
    version.error_code = None
    version.error_params = {}
    version.lease_until = None
    version.finished_at = utcnow()
    document.current_version_id = version.id
    document.updated_at = utcnow()
    session.commit()
    return "ready"


def process(ctx: IngestContext, version_id: int) -> str:
    """Run (or resume) the ingestion of one version; returns the state it ended in.

    Small waiting versions of the same organisation are taken along so that every model call
    embeds a full batch; their own jobs then find them done.
    """
    with ctx.sessions() as session:
        version = claim(session, version_id, ctx.settings.documents_lease_seconds)
        if version is None:
            return "skipped"
        stopped = _prepare(session, ctx, version)
        if stopped is not None:
            return stopped
        held = {version.id: version}
        ended: dict[int, str] = {}
        try:
            _top_up(session, ctx, held)
            while _embed_batch(session, ctx, held):
                _finish_embedded(session, ctx, held, ended)
                if held:
                    _top_up(session, ctx, held)
            _let_go_of_vanished(session, held)
            _finish_embedded(session, ctx, held, ended)
        except GatewayError as exc:
            # The model is down or busy: keep the work, say why, let the leases run out, retry.
            session.rollback()
            log.warning("ingestion paused: embedding failed", extra={"code": exc.code})
            session.execute(
                update(DocumentVersion)
                .where(DocumentVersion.id.in_(list(held)))
                .values(error_code="doc_embedding_unavailable", error_params={"reason": exc.code})
            )
            session.commit()
            return "paused" if version_id in held else ended.get(version_id, "paused")
        return ended.get(version_id, "cancelled")


def stalled_versions(
    session: Session, forgotten_after: timedelta = timedelta(hours=1)
) -> list[int]:
    """Unfinished versions whose worker died (lease ran out), or never taken for an hour
    (their job was lost before reaching the queue); queued jobs themselves survive restarts."""
    now = _now()
    return list(
        session.scalars(
            select(DocumentVersion.id)
            .where(
                DocumentVersion.status.in_(ACTIVE_STATES),
                or_(
                    DocumentVersion.lease_until < now,
                    and_(
                        DocumentVersion.lease_until.is_(None),
                        DocumentVersion.created_at < now - forgotten_after,
                    ),
                ),
            )
            .order_by(DocumentVersion.id)
        ).all()
    )


def unfinished_versions(session: Session) -> list[int]:
    """Every version not yet ingested and not held by a worker."""
    return list(
        session.scalars(
            select(DocumentVersion.id)
            .where(
                DocumentVersion.status.in_(ACTIVE_STATES),
                or_(DocumentVersion.lease_until.is_(None), DocumentVersion.lease_until < _now()),
            )
            .order_by(DocumentVersion.id)
        ).all()
    )


def run_pending(ctx: IngestContext, enqueue: Callable[[int], object] | None = None) -> int:
    """Re-enqueue stalled versions, or (without `enqueue`) ingest every unfinished one here."""
    with ctx.sessions() as session:
        found = stalled_versions(session) if enqueue else unfinished_versions(session)
    for version_id in found:
        if enqueue is not None:
            enqueue(version_id)
        else:
            process(ctx, version_id)
    return len(found)


def reset_vectors(session: Session) -> int:
    """Forget every vector and the index's model so that every searchable version is embedded
    again (after changing `documents_embedding_model`); returns the versions to re-embed.
    Keyword search keeps working meanwhile."""
    backend_for(session).drop_vectors(session)
    session.execute(delete(IndexSetting))
    session.execute(update(Chunk).values(embedded=False))
    count = _changed(
        session,
        update(DocumentVersion)
        .where(DocumentVersion.status == "ready")
        .values(status="embedding", progress_done=0, lease_until=None),
    )
    session.commit()
    return count
