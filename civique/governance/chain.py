"""Per-organisation hash chains: append a link, check every link, read the head.

Each row's hash covers the previous row's hash and the row's own fields, so changing, removing,
inserting or reordering a row breaks the chain from there on; the head kept in `chain_heads`
(and any head noted outside the database) reveals a removed tail. Appends of one organisation are
serialised on its head row, so two concurrent appends never both take the same place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from civique.db.base import as_utc, utcnow
from civique.governance.models import AuditEntry, ChainHead, ChainRow, RegisterEvent

GENESIS = "0" * 64
BATCH = 500
Row = TypeVar("Row", RegisterEvent, AuditEntry)


def canonical(value: Any) -> str:
    """One JSON text per value: sorted keys, no spaces, UTF-8 kept, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def digest(text: str) -> str:
    """Hex sha256 of a text (lone surrogates kept rather than refused)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _instant(value: datetime) -> str:
    """A timestamp as both backends give it back: UTC, microseconds."""
    return as_utc(value).astimezone(UTC).isoformat(timespec="microseconds")


def link_hash(row: ChainRow) -> str:
    """The hash of a row: its predecessor's hash, then its fields (the payload by digest)."""
    fields = [
        type(row).__tablename__,  # type: ignore[attr-defined]  # a link cannot move chains
        row.org_id,
        row.seq,
        _instant(row.at),
        row.actor_id,
        row.kind,
        *(getattr(row, name) for name in type(row).LINKED),
        digest(row.payload),
    ]
    return digest(row.prev_hash + canonical(fields))


def _locked_head(session: Session, chain: str, org_id: int) -> tuple[int, str]:
    """The organisation's head (seq, hash), created if needed and locked until the transaction
    ends, in one statement: an upsert that rewrites the row takes its row lock on PostgreSQL and
    the database's write lock on SQLite, so the head it returns is the latest one."""
    dialect = session.get_bind().dialect.name
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    new = upsert(ChainHead).values(chain=chain, org_id=org_id, seq=0, hash=GENESIS)
    stmt = new.on_conflict_do_update(
        index_elements=[ChainHead.chain, ChainHead.org_id], set_={"seq": ChainHead.seq}
    ).returning(ChainHead.seq, ChainHead.hash)
    seq, head = session.execute(stmt).one()
    return int(seq), str(head)


def append(
    session: Session,
    model: type[Row],
    org_id: int,
    kind: str,
    actor_id: int | None,
    payload: dict[str, Any],
    **linked: Any,
) -> Row:
    """Add a row at the end of the organisation's chain; the caller commits.

    The row is written with plain INSERT and UPDATE statements rather than through the unit of
    work (three statements, no flush of the caller's objects in between); the row returned is the
    one written, detached from the session.
    """
    chain = model.__tablename__
    seq, prev = _locked_head(session, chain, org_id)
    row = model(
        org_id=org_id,
        seq=seq + 1,
        at=utcnow(),
        actor_id=actor_id,
        kind=kind,
        payload=canonical(payload),
        prev_hash=prev,
        **linked,
    )
    row.hash = link_hash(row)
    columns = [c.key for c in model.__table__.columns if c.key != "id"]
    session.execute(insert(model).values({key: getattr(row, key) for key in columns}))
    session.execute(
        update(ChainHead)
        .where(ChainHead.chain == chain, ChainHead.org_id == org_id)
        .values(seq=row.seq, hash=row.hash)
    )
    return row


def append_many(
    session: Session,
    model: type[Row],
    org_id: int,
    entries: list[tuple[str, int | None, dict[str, Any], dict[str, Any]]],
) -> int:
    """Add many rows at the end of the organisation's chain in one INSERT (bulk imports such as
    the demo's data); each entry is (kind, actor id, payload, linked columns). Same links as
    `append`, one after the other; the caller commits. Returns the new head's seq."""
    chain = model.__tablename__
    seq, prev = _locked_head(session, chain, org_id)
    columns = [c.key for c in model.__table__.columns if c.key != "id"]
    values = []
    for kind, actor_id, payload, linked in entries:
        seq += 1
        row = model(
            org_id=org_id,
            seq=seq,
            at=utcnow(),
            actor_id=actor_id,
            kind=kind,
            payload=canonical(payload),
            prev_hash=prev,
            **linked,
        )
        row.hash = prev = link_hash(row)
        values.append({key: getattr(row, key) for key in columns})
    if values:
        session.execute(insert(model), values)
        session.execute(
            update(ChainHead)
            .where(ChainHead.chain == chain, ChainHead.org_id == org_id)
            .values(seq=seq, hash=prev)
        )
    return seq


def stored_head(session: Session, model: type[Row], org_id: int) -> tuple[int, str]:
    """The head recorded with the last append: (seq, hash), (0, GENESIS) for an empty chain."""
    stmt = select(ChainHead.seq, ChainHead.hash).where(
        ChainHead.chain == model.__tablename__, ChainHead.org_id == org_id
    )
    found = session.execute(stmt).first()
    return (found[0], found[1]) if found else (0, GENESIS)


@dataclass
class Break:
    """The first broken link: where, and why (a code of `governance.labels.REASONS`)."""

    seq: int
    reason: str
    detail: str = ""


@dataclass
class Report:
    """What a check found for one chain of one organisation."""

    chain: str
    org_id: int
    entries: int
    head_seq: int
    head_hash: str
    broken: Break | None = None

    @property
    def ok(self) -> bool:
        """True when no link is broken."""
        return self.broken is None


def rows(session: Session, model: type[Row], org_id: int) -> Iterator[Row]:
    """The organisation's rows in chain order, read in batches (constant memory)."""
    last = 0
    while True:
        stmt = (
            select(model)
            .where(model.org_id == org_id, model.seq > last)
            .order_by(model.seq)
            .limit(BATCH)
        )
        batch = list(session.scalars(stmt))
        yield from batch  # rows no longer referenced leave the (weak) identity map
        if len(batch) < BATCH:
            return
        last = batch[-1].seq


def check_row(row: ChainRow, expected_seq: int, prev_hash: str) -> Break | None:
    """The fault of one row given what should precede it, or None."""
    if row.seq > expected_seq:
        last = row.seq - 1
        missing = str(expected_seq) if last == expected_seq else f"{expected_seq}-{last}"
        return Break(expected_seq, "missing", missing)
    if row.seq < expected_seq:
        return Break(row.seq, "out_of_order")
    if row.hash != link_hash(row):
        return Break(row.seq, "altered")
    if row.prev_hash != prev_hash:
        return Break(row.seq, "relinked")
    return None


def verify(
    session: Session,
    model: type[Row],
    org_id: int,
    expect: str | None = None,
    check: Callable[[Row], Break | None] | None = None,
) -> Report:
    """Walk the chain and report its first broken link; `expect` is a head noted elsewhere
    (a hash, optionally `seq:hash`) that must still be in the chain; `check(row)` may return a
    further `Break` for a row (the register compares contents)."""
    chain = model.__tablename__
    prev, count, seen_expected = GENESIS, 0, expect is None
    expected_seq, expected_hash = _parse_expected(expect)
    for row in rows(session, model, org_id):
        broken = check_row(row, count + 1, prev)
        if broken is None and check is not None:
            broken = check(row)
        if broken is not None:
            return Report(chain, org_id, count, count, prev, broken)
        if row.hash == expected_hash and expected_seq in (None, row.seq):
            seen_expected = True
        prev, count = row.hash, row.seq
    report = Report(chain, org_id, count, count, prev)
    report.broken = _tail_break(session, model, org_id, count, prev)
    if report.broken is None and not seen_expected:
        report.broken = Break(expected_seq or count + 1, "expected_head_missing", expected_hash)
    return report


def _parse_expected(expect: str | None) -> tuple[int | None, str]:
    if not expect:
        return None, ""
    seq, _, value = expect.strip().rpartition(":")
    return (int(seq) if seq.isdigit() else None), value.lower()


def _tail_break(
    session: Session, model: type[Row], org_id: int, count: int, last_hash: str
) -> Break | None:
    """Compare the end of the walk with the stored head."""
    head_seq, head_hash = stored_head(session, model, org_id)
    if head_seq > count:
        return Break(count + 1, "truncated", f"{head_seq}:{head_hash}")
    if head_seq < count:
        return Break(head_seq + 1, "beyond_head", f"{head_seq}:{head_hash}")
    if head_hash != last_hash:
        return Break(count, "head_mismatch", f"{head_seq}:{head_hash}")
    return None
