"""The register and the audit log as the data-protection officer and administrators read them:
filters, pages, one entry with its history, exports, and the integrity check.

Every function takes the acting user, checks their role, and only ever reads their organisation.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.db.base import as_utc, utcnow
from civique.errors import Forbidden, NotFound, UserError
from civique.governance import audit, register
from civique.governance.chain import Report, link_hash, stored_head, verify
from civique.governance.models import AuditEntry, RegisterEvent
from civique.llm.models import OutputRecord
from civique.orgs.models import Organisation, Unit

PAGE_SIZE = 50
CHOICES_LIMIT = 1000  # users offered in the register's filter
EXPORT_BATCH = 200


def _require(actor: User, action: str) -> None:
    if not can(actor.role, action):
        raise Forbidden()


def _in_org(actor: User, found: User | Unit | None) -> None:
    """404 for an object outside the actor's organisation (a filter must not probe tenants)."""
    if found is None or found.org_id != actor.org_id:
        raise NotFound()


def _day_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """From the start of `since` to the end of `until` (inclusive), in UTC."""
    start = datetime.combine(since, time(), UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), UTC) if until else None
    return start, end


@dataclass(frozen=True)
class Paged:
    """One page of rows and where it is in the whole."""

    rows: list[Any]
    total: int
    page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least one)."""
        return max(1, math.ceil(self.total / PAGE_SIZE))


def _page(
    session: Session, stmt: Select[*tuple[Any, ...]], page: int
) -> tuple[list[Any], int, int]:
    """The rows of page `page` (from 1, clamped) of a statement, the total and the page."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(max(1, page), max(1, math.ceil(total / PAGE_SIZE)))
    rows = session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return list(rows), total, page


# The register ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterFilters:
    """What the register is narrowed to; empty fields do not narrow."""

    since: date | None = None
    until: date | None = None
    unit_id: int | None = None
    user_id: int | None = None
    tool: str = ""
    model: str = ""
    status: str = ""

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links: pages, exports)."""
        values = {k: "" if v is None else str(v) for k, v in asdict(self).items()}
        return {k: v for k, v in values.items() if v}


def check_filters(session: Session, actor: User, filters: RegisterFilters) -> RegisterFilters:
    """Refuse a unit or user of another organisation (404) and an unknown status."""
    _require(actor, "register.read")
    if filters.unit_id is not None:
        _in_org(actor, session.get(Unit, filters.unit_id))
    if filters.user_id is not None:
        _in_org(actor, session.get(User, filters.user_id))
    if filters.status and filters.status not in register.VALIDATION:
        raise UserError("register_bad_status")
    return filters


def _conditions(actor: User, filters: RegisterFilters) -> list[ColumnElement[bool]]:
    start, end = _day_bounds(filters.since, filters.until)
    found: list[ColumnElement[bool]] = [OutputRecord.org_id == actor.org_id]
    if start is not None:
        found.append(OutputRecord.created_at >= start)
    if end is not None:
        found.append(OutputRecord.created_at < end)
    if filters.unit_id is not None:
        found.append(OutputRecord.unit_id == filters.unit_id)
    if filters.user_id is not None:
        found.append(OutputRecord.user_id == filters.user_id)
    equal = ((OutputRecord.tool, filters.tool), (OutputRecord.model_id, filters.model))
    found += [column == value for column, value in equal if value]
    if filters.status:
        found.append(OutputRecord.validation == filters.status)
    return found


@dataclass
class RegisterRow:
    """One output in the register's list."""

    id: int
    created_at: datetime
    user_name: str | None
    unit_name: str | None
    tool: str
    model_id: str
    model_version: str
    validation: str


Listing = Select[OutputRecord, str | None, str | None]


def row_of(record: OutputRecord, user_name: str | None, unit_name: str | None) -> RegisterRow:
    """An output as the register's list shows it."""
    return RegisterRow(
        record.id,
        as_utc(record.created_at),
        user_name,
        unit_name,
        record.tool,
        record.model_id,
        record.model_version,
        record.validation,
    )


def _listing(actor: User, filters: RegisterFilters) -> Listing:
    return (
        select(OutputRecord, User.name, Unit.name)
        .outerjoin(User, User.id == OutputRecord.user_id)
        .outerjoin(Unit, Unit.id == OutputRecord.unit_id)
        .where(*_conditions(actor, filters))
        .order_by(OutputRecord.id.desc())
    )


def search_register(
    session: Session, actor: User, filters: RegisterFilters, page: int = 1
) -> Paged:
    """One page of the outputs matching the filters, newest first."""
    check_filters(session, actor, filters)
    found, total, page = _page(session, _listing(actor, filters), page)
    rows = [row_of(record, user, unit) for record, user, unit in found]
    return Paged(rows, total, page)


@dataclass
class Choices:
    """What the register's filters offer: units, users with outputs, tools, models."""

    units: list[tuple[int, str]]
    users: list[tuple[int, str]]
    tools: list[str]
    models: list[str]


def filter_choices(session: Session, actor: User) -> Choices:
    """The values the filters of the actor's register may take."""
    _require(actor, "register.read")
    org = OutputRecord.org_id == actor.org_id
    units = session.execute(
        select(Unit.id, Unit.name).where(Unit.org_id == actor.org_id).order_by(Unit.name)
    )
    users = session.execute(
        select(User.id, User.name)
        .where(User.id.in_(select(OutputRecord.user_id).where(org)))
        .order_by(User.name)
        .limit(CHOICES_LIMIT)
    )
    tools = session.scalars(select(OutputRecord.tool).where(org).distinct().order_by("tool"))
    models = session.scalars(
        select(OutputRecord.model_id).where(org).distinct().order_by("model_id")
    )
    return Choices(
        [(i, n) for i, n in units], [(i, n) for i, n in users], list(tools), list(models)
    )


# One entry -------------------------------------------------------------------------------------


@dataclass
class EventView:
    """One event of an output, as the entry page shows it."""

    seq: int
    at: datetime
    kind: str
    actor_name: str | None
    details: dict[str, Any]
    hash: str
    intact: bool


@dataclass
class EntryView:
    """An output with everything the register knows of it."""

    record: OutputRecord
    user_name: str | None
    unit_name: str | None
    created: dict[str, Any] | None  # the created event's payload (None: before the register)
    events: list[EventView]
    checks: dict[str, bool | None] = field(default_factory=dict)

    @property
    def decision(self) -> EventView | None:
        """The last approval or rejection."""
        return next((e for e in reversed(self.events) if e.kind in ("approved", "rejected")), None)

    @property
    def exports(self) -> list[EventView]:
        """Every export of the text."""
        return [e for e in self.events if e.kind == "exported"]


def _event_view(event: RegisterEvent, names: dict[int, str]) -> EventView:
    details = json.loads(event.payload)
    by = details.get("by") or details.get("user") or {}
    name = names.get(event.actor_id or 0) or (by.get("name") if isinstance(by, dict) else None)
    return EventView(
        event.seq,
        as_utc(event.at),
        event.kind,
        name,
        details,
        event.hash,
        event.hash == link_hash(event),
    )


def org_output(session: Session, actor: User, output_id: int) -> OutputRecord:
    """An output record of the actor's organisation (404 otherwise)."""
    record = session.get(OutputRecord, output_id)
    if record is None or record.org_id != actor.org_id:
        raise NotFound()
    return record


def entry(session: Session, actor: User, output_id: int) -> EntryView:
    """One output, its history, and whether its texts still match the register."""
    _require(actor, "register.read")
    record = org_output(session, actor, output_id)
    events = register.events_of(session, actor.org_id, output_id)
    ids = {e.actor_id for e in events if e.actor_id} | {record.user_id or 0}
    known = select(User.id, User.name).where(User.id.in_(ids), User.org_id == actor.org_id)
    names = {i: n for i, n in session.execute(known)}
    unit = session.get(Unit, record.unit_id) if record.unit_id else None
    views = [_event_view(e, names) for e in events]
    created = next((v.details for v in views if v.kind == "created"), None)
    view = EntryView(
        record, names.get(record.user_id or 0), unit.name if unit else None, created, views
    )
    view.checks = _content_checks(record, created, views)
    return view


def _content_checks(
    record: OutputRecord, created: dict[str, Any] | None, views: list[EventView]
) -> dict[str, bool | None]:
    """Each text against the digest the register holds: True, False (altered), None (none)."""
    if created is None:
        return {"input": None, "output": None, "final": None}
    last_edit = next((v for v in reversed(views) if v.kind == "edited"), None)
    final = None
    if last_edit is not None:
        final = last_edit.details.get("final_sha256") == register.text_digest(
            record.final_text or ""
        )
    return {
        "input": created.get("input_sha256") == register.text_digest(record.input),
        "output": created.get("output_sha256") == register.text_digest(record.output),
        "final": final,
    }


# Exports ---------------------------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "json")
CSV_COLUMNS = (
    "id",
    "created_at",
    "user",
    "unit",
    "tool",
    "model",
    "model_version",
    "prompt_template",
    "prompt_template_version",
    "status",
    "validation",
    "validator",
    "decided_at",
    "sources",
    "output",
    "final_text",
    "exports",
    "register_seq",
    "register_hash",
)


@dataclass(frozen=True)
class Export:
    """An accepted export: its format, its filters, and the entries it holds (ids up to
    `last_id`, so outputs made while it streams do not push it past what was counted)."""

    fmt: str
    filters: RegisterFilters
    count: int
    last_id: int


def begin_export(
    session: Session, actor: User, filters: RegisterFilters, fmt: str, limit: int
) -> Export:
    """Check an export and note it in the audit log.

    Refused above `limit` entries (the DPO narrows the filters) rather than cut short.
    """
    check_filters(session, actor, filters)
    if fmt not in EXPORT_FORMATS:
        raise UserError("register_bad_format")
    stmt = select(func.count(), func.max(OutputRecord.id)).where(*_conditions(actor, filters))
    count, last_id = session.execute(stmt).one()
    if count > limit:
        raise UserError("register_export_too_big", 413, count=count, limit=limit)
    audit.record(
        session,
        actor.org_id,
        actor,
        "register.exported",
        format=fmt,
        rows=count,
        filters=filters.query(),
    )
    session.commit()
    return Export(fmt, filters, count, last_id or 0)


def export_entries(session: Session, actor: User, export: Export) -> Iterator[dict[str, Any]]:
    """Every output of an export with its register events, oldest first, read in batches."""
    _require(actor, "register.read")
    last = 0
    while True:
        stmt = (
            _listing(actor, export.filters)
            .where(OutputRecord.id > last, OutputRecord.id <= export.last_id)
            .order_by(None)
            .order_by(OutputRecord.id)
            .limit(EXPORT_BATCH)
        )
        batch = session.execute(stmt).all()
        if not batch:
            return
        events = _events_by_output(session, actor.org_id, [r.id for r, _, _ in batch])
        for record, user_name, unit_name in batch:
            yield _export_entry(record, user_name, unit_name, events.get(record.id, []))
        last = batch[-1][0].id


def _events_by_output(
    session: Session, org_id: int, output_ids: Sequence[int]
) -> dict[int, list[RegisterEvent]]:
    stmt = (
        select(RegisterEvent)
        .where(RegisterEvent.org_id == org_id, RegisterEvent.output_id.in_(output_ids))
        .order_by(RegisterEvent.seq)
    )
    found: dict[int, list[RegisterEvent]] = {}
    for event in session.scalars(stmt):
        found.setdefault(event.output_id, []).append(event)
    return found


def _export_entry(
    record: OutputRecord, user_name: str | None, unit_name: str | None, events: list[RegisterEvent]
) -> dict[str, Any]:
    views = [_event_view(e, {}) for e in events]
    decision = next((v for v in reversed(views) if v.kind in ("approved", "rejected")), None)
    created = next((e for e in events if e.kind == "created"), None)
    return {
        "id": record.id,
        "created_at": as_utc(record.created_at).isoformat(),
        "user": user_name,
        "user_id": record.user_id,
        "unit": unit_name,
        "tool": record.tool,
        "model": record.model_id,
        "model_version": record.model_version,
        "prompt_template": record.prompt_template,
        "prompt_template_version": record.prompt_template_version,
        "status": record.status,
        "validation": record.validation,
        "validator": decision.actor_name if decision else None,
        "decided_at": decision.at.isoformat() if decision else None,
        "sources": list(record.sources or []),
        "input": record.input,
        "output": record.output,
        "final_text": record.final_text,
        "exports": sum(1 for v in views if v.kind == "exported"),
        "register_seq": created.seq if created else None,
        "register_hash": created.hash if created else None,
        "events": [
            {
                "seq": v.seq,
                "at": v.at.isoformat(),
                "kind": v.kind,
                "by": v.actor_name,
                "hash": v.hash,
                "details": v.details,
            }
            for v in views
        ],
    }


def export_header(session: Session, actor: User, export: Export) -> dict[str, Any]:
    """What a JSON export says of itself: who, when, which filters, the register's head."""
    org = session.get(Organisation, actor.org_id)
    seq, head = stored_head(session, RegisterEvent, actor.org_id)
    return {
        "organisation": org.slug if org else None,
        "exported_at": utcnow().isoformat(),
        "exported_by": actor.name,
        "filters": export.filters.query(),
        "entries": export.count,
        "register_head": {"seq": seq, "hash": head},
    }


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text: model output may start with `=`."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _source_text(sources: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{s.get('title')} (v{s.get('version') or '?'}, p. {s.get('page') or '—'})" for s in sources
    )


def _csv_lines(entries: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + buffer.getvalue()  # the BOM makes spreadsheets read UTF-8
    for item in entries:
        buffer.seek(0)
        buffer.truncate()
        row = {**item, "sources": _source_text(item["sources"])}
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
        yield buffer.getvalue()


def _json_lines(header: dict[str, Any], entries: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield '{"export": ' + json.dumps(header, ensure_ascii=False) + ', "entries": ['
    for index, item in enumerate(entries):
        yield ("," if index else "") + "\n" + json.dumps(item, ensure_ascii=False)
    yield "\n]}\n"


def export_lines(session: Session, actor: User, export: Export) -> Iterator[str]:
    """The export as text chunks (CSV or JSON), streamed after `begin_export` accepted it."""
    entries = export_entries(session, actor, export)
    if export.fmt == "csv":
        return _csv_lines(entries)
    return _json_lines(export_header(session, actor, export), entries)


# The integrity check ---------------------------------------------------------------------------


@dataclass
class Check:
    """The result of checking the organisation's register and audit log."""

    register: Report
    audit: Report

    @property
    def ok(self) -> bool:
        """True when neither chain is broken."""
        return self.register.ok and self.audit.ok


def run_check(session: Session, actor: User, expect: str | None = None) -> Check:
    """Check the actor's organisation (`expect`: a register head noted elsewhere); noted in its
    audit log."""
    _require(actor, "register.read")
    return check_organisation(session, actor.org_id, actor, expect)


def check_organisation(
    session: Session, org_id: int, actor: User | None = None, expect: str | None = None
) -> Check:
    """Check both chains of an organisation and note the check in its audit log (no actor: the
    command line, which may check any organisation)."""
    result = Check(
        register.verify_register(session, org_id, expect), verify(session, AuditEntry, org_id)
    )
    broken = result.register.broken or result.audit.broken
    audit.record(
        session,
        org_id,
        actor,
        "register.verified",
        ok=result.ok,
        head={"seq": result.register.head_seq, "hash": result.register.head_hash},
        broken=asdict(broken) if broken else None,
    )
    session.commit()
    return result


# The audit log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log is narrowed to."""

    action: str = ""
    since: date | None = None
    until: date | None = None
    actor_id: int | None = None

    def query(self) -> dict[str, str]:
        """The filters as query parameters."""
        values = {k: "" if v is None else str(v) for k, v in asdict(self).items()}
        return {k: v for k, v in values.items() if v}


@dataclass
class AuditRow:
    """One entry of the audit log, as the page shows it."""

    seq: int
    at: datetime
    action: str
    actor_name: str | None
    details: dict[str, Any]
    hash: str


def search_audit(session: Session, actor: User, filters: AuditFilters, page: int = 1) -> Paged:
    """One page of the organisation's audit log, newest first."""
    _require(actor, "audit.read")
    if filters.actor_id is not None:
        _in_org(actor, session.get(User, filters.actor_id))
    if filters.action and filters.action not in audit.ACTIONS:
        raise UserError("audit_bad_action")
    start, end = _day_bounds(filters.since, filters.until)
    stmt = select(AuditEntry).where(AuditEntry.org_id == actor.org_id)
    if filters.action:
        stmt = stmt.where(AuditEntry.kind == filters.action)
    if filters.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == filters.actor_id)
    if start is not None:
        stmt = stmt.where(AuditEntry.at >= start)
    if end is not None:
        stmt = stmt.where(AuditEntry.at < end)
    found, total, page = _page(session, stmt.order_by(AuditEntry.seq.desc()), page)
    return Paged([_audit_row(entry) for (entry,) in found], total, page)


def _audit_row(entry: AuditEntry) -> AuditRow:
    details = json.loads(entry.payload)
    who = details.pop("actor", None) or {}
    return AuditRow(entry.seq, as_utc(entry.at), entry.kind, who.get("name"), details, entry.hash)


def audit_actors(session: Session, actor: User) -> list[tuple[int, str]]:
    """Users of the organisation who appear in its audit log, for the filter."""
    _require(actor, "audit.read")
    acting = select(AuditEntry.actor_id).where(AuditEntry.org_id == actor.org_id)
    stmt = (
        select(User.id, User.name)
        .where(User.org_id == actor.org_id, User.id.in_(acting))
        .order_by(User.name)
        .limit(CHOICES_LIMIT)
    )
    return [(i, n) for i, n in session.execute(stmt)]
