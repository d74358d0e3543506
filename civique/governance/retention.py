"""The retention purge: deletes, per organisation, what is older than its policy's periods.

Run daily by the job queue and by `civique retention purge [--dry-run]`. Idempotent: a second
run finds nothing left to delete. Logged with counts per kind, never contents, and written to
each organisation's audit log. What it never deletes, and why, is in docs/governance.md:
register entries (a hash chain: the period is the least time they are kept), and anything of an
organisation under legal hold. Nothing stores audio yet, so its period has nothing to purge.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, String, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from civique.chat.models import Conversation
from civique.chat.service import erase_conversations
from civique.db.base import utcnow
from civique.documents.files import erase_document
from civique.documents.models import Document
from civique.documents.storage import FileStore
from civique.governance import audit
from civique.governance.models import RegisterEvent
from civique.governance.policy import Policy, get_policy
from civique.governance.policy_models import OrgPolicy
from civique.governance.vault import Vault, VaultEntry
from civique.orgs.models import Organisation

log = logging.getLogger(__name__)
BATCH = 500  # conversations per transaction: SQLite's single writer is never held for long


@dataclass
class Counts:
    """What a purge deleted (or, in a dry run, would delete) for one organisation."""

    conversations: int = 0
    vault_entries: int = 0
    documents: int = 0
    register_past_period: int = 0  # counted for the DPO, never deleted


@dataclass
class OrgPurge:
    """One organisation's result."""

    org_id: int
    slug: str
    held: bool = False
    counts: Counts = field(default_factory=Counts)


def cutoff(now: datetime, days: int | None) -> datetime | None:
    """The instant before which data of this period is purged (None: kept forever)."""
    return None if days is None else now - timedelta(days=days)


def purge_all(
    session: Session,
    vault: Vault,
    store: FileStore,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[OrgPurge]:
    """Purge every organisation that has a policy; organisations without one keep everything."""
    now = now or utcnow()
    started = time.perf_counter()
    orgs = session.execute(
        select(Organisation.id, Organisation.slug)
        .join(OrgPolicy, OrgPolicy.org_id == Organisation.id)
        .order_by(Organisation.id)
    ).all()
    results = [
        purge_org(session, vault, store, org_id, slug, dry_run, now) for org_id, slug in orgs
    ]
    log.info(
        "retention purge done",
        extra={
            "dry_run": dry_run,
            "organisations": len(results),
            "ms": int((time.perf_counter() - started) * 1000),
        },
    )
    return results


def purge_org(
    session: Session,
    vault: Vault,
    store: FileStore,
    org_id: int,
    slug: str,
    dry_run: bool,
    now: datetime,
) -> OrgPurge:
    """Purge one organisation by its policy (or count what would go), then log and audit it."""
    policy = get_policy(session, org_id)
    result = OrgPurge(org_id, slug, held=policy.legal_hold)
    if policy.legal_hold:
        log.info("retention purge skipped: legal hold", extra={"org": slug})
    elif dry_run:
        result.counts = _preview(session, policy, now)
    else:
        result.counts = _purge(session, vault, store, policy, now)
    details = {"dry_run": dry_run, "held": result.held, **asdict(result.counts)}
    log.info("retention purge", extra={"org": slug, **details})
    if not dry_run:
        audit.record(session, org_id, None, "retention.purged", **details)
        session.commit()
    return result


def _purge(
    session: Session, vault: Vault, store: FileStore, policy: Policy, now: datetime
) -> Counts:
    """Delete what is past each period; conversations first, so the vault's own period then
    counts only the entries of other scopes."""
    counts, periods, org_id = Counts(), policy.retention, policy.org_id
    if (before := cutoff(now, periods.conversations)) is not None:
        ids = list(session.scalars(_old_conversations(org_id, before).order_by(Conversation.id)))
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            counts.vault_entries += erase_conversations(session, vault, org_id, batch)
            session.commit()
        counts.conversations = len(ids)
    if (before := cutoff(now, periods.vault)) is not None:
        counts.vault_entries += vault.purge(session, before, org_id)
        session.commit()
    if (before := cutoff(now, periods.documents)) is not None:
        documents = session.scalars(
            select(Document).where(Document.org_id == org_id, Document.updated_at < before)
        ).all()
        for document in documents:
            erase_document(session, store, document)  # chunks, vectors and unshared files
        counts.documents = len(documents)
    counts.register_past_period = _register_past_period(session, policy, now)
    return counts


def _preview(session: Session, policy: Policy, now: datetime) -> Counts:
    """What `_purge` would delete now, counted without changing anything."""
    counts, periods, org_id = Counts(), policy.retention, policy.org_id
    in_vault: list[ColumnElement[bool]] = []
    if (before := cutoff(now, periods.conversations)) is not None:
        old = _old_conversations(org_id, before).subquery()
        counts.conversations = _count(select(func.count()).select_from(old), session)
        scopes = select(literal("conversation:") + cast(old.c.id, String))
        in_vault.append(VaultEntry.scope.in_(scopes))
    if (before := cutoff(now, periods.vault)) is not None:
        in_vault.append(VaultEntry.created_at < before)
    if in_vault:
        counts.vault_entries = _count(
            select(func.count()).where(VaultEntry.org_id == org_id, or_(*in_vault)), session
        )
    if (before := cutoff(now, periods.documents)) is not None:
        counts.documents = _count(
            select(func.count()).where(Document.org_id == org_id, Document.updated_at < before),
            session,
        )
    counts.register_past_period = _register_past_period(session, policy, now)
    return counts


def _old_conversations(org_id: int, before: datetime) -> Select[int]:
    """Conversations with no activity since `before` (each message moves `updated_at`)."""
    return select(Conversation.id).where(
        Conversation.org_id == org_id, Conversation.updated_at < before
    )


def _register_past_period(session: Session, policy: Policy, now: datetime) -> int:
    """Register events older than the register's period: counted for the DPO, never deleted."""
    before = cutoff(now, policy.retention.register)
    if before is None:
        return 0
    return _count(
        select(func.count()).where(
            RegisterEvent.org_id == policy.org_id, RegisterEvent.at < before
        ),
        session,
    )


def _count(stmt: Select[int], session: Session) -> int:
    return int(session.scalar(stmt) or 0)


def describe(result: OrgPurge, dry_run: bool) -> str:
    """One line of the command's report (counts only)."""
    if result.held:
        return f"{result.slug}: legal hold, nothing purged"
    c = result.counts
    verb = "would delete" if dry_run else "deleted"
    return (
        f"{result.slug}: {verb} {c.conversations} conversations, {c.vault_entries} vault "
        f"entries, {c.documents} documents; {c.register_past_period} register entries past "
        "their period (kept)"
    )
