"""What pages and the API show of masking: the preview's spans, labels and messages."""

from __future__ import annotations

from typing import Any

from civique.errors import UserError
from civique.governance.pii import KIND_LABELS
from civique.governance.pseudonymise import EXTRA_KIND, Masking, Planned
from civique.i18n import gettext
from civique.llm.types import ModelInfo

MAX_CORRECTIONS = 50
MAX_CORRECTION_CHARS = 200


def masking_from(keep: list[str] | None, extra: list[str] | None) -> Masking:
    """The agent's corrections, bounded: at most 50 of each, 200 characters each."""
    keep = [k.strip() for k in keep or [] if k.strip()]
    extra = [e.strip() for e in extra or [] if e.strip()]
    if len(keep) > MAX_CORRECTIONS or len(extra) > MAX_CORRECTIONS:
        raise UserError("masking_too_many", limit=MAX_CORRECTIONS)
    if any(len(t) > MAX_CORRECTION_CHARS for t in [*keep, *extra]):
        raise UserError("masking_too_long", limit=MAX_CORRECTION_CHARS)
    return Masking(tuple(keep), tuple(extra))


def kind_label(kind: str) -> str:
    """What a kind of personal data is called in the page."""
    if kind == EXTRA_KIND:
        return gettext("masked by you")
    return gettext(KIND_LABELS.get(kind, kind.lower()))


def finding_json(item: Planned) -> dict[str, Any]:
    """One span of the preview, as the page's script reads it."""
    return {
        "start": item.start,
        "end": item.end,
        "kind": item.kind,
        "label": kind_label(item.kind),
        "text": item.text,
        "placeholder": item.placeholder,
        "valid": item.valid,
    }


def preview_json(info: ModelInfo, planned: list[Planned] | None) -> dict[str, Any]:
    """The preview: whether masking applies, why not, and each span."""
    if planned is None:
        return {
            "applies": False,
            "message": gettext(
                "%(model)s is cleared for personal data: nothing will be masked.",
                model=info.label,
            ),
            "findings": [],
        }
    return {
        "applies": True,
        "message": gettext(
            "%(model)s is not cleared for personal data: what is ticked below is replaced by "
            "placeholders before it is sent, and put back in the answer.",
            model=info.label,
        )
        if planned
        else gettext("No personal data found: the message is sent as it is."),
        "findings": [finding_json(p) for p in planned],
    }
