"""Feedback on outputs: did it help, minutes saved, satisfaction, problems, what was done with it.

Anyone who may read an output (`governance.validation.readable`: its author, or a validator, the
DPO or an administrator of its organisation) gives one feedback on it, and may change it later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.db.base import as_utc, utcnow
from civique.errors import N_, UserError
from civique.governance.validation import readable
from civique.lab.feedback_models import LabFeedback
from civique.llm.models import OutputRecord
from civique.textcheck import clean_text

# Bit of each problem in `LabFeedback.problem_flags` (never renumber: stored data).
PROBLEMS: dict[str, int] = {
    "factual_error": 1,
    "wrong_citation": 2,
    "tone": 4,
    "legal": 8,
    "bias": 16,
    "other": 32,
}
PROBLEM_LABELS: dict[str, str] = {
    "factual_error": N_("Factual error"),
    "wrong_citation": N_("Wrong citation"),
    "tone": N_("Tone"),
    "legal": N_("Legal problem"),
    "bias": N_("Bias"),
    "other": N_("Other"),
}
USAGES: dict[str, str] = {
    "as_is": N_("Used as is"),
    "edited": N_("Edited before use"),
    "discarded": N_("Discarded"),
}
# A working day: a longer gain for one output is a typing error, or several uses counted as one.
MAX_MINUTES = 480
COMMENT_MAX_CHARS = 1000
FIELDS = (
    "helped",
    "minutes_saved",
    "minutes_without_ai",
    "satisfaction",
    "problems",
    "comment",
    "usage",
)


class FeedbackError(UserError):
    """A refused feedback, naming the field to point at (the form keeps every value)."""

    def __init__(self, code: str, field: str, **params: Any) -> None:
        super().__init__(code, 400, **params)
        self.field = field


def _flag(value: object) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in ("", "none"):
        return None
    if text in ("yes", "true", "1", "up"):
        return True
    if text in ("no", "false", "0", "down"):
        return False
    raise FeedbackError("lab_feedback_bad_helped", "helped")


def _minutes(name: str, value: object) -> int | None:
    """Whole minutes from 0 to MAX_MINUTES; empty means not said."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise FeedbackError(f"lab_feedback_{name}", name, limit=MAX_MINUTES) from None
    if isinstance(value, bool) or not 0 <= number <= MAX_MINUTES:
        raise FeedbackError(f"lab_feedback_{name}", name, limit=MAX_MINUTES)
    return number


def _satisfaction(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if isinstance(value, bool) or text not in {"1", "2", "3", "4", "5"}:
        raise FeedbackError("lab_feedback_satisfaction", "satisfaction")
    return int(text)


def _problems(value: object) -> list[str]:
    items = [value] if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]
    codes = [str(item).strip() for item in items if str(item).strip()]
    unknown = [c for c in codes if c not in PROBLEMS]
    if unknown:
        raise FeedbackError("lab_feedback_problem", "problems", problem=unknown[0][:40])
    return [code for code in PROBLEMS if code in codes]  # one each, in a stable order


def _usage(value: object) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    if text not in USAGES:
        raise FeedbackError("lab_feedback_usage", "usage")
    return text


def _comment(value: object) -> str:
    try:
        return clean_text(str(value or ""), COMMENT_MAX_CHARS, allow_empty=True)
    except UserError as exc:
        raise FeedbackError(exc.code, "comment", **exc.params) from None


def parse(changes: Mapping[str, object]) -> dict[str, Any]:
    """Check and convert the fields given (form strings or JSON values); others are kept."""
    parsers = {
        "helped": _flag,
        "minutes_saved": lambda v: _minutes("minutes_saved", v),
        "minutes_without_ai": lambda v: _minutes("minutes_without_ai", v),
        "satisfaction": _satisfaction,
        "problems": _problems,
        "comment": _comment,
        "usage": _usage,
    }
    return {name: parsers[name](value) for name, value in changes.items() if name in parsers}


def mine(session: Session, actor: User, output_id: int) -> LabFeedback | None:
    """The actor's feedback on an output they may read (404 otherwise)."""
    readable(session, actor, output_id)
    return _find(session, actor, output_id)


def _find(session: Session, actor: User, output_id: int) -> LabFeedback | None:
    return session.scalar(
        select(LabFeedback).where(
            LabFeedback.output_id == output_id, LabFeedback.user_id == actor.id
        )
    )


def mine_for(session: Session, actor: User, output_ids: Iterable[int]) -> dict[int, LabFeedback]:
    """The actor's own feedback on these outputs (for the chat page: one query)."""
    ids = [i for i in output_ids if i]
    if not ids:
        return {}
    rows = session.scalars(
        select(LabFeedback).where(
            LabFeedback.user_id == actor.id,
            LabFeedback.org_id == actor.org_id,
            LabFeedback.output_id.in_(ids),
        )
    )
    return {row.output_id: row for row in rows}


def give(
    session: Session, actor: User, output_id: int, changes: Mapping[str, object]
) -> LabFeedback:
    """Create or update the actor's feedback with the fields given; the others are kept."""
    record = readable(session, actor, output_id)
    values = parse(changes)
    row = _find(session, actor, output_id)
    if row is None:
        if values.get("helped") is None:
            raise FeedbackError("lab_feedback_helped_required", "helped")
        row = LabFeedback(org_id=record.org_id, output_id=record.id, user_id=actor.id)
        session.add(row)
    elif "helped" in values and values["helped"] is None:
        del values["helped"]  # the detail form without an answer keeps the thumbs' one
    for name, value in values.items():
        setattr(row, name, value)
    row.problem_flags = sum(PROBLEMS[code] for code in row.problems or [])
    row.updated_at = utcnow()
    _outdate_rollup(session, record)
    session.commit()
    return row


def _outdate_rollup(session: Session, record: OutputRecord) -> None:
    """Feedback counts in its output's week: if that week was rolled up, read it live again."""
    from civique.lab import rollups  # rollups reads PROBLEMS from this module

    rollups.invalidate(session, record.org_id, rollups.monday(as_utc(record.created_at).date()))


def as_dict(row: LabFeedback | None) -> dict[str, Any]:
    """A feedback as the API and the data export give it (empty fields when none yet)."""
    if row is None:
        return {name: None for name in FIELDS} | {"problems": [], "comment": ""}
    return {
        "output_id": row.output_id,
        "helped": row.helped,
        "minutes_saved": row.minutes_saved,
        "minutes_without_ai": row.minutes_without_ai,
        "satisfaction": row.satisfaction,
        "problems": list(row.problems or []),
        "comment": row.comment,
        "usage": row.usage,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


def form_values(row: LabFeedback | None) -> dict[str, Any]:
    """What the feedback form shows for a saved feedback (helped as yes, no or empty)."""
    saved = as_dict(row)
    helped = saved["helped"]
    return saved | {"helped": "" if helped is None else ("yes" if helped else "no")}


def of_user(session: Session, user: User) -> list[dict[str, Any]]:
    """Every feedback the user gave (their data export)."""
    rows = session.scalars(
        select(LabFeedback).where(LabFeedback.user_id == user.id).order_by(LabFeedback.id)
    )
    return [as_dict(row) for row in rows]
