"""A data subject's traces, for the data-protection officer: found through the vault's keyed
hashes (pseudonymised outputs) and in clear texts (outputs of models cleared for personal data,
conversations), and erased on request.

Erasure deletes the subject's vault entries, replaces every mention in conversations and output
records by its placeholder (or `[EFFACÉ]`), and appends an `erased` event to the register with
the new texts' digests, so the register's chain still verifies and tells what happened; the
register entries themselves stay, pseudonymised, as retention law requires.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.chat.models import Conversation, Message
from civique.errors import Forbidden, UserError
from civique.governance import audit, register
from civique.governance.vault import Vault, VaultEntry
from civique.llm.models import OutputRecord

ERASED = "[EFFACÉ]"
MIN_CHARS = 3
MAX_CHARS = 200
MAX_HITS = 500


@dataclass
class SubjectTraces:
    """Where a value appears in the organisation (ids only, bounded)."""

    placeholders: dict[str, str] = field(default_factory=dict)  # scope → placeholder
    outputs: list[int] = field(default_factory=list)
    conversations: list[int] = field(default_factory=list)
    truncated: bool = False


@dataclass(frozen=True)
class Erasure:
    """What an erasure changed, for the page, the audit log and the tests."""

    vault_entries: int
    messages: int
    outputs: int


def _checked(actor: User, value: str) -> str:
    if not can(actor.role, "register.read"):
        raise Forbidden()
    value = " ".join(value.split())
    if not MIN_CHARS <= len(value) <= MAX_CHARS:
        raise UserError("subject_length", low=MIN_CHARS, high=MAX_CHARS)
    return value


def _pattern(value: str) -> re.Pattern[str]:
    """Mentions of the value in text: any case, any run of spaces between its words."""
    words = [re.escape(w) for w in value.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def find(session: Session, vault: Vault, actor: User, value: str) -> SubjectTraces:
    """Every output and conversation of the actor's organisation that mentions the value."""
    value = _checked(actor, value)
    traces = SubjectTraces(dict(vault.scopes_holding(session, actor.org_id, value)))
    scopes = list(traces.placeholders)
    like = f"%{value}%"
    text_match = or_(
        OutputRecord.output.ilike(like),
        cast(OutputRecord.input, String).ilike(like),
        OutputRecord.final_text.ilike(like),
    )
    outputs = session.scalars(
        select(OutputRecord.id)
        .where(
            OutputRecord.org_id == actor.org_id,
            or_(OutputRecord.vault_scope.in_(scopes), text_match) if scopes else text_match,
        )
        .order_by(OutputRecord.id)
        .limit(MAX_HITS + 1)
    ).all()
    conversation_ids = [int(s.split(":", 1)[1]) for s in scopes if s.startswith("conversation:")]
    mentioned = session.scalars(
        select(Message.conversation_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.org_id == actor.org_id, Message.content.ilike(like))
        .distinct()
        .limit(MAX_HITS + 1)
    ).all()
    traces.outputs = list(outputs[:MAX_HITS])
    traces.conversations = sorted(set(conversation_ids) | set(mentioned))[:MAX_HITS]
    traces.truncated = len(outputs) > MAX_HITS or len(mentioned) > MAX_HITS
    return traces


def erase(
    session: Session,
    vault: Vault,
    actor: User,
    value: str,
    reference: str,
    legal_hold: Callable[[Session, int], bool],
) -> Erasure:
    """Erase the value everywhere in the organisation; refused under legal hold."""
    value = _checked(actor, value)
    reference = " ".join(reference.split())
    if not 1 <= len(reference) <= 100:
        raise UserError("erasure_reference")
    if legal_hold(session, actor.org_id):
        raise UserError("erasure_legal_hold", 409)
    traces = find(session, vault, actor, value)
    pattern = _pattern(value)

    def redact(text: str, scope: str | None) -> str:
        return pattern.sub(traces.placeholders.get(scope or "", ERASED), text)

    messages = _redact_messages(session, traces, redact)
    outputs = _redact_outputs(session, actor, traces, redact, reference)
    entries = session.scalars(
        select(VaultEntry).where(
            VaultEntry.org_id == actor.org_id, VaultEntry.value_mac == vault.mac(value)
        )
    ).all()
    for entry in entries:
        session.delete(entry)
    result = Erasure(len(entries), messages, outputs)
    audit.record(
        session, actor.org_id, actor, "rights.erasure", reference=reference,
        vault_entries=result.vault_entries, messages=messages, outputs=outputs,
    )
    session.commit()
    return result


def _redact_messages(
    session: Session, traces: SubjectTraces, redact: Callable[[str, str | None], str]
) -> int:
    changed = 0
    for message in session.scalars(
        select(Message).where(Message.conversation_id.in_(traces.conversations))
    ):
        text = redact(message.content, f"conversation:{message.conversation_id}")
        if text != message.content:
            message.content = text
            changed += 1
    return changed


def _redact_outputs(
    session: Session,
    actor: User,
    traces: SubjectTraces,
    redact: Callable[[str, str | None], str],
    reference: str,
) -> int:
    changed = 0
    for record in session.scalars(select(OutputRecord).where(OutputRecord.id.in_(traces.outputs))):
        scope = record.vault_scope
        inputs = [{**m, "content": redact(m.get("content", ""), scope)} for m in record.input]
        output = redact(record.output, scope)
        final = redact(record.final_text, scope) if record.final_text is not None else None
        if (inputs, output, final) == (record.input, record.output, record.final_text):
            continue
        record.input, record.output, record.final_text = inputs, output, final
        register.record_erasure(session, record, actor, reference)
        changed += 1
    return changed
