"""The register of AI-assisted outputs: one hash chain of events per organisation.

An output is `created` in the same transaction as its output record (`llm/usage.py`); later
events say it was submitted for validation, approved or rejected, its final text edited, or the
text exported. The events hold metadata and sha256 digests of the texts; the texts themselves
stay in `output_records`, so the check also proves they were not changed, and a future erasure
can blank a text while keeping its digest (and the chain) intact.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.governance.chain import (
    Break,
    Report,
    append,
    append_many,
    canonical,
    digest,
    verify,
)
from civique.governance.models import ChainRow, RegisterEvent
from civique.llm.models import OutputRecord
from civique.orgs.models import Unit

KINDS = ("created", "submitted", "approved", "rejected", "edited", "exported", "erased")
VALIDATION = ("not_required", "pending", "approved", "rejected")
_STATUS_AFTER = {"submitted": "pending", "approved": "approved", "rejected": "rejected"}


def text_digest(value: Any) -> str:
    """Digest of a text or of a JSON value (the input messages), as recorded in the register."""
    return digest(value if isinstance(value, str) else canonical(value))


def person(user: User | None) -> dict[str, Any] | None:
    """Who, as the register keeps it: the account may later be renamed or deleted."""
    return {"id": user.id, "name": user.name} if user is not None else None


def unit_of(session: Session, user_id: int | None) -> int | None:
    """The unit an output is registered under: its user's unit at the time."""
    user = session.get(User, user_id) if user_id is not None else None
    return user.unit_id if user is not None else None


def record_created(
    session: Session, record: OutputRecord, channel: str, classification: str
) -> RegisterEvent:
    """Append the `created` event of a flushed output record (its unit set by `unit_of`)."""
    payload = _created_payload(session, record, channel, classification)
    return _append(session, record, record.user_id, "created", payload)


def record_created_many(
    session: Session, records: Sequence[OutputRecord], channel: str, classification: str
) -> None:
    """The `created` events of many written records of one organisation, in one insert
    (bulk imports: the demo's data)."""
    if not records:
        return
    entries = [
        (
            "created",
            r.user_id,
            _created_payload(session, r, channel, classification),
            {"output_id": r.id},
        )
        for r in records
    ]
    append_many(session, RegisterEvent, records[0].org_id, entries)


def _created_payload(
    session: Session, record: OutputRecord, channel: str, classification: str
) -> dict[str, Any]:
    user = session.get(User, record.user_id) if record.user_id is not None else None
    unit = session.get(Unit, record.unit_id) if record.unit_id is not None else None
    payload = {
        "call_id": record.call_id,
        "tool": record.tool,
        "channel": channel,
        "classification": classification,
        "model": {"id": record.model_id, "version": record.model_version},
        "prompt_template": {
            "name": record.prompt_template,
            "version": record.prompt_template_version,
        },
        "user": person(user),
        "unit": {"id": unit.id, "name": unit.name} if unit is not None else None,
        "status": record.status,
        "sources": list(record.sources or []),
        "input_sha256": text_digest(record.input),
        "output_sha256": text_digest(record.output),
    }
    return payload


def _append(
    session: Session, record: OutputRecord, actor_id: int | None, kind: str, payload: dict[str, Any]
) -> RegisterEvent:
    return append(
        session, RegisterEvent, record.org_id, kind, actor_id, payload, output_id=record.id
    )


def record_event(
    session: Session,
    record: OutputRecord,
    actor: User,
    kind: str,
    comment: str = "",
    **details: Any,
) -> RegisterEvent:
    """Append a later event of an output and update its record; the caller checks rights and
    commits. `edited` takes `text` (the final text), `exported` takes `format`."""
    if kind not in KINDS[1:]:
        raise ValueError(f"unknown register event {kind!r}")
    payload: dict[str, Any] = {"by": person(actor), **details}
    if comment:
        payload["comment"] = comment
    if kind == "edited":
        text = str(payload.pop("text"))
        record.final_text = text
        payload["final_sha256"] = text_digest(text)
    if kind in _STATUS_AFTER:
        record.validation = _STATUS_AFTER[kind]
    return _append(session, record, actor.id, kind, payload)


def record_erasure(
    session: Session, record: OutputRecord, actor: User, reference: str
) -> RegisterEvent:
    """Append the `erased` event of a record whose texts a data subject's erasure just changed:
    the new digests, so the check verifies the texts as they are now (and says when)."""
    payload: dict[str, Any] = {
        "by": person(actor),
        "reference": reference,
        "input_sha256": text_digest(record.input),
        "output_sha256": text_digest(record.output),
    }
    if record.final_text is not None:
        payload["final_sha256"] = text_digest(record.final_text)
    return _append(session, record, actor.id, "erased", payload)


def _erased_digests(session: Session, org_id: int) -> dict[int, dict[str, Any]]:
    """The latest `erased` payload of each erased output (erasures are rare: kept in memory)."""
    rows = session.scalars(
        select(RegisterEvent)
        .where(RegisterEvent.org_id == org_id, RegisterEvent.kind == "erased")
        .order_by(RegisterEvent.seq)
    )
    return {row.output_id: _payload(row) for row in rows}


def events_of(session: Session, org_id: int, output_id: int) -> Sequence[RegisterEvent]:
    """Every event of one output, in chain order."""
    stmt = (
        select(RegisterEvent)
        .where(RegisterEvent.org_id == org_id, RegisterEvent.output_id == output_id)
        .order_by(RegisterEvent.seq)
    )
    return session.scalars(stmt).all()


class _Contents:
    """Compares the output records with the digests and states the register recorded."""

    def __init__(self, session: Session, org_id: int) -> None:
        self.session, self.org_id = session, org_id
        self.cache: dict[int, OutputRecord] = {}
        self.first_output: int | None = None
        self.final: dict[int, tuple[int, str]] = {}  # output id → (seq, digest of final text)
        self.state: dict[int, tuple[int, str]] = {}  # output id → (seq, validation status)
        self.erased = _erased_digests(session, org_id)

    def record(self, output_id: int) -> OutputRecord | None:
        """The output record, read ahead in batches of ids (outputs are registered in order)."""
        if output_id not in self.cache:
            stmt = (
                select(OutputRecord)
                .where(OutputRecord.org_id == self.org_id, OutputRecord.id >= output_id)
                .order_by(OutputRecord.id)
                .limit(500)
            )
            self.cache = {r.id: r for r in self.session.scalars(stmt)}
        return self.cache.get(output_id)

    def __call__(self, row: RegisterEvent) -> Break | None:
        """The fault of a register event against the records, or None."""
        if row.kind != "created":
            self._follow(row)
            return None
        if self.first_output is None:
            self.first_output = row.output_id
        record = self.record(row.output_id)
        if record is None:
            return Break(row.seq, "output_missing", str(row.output_id))
        # An erased output is checked against the digests its erasure recorded.
        payload = self.erased.get(row.output_id) or _payload(row)
        for field, value in (("input", record.input), ("output", record.output)):
            if payload.get(f"{field}_sha256") != text_digest(value):
                return Break(row.seq, f"{field}_altered", str(row.output_id))
        return None

    def _follow(self, row: RegisterEvent) -> None:
        payload = _payload(row)
        if row.kind == "edited" or (row.kind == "erased" and "final_sha256" in payload):
            self.final[row.output_id] = (row.seq, str(payload.get("final_sha256")))
        elif row.kind in _STATUS_AFTER:
            self.state[row.output_id] = (row.seq, _STATUS_AFTER[row.kind])

    def finish(self) -> Break | None:
        """After the walk: final texts and validation states, then unregistered outputs."""
        for output_id, (seq, expected) in sorted(self.final.items()):
            record = self.record(output_id)
            if record is None or text_digest(record.final_text or "") != expected:
                return Break(seq, "final_altered", str(output_id))
        for output_id, (seq, status) in sorted(self.state.items()):
            record = self.record(output_id)
            if record is None or record.validation != status:
                return Break(seq, "validation_altered", str(output_id))
        return self._unrecorded()

    def _unrecorded(self) -> Break | None:
        """Record states the register never recorded: an output made after the register began
        but absent from it, a validation status or a final text without their event."""
        since = OutputRecord.id >= (self.first_output or 0)
        checks = (
            ("unregistered", ("created",), since if self.first_output else None),
            ("validation_altered", tuple(_STATUS_AFTER), OutputRecord.validation != "not_required"),
            ("final_altered", ("edited",), OutputRecord.final_text.is_not(None)),
        )
        for reason, kinds, condition in checks:
            if condition is None:
                continue
            recorded = exists().where(
                RegisterEvent.org_id == OutputRecord.org_id,
                RegisterEvent.output_id == OutputRecord.id,
                RegisterEvent.kind.in_(kinds),
            )
            stmt = select(func.min(OutputRecord.id)).where(
                OutputRecord.org_id == self.org_id, condition, ~recorded
            )
            found = self.session.scalar(stmt)
            if found is not None:
                return Break(0, reason, str(found))
        return None


def _payload(row: ChainRow) -> dict[str, Any]:
    value = json.loads(row.payload)
    return value if isinstance(value, dict) else {}


def verify_register(session: Session, org_id: int, expect: str | None = None) -> Report:
    """Check the organisation's register: the chain, then the records against it."""
    contents = _Contents(session, org_id)
    report = verify(session, RegisterEvent, org_id, expect, contents)
    if report.ok:
        report.broken = contents.finish()
    return report
