"""Masking personal data before a model sees it, and putting it back in what the model wrote.

Placeholders look like `[PERSONNE_1]`: the kind in French capitals and a number, the same
for every mention of one value within a scope (a conversation, or one API request), so the
model can still tell people apart and refer back to them. The agent's choices from the preview
apply: texts kept in clear (false positives) and texts masked although not detected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from civique.governance.pii import Finding
from civique.governance.vault import Mapping, Vault, fold_value
from civique.llm.types import ChatMessage

EXTRA_KIND = "DONNEE"  # what the agent masked by hand
POSSIBLE_KIND = "IDENTIFIANT"  # shaped like an identifier whose check digits fail
PLACEHOLDER = re.compile(r"\[([A-Z][A-Z_]*)_(\d{1,4})\]")
_LONGEST_PLACEHOLDER = 48

Detect = Callable[[str], list[Finding]]


@dataclass(frozen=True)
class Masking:
    """The agent's corrections to the detection: kept in clear, masked by hand."""

    keep: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()


@dataclass
class Masked:
    """Messages as the model gets them, and what restoring needs."""

    messages: list[ChatMessage]
    scope: str = ""
    values: dict[str, str] = field(default_factory=dict)  # placeholder → clear value
    used: dict[str, str] = field(default_factory=dict)  # placeholders of this call → kind

    def summary(self) -> dict[str, Any]:
        """Counts per kind of the placeholders sent, for records and pages (no values)."""
        kinds: dict[str, int] = {}
        for kind in self.used.values():
            kinds[kind] = kinds.get(kind, 0) + 1
        return {
            "masked": len(self.used),
            "kinds": kinds,
            "placeholders": sorted(self.used),
            "scope": self.scope,
        }


def mask_kind(finding: Finding) -> str:
    """The placeholder's kind: a failing checksum is not that identifier, only a possible one."""
    return finding.kind if finding.valid else POSSIBLE_KIND


def spans(text: str, findings: Sequence[Finding], masking: Masking) -> list[tuple[int, int, str]]:
    """(start, end, kind) to mask: findings not kept, plus every mention of the extra texts."""
    keep = {fold_value(k) for k in masking.keep if k.strip()}
    out = [(f.start, f.end, mask_kind(f)) for f in findings if fold_value(f.text) not in keep]
    for extra in masking.extra:
        if not extra.strip():
            continue
        for match in re.finditer(re.escape(extra.strip()), text, re.IGNORECASE):
            out.append((match.start(), match.end(), EXTRA_KIND))
    out.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    merged: list[tuple[int, int, str]] = []
    for span in out:
        if merged and span[0] < merged[-1][1]:
            continue  # inside (or across) a longer span already taken
        merged.append(span)
    return merged


class Pseudonymiser:
    """Masks messages for one scope, keeping the vault's placeholders consistent."""

    def __init__(self, vault: Vault, session: Session, org_id: int, scope: str) -> None:
        self._vault = vault
        self._session = session
        self._org_id = org_id
        self._scope = scope
        self._mapping: Mapping = vault.mapping(session, org_id, scope)
        self._counts = dict(self._mapping.counts)
        self._new: dict[str, str] = {}  # mac → placeholder, added during this call

    def placeholder(self, value: str, kind: str, store: bool = True) -> str:
        """The scope's placeholder for a value (a new one, stored, at its first mention)."""
        mac = self._vault.mac(value)
        found = self._mapping.by_mac.get(mac) or self._new.get(mac)
        if found:
            return found
        self._counts[kind] = self._counts.get(kind, 0) + 1
        name = f"[{kind}_{self._counts[kind]}]"
        if store:
            self._vault.add(self._session, self._org_id, self._scope, name, kind, value)
        self._new[mac] = name
        self._mapping.values[name] = value
        return name

    def mask(self, messages: list[ChatMessage], detect: Detect, masking: Masking) -> Masked:
        """Replace personal data in every message but the system prompts (ours, fixed)."""
        masked = Masked([], self._scope)
        for message in messages:
            if message.role == "system":
                masked.messages.append(message)
                continue
            text = message.content
            parts: list[str] = []
            cursor = 0
            for start, end, kind in spans(text, detect(text), masking):
                name = self.placeholder(text[start:end], kind)
                masked.used[name] = kind
                parts += [text[cursor:start], name]
                cursor = end
            parts.append(text[cursor:])
            masked.messages.append(ChatMessage(message.role, "".join(parts)))
        masked.values = dict(self._mapping.values)
        return masked


@dataclass(frozen=True)
class Planned:
    """What the preview shows of one span: where, what, and the placeholder it would get."""

    start: int
    end: int
    kind: str
    text: str
    placeholder: str
    valid: bool = True


def preview(pseudonymiser: Pseudonymiser, text: str, findings: Sequence[Finding]) -> list[Planned]:
    """Every finding with the placeholder it would get in this scope (nothing is stored)."""
    return [
        Planned(
            f.start,
            f.end,
            f.kind,
            f.text,
            pseudonymiser.placeholder(f.text, mask_kind(f), False),
            f.valid,
        )
        for f in findings
    ]


def restore(text: str, values: dict[str, str]) -> str:
    """Put the clear values back; a placeholder the model made up stays as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(0), m.group(0)), text)


class StreamRestorer:
    """Restores placeholders in streamed text, holding back a `[` until it is closed."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values
        self._pending = ""

    def feed(self, delta: str) -> str:
        """The text that can be shown now."""
        text = self._pending + delta
        opening = text.rfind("[")
        held = len(text) - opening <= _LONGEST_PLACEHOLDER
        if opening != -1 and "]" not in text[opening:] and held:
            self._pending = text[opening:]
            return restore(text[:opening], self._values)
        self._pending = ""
        return restore(text, self._values)

    def flush(self) -> str:
        """What was held back, at the end of the stream."""
        text, self._pending = self._pending, ""
        return restore(text, self._values)
