"""Words of the register and the audit log in the reader's language: event kinds, validation
statuses, why a check failed, and a one-line summary of an audit entry."""

from __future__ import annotations

from typing import Any

from civique.auth.roles import ROLE_LABELS
from civique.errors import N_
from civique.governance.chain import Break
from civique.i18n import gettext

EVENTS: dict[str, str] = {
    "created": N_("AI draft produced"),
    "submitted": N_("Submitted for validation"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "edited": N_("Final text edited"),
    "exported": N_("Exported"),
    "erased": N_("Data subject erased (texts redacted)"),
}

STATUSES: dict[str, str] = {
    "not_required": N_("Not required"),
    "pending": N_("Pending"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}

SPEAKERS: dict[str, str] = {
    "system": N_("Instructions"),
    "user": N_("User"),
    "assistant": N_("Assistant"),
}

REASONS: dict[str, str] = {
    "missing": N_("Entry %(seq)s is missing: entries %(detail)s were deleted."),
    "out_of_order": N_("Entry %(seq)s is out of order: entries were renumbered."),
    "altered": N_("Entry %(seq)s was altered: its content no longer matches its hash."),
    "relinked": N_(
        "Entry %(seq)s does not follow the entry before it: an entry was altered and re-hashed, "
        "inserted or removed."
    ),
    "truncated": N_("Entries from %(seq)s on were removed: the stored head is %(detail)s."),
    "beyond_head": N_(
        "Entries from %(seq)s on were added outside Civique: the stored head is %(detail)s."
    ),
    "head_mismatch": N_("The stored head %(detail)s does not match entry %(seq)s."),
    "expected_head_missing": N_(
        "The head you noted (%(detail)s) is not in the register any more: it was truncated or "
        "rewritten."
    ),
    "output_missing": N_("Output #%(detail)s, registered at entry %(seq)s, was deleted."),
    "input_altered": N_(
        "The input of output #%(detail)s differs from what entry %(seq)s registered."
    ),
    "output_altered": N_(
        "The AI draft of output #%(detail)s differs from what entry %(seq)s registered."
    ),
    "final_altered": N_(
        "The final text of output #%(detail)s differs from what the register recorded."
    ),
    "validation_altered": N_(
        "The validation status of output #%(detail)s differs from what the register recorded."
    ),
    "unregistered": N_(
        "Output #%(detail)s is missing from the register although it was made after the "
        "register began."
    ),
}

FIELDS: dict[str, str] = {
    "role": N_("role"),
    "unit": N_("unit"),
    "enabled": N_("enabled"),
    "roles": N_("roles"),
    "default": N_("default"),
    "name": N_("name"),
    "colour": N_("colour"),
    "logo": N_("logo"),
    "method": N_("method"),
    "reason": N_("reason"),
    "client": N_("address"),
    "purpose": N_("purpose"),
    "format": N_("format"),
    "rows": N_("entries"),
    "ok": N_("intact"),
    "models": N_("models"),
    "address": N_("postal address"),
    "phone": N_("telephone"),
    "email": N_("e-mail"),
    "website": N_("website"),
}


def label(labels: dict[str, str], value: str) -> str:
    """The translated label of a known value; an unknown one as it is."""
    return gettext(labels[value]) if value in labels else value


def describe_break(broken: Break) -> str:
    """Why a chain is broken, in the reader's language."""
    text = REASONS.get(broken.reason, broken.reason)
    return gettext(text, seq=broken.seq, detail=broken.detail or "—")


def _value(field: str, value: Any) -> str:
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(_value(field, v) for v in value)
    if field in ("role", "roles") and value in ROLE_LABELS:
        return gettext(ROLE_LABELS[value])
    return str(value)


def audit_summary(details: dict[str, Any]) -> str:
    """One line about an audit entry: its object, what changed, and the other facts."""
    parts = []
    target = details.get("target")
    if isinstance(target, dict) and target.get("name"):
        parts.append(str(target["name"]))
    for field, change in (details.get("changes") or {}).items():
        before, after = change
        change_text = f"{_value(field, before)} → {_value(field, after)}"
        parts.append(gettext("%(field)s: %(value)s", field=label(FIELDS, field), value=change_text))
    for field, value in details.items():
        if field in FIELDS:
            shown = _value(field, value)
            parts.append(gettext("%(field)s: %(value)s", field=label(FIELDS, field), value=shown))
    return " · ".join(parts)
