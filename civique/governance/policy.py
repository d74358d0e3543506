"""The organisation's AI-use policy: tools whose outputs need a validator, retention periods
and the legal hold. One row per organisation (`org_policies`); no row means the defaults.

Other features read it with `get_policy(session, org_id)`: the validation workflow asks
`policy.requires_validation(tool)`, erasure and the retention purge check `policy.legal_hold`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.db.base import utcnow
from civique.errors import N_, Forbidden, UserError
from civique.governance import audit
from civique.governance.policy_models import OrgPolicy
from civique.i18n import gettext

# The tools an organisation may ask validation for, besides the registered drafting tools
# (`known_tools` adds those from the tool registry).
TOOLS: dict[str, str] = {
    "chat": N_("Chat (workspace)"),
    "api.chat": N_("Chat completions through the API"),
}


def known_tools() -> dict[str, str]:
    """Every tool id the policy may name, with its label (an English source string)."""
    from civique.tools.registry import default_registry  # the registry reads no governance

    return {**TOOLS, **{tool.id: tool.name for tool in default_registry().tools()}}

# Kinds of data with a retention period, in the order pages show them, and their labels.
RETENTION_KINDS: dict[str, str] = {
    "conversations": N_("conversations"),
    "documents": N_("uploaded documents"),
    "audio": N_("audio recordings"),
    "vault": N_("re-identification vault entries"),
    "register": N_("register entries"),
}
MIN_DAYS = 1
MAX_DAYS = 36500  # a hundred years: anything longer is a typing error, "keep forever" is empty


@dataclass(frozen=True)
class Retention:
    """Retention periods in days; None keeps forever."""

    conversations: int | None = None
    documents: int | None = None
    audio: int | None = None
    vault: int | None = None
    register: int | None = None

    def days(self, kind: str) -> int | None:
        """The period of one kind of data."""
        value: int | None = getattr(self, kind)
        return value


@dataclass(frozen=True)
class Policy:
    """An organisation's policy as the other features read it."""

    org_id: int
    validation_tools: tuple[str, ...] = ()
    retention: Retention = field(default_factory=Retention)
    legal_hold: bool = False
    updated_at: datetime | None = None
    updated_by: int | None = None

    def requires_validation(self, tool: str) -> bool:
        """True when outputs of `tool` must be approved by a validator."""
        return tool in self.validation_tools

    def fields(self) -> dict[str, object]:
        """The settings as the audit log compares them, one field per period."""
        periods = {f"{kind}_days": days for kind, days in asdict(self.retention).items()}
        return {
            "validation_tools": list(self.validation_tools),
            **periods,
            "legal_hold": self.legal_hold,
        }


def get_policy(session: Session, org_id: int) -> Policy:
    """The organisation's policy, or the defaults when it never set one (no permission check:
    for services acting on the organisation's own data)."""
    row = session.get(OrgPolicy, org_id)
    if row is None:
        return Policy(org_id)
    return _from_row(row)


def _from_row(row: OrgPolicy) -> Policy:
    retention = Retention(**{kind: getattr(row, f"{kind}_days") for kind in RETENTION_KINDS})
    return Policy(
        row.org_id,
        tuple(row.validation_tools or ()),
        retention,
        bool(row.legal_hold),
        row.updated_at,
        row.updated_by,
    )


def read_policy(session: Session, actor: User) -> Policy:
    """The policy of the actor's organisation (administrators and the data-protection officer)."""
    if not can(actor.role, "policy.read"):
        raise Forbidden()
    return get_policy(session, actor.org_id)


def checked_tools(tools: Iterable[str]) -> tuple[str, ...]:
    """Known tool ids, sorted and without repeats; an unknown one is refused."""
    chosen = sorted({t.strip() for t in tools if t.strip()})
    for tool in chosen:
        if tool not in known_tools():
            raise UserError("policy_unknown_tool", tool=tool[:80])
    return tuple(chosen)


def checked_retention(periods: Mapping[str, int | None]) -> Retention:
    """Periods of known kinds, each empty or from 1 to 36,500 days."""
    unknown = set(periods) - set(RETENTION_KINDS)
    if unknown:
        raise UserError("bad_request")
    for kind, days in periods.items():
        if days is not None and not MIN_DAYS <= days <= MAX_DAYS:
            raise _out_of_range(kind)
    return Retention(**periods)


def parse_days(kind: str, text: str) -> int | None:
    """A period typed in a form: empty keeps forever; anything but a whole number is refused."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        raise _out_of_range(kind)
    return int(text)


def _out_of_range(kind: str) -> UserError:
    # The kind is named in the caller's language: error messages do not translate parameters.
    return UserError(
        "retention_out_of_range", kind=gettext(RETENTION_KINDS[kind]), low=MIN_DAYS, high=MAX_DAYS
    )


def update_policy(
    session: Session,
    actor: User,
    validation_tools: Iterable[str],
    retention: Mapping[str, int | None],
    legal_hold: bool,
) -> Policy:
    """Replace the organisation's policy; every input is checked before anything changes, and
    the change is written to the audit log with what differs."""
    if not can(actor.role, "policy.manage"):
        raise Forbidden()
    new = Policy(
        actor.org_id, checked_tools(validation_tools), checked_retention(retention), legal_hold
    )
    before = get_policy(session, actor.org_id)
    changed = audit.changes(before.fields(), new.fields())
    if not changed:
        return before
    row = session.get(OrgPolicy, actor.org_id)
    if row is None:
        row = OrgPolicy(org_id=actor.org_id)
        session.add(row)
    row.validation_tools = list(new.validation_tools)
    for kind in RETENTION_KINDS:
        setattr(row, f"{kind}_days", new.retention.days(kind))
    row.legal_hold = legal_hold
    row.updated_at, row.updated_by = utcnow(), actor.id
    audit.record(session, actor.org_id, actor, "policy.changed", changes=changed)
    session.commit()
    return _from_row(row)


def legal_hold(session: Session, org_id: int) -> bool:
    """True while the organisation holds everything: nothing purged, nothing erased."""
    return get_policy(session, org_id).legal_hold


def refuse_if_held(session: Session, org_id: int) -> None:
    """Refuse an erasure while the organisation is under legal hold (409)."""
    if legal_hold(session, org_id):
        raise UserError("erasure_legal_hold", 409)
