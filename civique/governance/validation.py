"""Human validation of AI-assisted outputs: the author edits the final text and submits it, a
validator of the organisation approves or rejects it, and until approved a sensitive output
cannot leave Civique (file exports, the API's text).

Every function takes the acting user and checks, here and not in the routes, that they may see
or change the output: its author, or a validator or data-protection officer of its organisation.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.db.base import as_utc
from civique.errors import Forbidden, NotFound, UserError
from civique.governance import exports, register
from civique.governance.models import RegisterEvent
from civique.governance.policy import get_policy
from civique.i18n import gettext
from civique.llm.models import OutputRecord
from civique.orgs.models import Organisation
from civique.settings import Settings
from civique.textcheck import clean_text

DECISIONS = {"approve": "approved", "reject": "rejected"}
COMMENT_MAX_CHARS = 2000
QUEUE_LIMIT = 500


def needs_validation(
    session: Session,
    settings: Settings,
    org_id: int,
    tool: str,
    record: OutputRecord | None = None,
) -> bool:
    """Whether outputs of `tool` (this output, when given) need a validator's approval here.

    The one place that decides it: the instance's `CIVIQUE_VALIDATION_TOOLS`, the tools the
    organisation's AI-use policy names, or a drafting tool's own rule (its default, or the
    organisation's override on the tools page; a tool's default may depend on the output's
    inputs, e.g. refusal letters). Any of them is enough: "never" on the tools page lifts the
    tool's default, not the policy's or the instance's requirement."""
    if tool in settings.validation_tools or get_policy(session, org_id).requires_validation(tool):
        return True
    from civique.tools import org_settings  # the tools read governance; import at call time

    return org_settings.requires_validation(session, org_id, tool, record)


def gated(session: Session, settings: Settings, record: OutputRecord) -> bool:
    """True while the output may not leave Civique: its tool needs validation, or its author
    asked for it, and it is not approved (yet, or any more after a rejection)."""
    if record.validation == "approved":
        return False
    if record.validation in ("pending", "rejected"):
        return True
    return needs_validation(session, settings, record.org_id, record.tool, record)


def check_exportable(session: Session, settings: Settings, record: OutputRecord) -> None:
    """Refuse (403) to let a gated output out: every export or sending calls this first."""
    if gated(session, settings, record):
        raise UserError("validation_required", 403)


# Who may do what -------------------------------------------------------------------------------


def is_reader(actor: User) -> bool:
    """Validators, administrators and the DPO read the organisation's outputs."""
    return can(actor.role, "outputs.validate") or can(actor.role, "register.read")


def readable(session: Session, actor: User, output_id: int) -> OutputRecord:
    """An output the actor may read; 404 for anyone else (another organisation, a colleague)."""
    record = session.get(OutputRecord, output_id)
    if record is None or record.org_id != actor.org_id:
        raise NotFound()
    if record.user_id != actor.id and not is_reader(actor):
        raise NotFound()
    return record


def own(session: Session, actor: User, output_id: int) -> OutputRecord:
    """An output the actor authored (its readers may look, not change it: 403)."""
    record = readable(session, actor, output_id)
    if record.user_id != actor.id:
        raise Forbidden()
    return record


def _unit_only(actor: User) -> bool:
    """A validator with a unit (a head of unit) decides on their unit's outputs; without one,
    and as an administrator, on the whole organisation's (so no output is left without one)."""
    return actor.unit_id is not None and not can(actor.role, "org.manage")


def in_scope(actor: User, record: OutputRecord) -> bool:
    """Whether the validator may decide on this output (see `_unit_only`)."""
    return not _unit_only(actor) or record.unit_id == actor.unit_id


# The author ------------------------------------------------------------------------------------


def current_text(record: OutputRecord) -> str:
    """The final text when one was saved, else the AI draft."""
    return record.final_text if record.final_text is not None else record.output


def edit(session: Session, actor: User, output_id: int, text: str, limit: int) -> bool:
    """Save the author's final text (an `edited` event); False when nothing changed.

    Refused while a validator looks at it or once approved: the approval is of that text."""
    record = own(session, actor, output_id)
    if record.validation == "pending":
        raise UserError("validation_edit_pending", 409)
    if record.validation == "approved":
        raise UserError("validation_edit_approved", 409)
    text = clean_text(text, limit)
    if text == current_text(record):
        return False
    register.record_event(session, record, actor, "edited", text=text)
    session.commit()
    return True


def submit(session: Session, actor: User, output_id: int) -> OutputRecord:
    """Send the output to the organisation's validators (a `submitted` event)."""
    record = own(session, actor, output_id)
    if record.validation == "pending":
        raise UserError("validation_already_pending", 409)
    if record.validation == "approved":
        raise UserError("validation_already_approved", 409)
    register.record_event(session, record, actor, "submitted")
    session.commit()
    return record


# The validator ---------------------------------------------------------------------------------


def decide(
    session: Session, actor: User, output_id: int, decision: str, comment: str
) -> OutputRecord:
    """Approve or reject a pending output of someone else (a comment is required to reject)."""
    if not can(actor.role, "outputs.validate"):
        raise Forbidden()
    record = readable(session, actor, output_id)
    if record.user_id == actor.id:
        raise UserError("validation_own", 403)
    if not in_scope(actor, record):
        raise UserError("validation_other_unit", 403)
    if decision not in DECISIONS:
        raise UserError("validation_bad_decision")
    if record.validation != "pending":
        raise UserError("validation_not_pending", 409)
    comment = clean_text(comment, COMMENT_MAX_CHARS, allow_empty=True)
    if decision == "reject" and not comment:
        raise UserError("validation_comment_required")
    register.record_event(session, record, actor, DECISIONS[decision], comment=comment)
    session.commit()
    return record


@dataclass(frozen=True)
class QueueRow:
    """A pending output in the validators' queue."""

    id: int
    tool: str
    author: str | None
    created_at: datetime
    submitted_at: datetime | None


def queue(session: Session, actor: User) -> list[QueueRow]:
    """Pending outputs the validator may decide on (their own excluded), oldest first."""
    if not can(actor.role, "outputs.validate"):
        raise Forbidden()
    stmt = (
        select(OutputRecord, User.name)
        .outerjoin(User, User.id == OutputRecord.user_id)
        .where(OutputRecord.org_id == actor.org_id, OutputRecord.validation == "pending")
        .where((OutputRecord.user_id != actor.id) | OutputRecord.user_id.is_(None))
        .order_by(OutputRecord.id)
        .limit(QUEUE_LIMIT)
    )
    if _unit_only(actor):
        stmt = stmt.where(OutputRecord.unit_id == actor.unit_id)
    rows = session.execute(stmt).all()
    submitted = _submitted_at(session, actor.org_id, [r.id for r, _ in rows])
    return [
        QueueRow(r.id, r.tool, name, as_utc(r.created_at), submitted.get(r.id)) for r, name in rows
    ]


# What the pages and the exports show ----------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """The last approval or rejection of an output."""

    kind: str
    by: str | None
    at: datetime
    comment: str


@dataclass(frozen=True)
class Segment:
    """A run of words of the diff: same, inserted or deleted."""

    op: str  # equal | insert | delete
    text: str


@dataclass
class OutputView:
    """An output with its validation state, as its pages and exports show it."""

    record: OutputRecord
    author: str | None
    needs: bool
    gated: bool
    decision: Decision | None
    submitted_at: datetime | None
    exports: int
    actor_is_author: bool
    may_decide: bool
    diff: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        """What is exported: the final text, or the draft."""
        return current_text(self.record)


def view(session: Session, settings: Settings, actor: User, output_id: int) -> OutputView:
    """An output the actor may read, with its decision, diff and what the actor may do."""
    record = readable(session, actor, output_id)
    events = register.events_of(session, actor.org_id, record.id)
    decided = next((e for e in reversed(events) if e.kind in ("approved", "rejected")), None)
    submitted = next((e for e in reversed(events) if e.kind == "submitted"), None)
    author = session.get(User, record.user_id) if record.user_id is not None else None
    return OutputView(
        record=record,
        author=author.name if author is not None and author.org_id == actor.org_id else None,
        needs=needs_validation(session, settings, record.org_id, record.tool, record),
        gated=gated(session, settings, record),
        decision=_decision(decided) if decided is not None else None,
        submitted_at=as_utc(submitted.at) if submitted is not None else None,
        exports=sum(1 for e in events if e.kind == "exported"),
        actor_is_author=record.user_id == actor.id,
        may_decide=can(actor.role, "outputs.validate")
        and record.user_id != actor.id
        and in_scope(actor, record)
        and record.validation == "pending",
        diff=word_diff(record.output, current_text(record)),
    )


def _decision(event: RegisterEvent) -> Decision:
    details = json.loads(event.payload)
    by = details.get("by") or {}
    return Decision(event.kind, by.get("name"), as_utc(event.at), str(details.get("comment", "")))


def _submitted_at(session: Session, org_id: int, output_ids: list[int]) -> dict[int, datetime]:
    """When each of these outputs was last submitted."""
    stmt = (
        select(RegisterEvent.output_id, func.max(RegisterEvent.at))
        .where(
            RegisterEvent.org_id == org_id,
            RegisterEvent.output_id.in_(output_ids),
            RegisterEvent.kind == "submitted",
        )
        .group_by(RegisterEvent.output_id)
    )
    return {output_id: as_utc(at) for output_id, at in session.execute(stmt)}


_WORDS = re.compile(r"\s+|[^\s]+")


def word_diff(before: str, after: str) -> list[Segment]:
    """Word-level differences from the AI draft to the final text (spaces kept as they were)."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    segments: list[Segment] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            segments.append(Segment("delete", "".join(old[i1:i2])))
        if op in ("insert", "replace"):
            segments.append(Segment("insert", "".join(new[j1:j2])))
        if op == "equal":
            segments.append(Segment("equal", "".join(old[i1:i2])))
    return segments


# Exports ---------------------------------------------------------------------------------------


def _contact(session: Session, org_id: int) -> tuple[str, ...]:
    """The letterhead's contact lines (address, then telephone · e-mail · website)."""
    from civique.tools.letters.library import letterhead  # tools read governance: at call time

    head = letterhead(session, org_id)
    phone = gettext("Tel. %(phone)s", phone=head.phone) if head.phone else ""
    reach = " · ".join(r for r in (phone, head.email, head.website) if r)
    return (*head.address_lines, reach) if reach else head.address_lines


@dataclass(frozen=True)
class ExportedFile:
    """A built export, ready to send."""

    filename: str
    media_type: str
    data: bytes


def export(
    session: Session, settings: Settings, actor: User, output_id: int, fmt: str
) -> ExportedFile:
    """Build an output's file once it may leave Civique, and note the export in the register."""
    if fmt not in exports.FORMATS:
        raise UserError("export_bad_format")
    current = view(session, settings, actor, output_id)
    check_exportable(session, settings, current.record)
    doc = export_doc(session, current)
    data = exports.build(doc, fmt)
    register.record_event(session, current.record, actor, "exported", format=fmt)
    session.commit()
    return ExportedFile(exports.filename(doc, fmt), exports.FORMATS[fmt][0], data)


def export_doc(session: Session, current: OutputView) -> exports.ExportDoc:
    """The letterhead, text, mention and metadata of an output's file."""
    record = current.record
    org = session.get(Organisation, record.org_id)
    decision = current.decision
    approved = decision if decision is not None and decision.kind == "approved" else None
    created = as_utc(record.created_at)
    model = f"{record.model_id} {record.model_version}".strip()
    mention = exports.mention(
        model, created, approved.by if approved else None, approved.at if approved else None
    )
    from civique.tools.outputs import proofreading_mention, tool_notice  # tools read governance

    proofread = proofreading_mention(session, record)
    notice = tool_notice(record)
    mention = " ".join(m for m in (notice, mention, proofread) if m)
    return exports.ExportDoc(
        contact=_contact(session, record.org_id),
        output_id=record.id,
        org_name=org.name if org else "",
        logo=org.logo if org else None,
        logo_mime=org.logo_mime if org else None,
        title=gettext("Document no. %(id)s", id=record.id),
        text=current.text,
        author=current.author or "",
        created_at=created,
        mention=mention,
        keywords=(gettext("AI-assisted"), "Civique", record.model_id),
        fields={
            "civique-output": str(record.id),
            "ai-model": model,
            "ai-tool": record.tool,
            "validation": record.validation,
            "validated-by": (approved.by or "") if approved else "",
            "validated-at": approved.at.isoformat() if approved else "",
            "proofread": proofread or "",
            "tool-notice": notice or "",
        },
    )
