"""An organisation's jargon list for the FALC checker: the defaults, plus its own changes.

Only the changes are stored (terms added or re-suggested, defaults removed), so that a later
release's new default terms reach every organisation that did not remove them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.errors import Forbidden, UserError
from civique.governance import audit
from civique.tools.plain_language.jargon import DEFAULT_JARGON
from civique.tools.plain_language.jargon_models import JargonChange
from civique.tools.text import fold

MAX_TERM = 100
MAX_SUGGESTION = 200


@dataclass(frozen=True)
class JargonTerm:
    """One line of the organisation's list, and where it comes from."""

    term: str
    suggestion: str
    default: bool  # a term of DEFAULT_JARGON (possibly with the organisation's own suggestion)
    changed: bool  # the organisation added it or changed its suggestion


def _key(term: str) -> str:
    return " ".join(fold(term).split())


_DEFAULT_KEYS = {_key(term): term for term in DEFAULT_JARGON}


def _changes(session: Session, org_id: int) -> list[JargonChange]:
    stmt = select(JargonChange).where(JargonChange.org_id == org_id)
    return list(session.scalars(stmt))


def jargon_for(session: Session, org_id: int) -> dict[str, str]:
    """The term → plain-word map `falc.check` takes, for one organisation."""
    terms = dict(DEFAULT_JARGON)
    for change in _changes(session, org_id):
        default = _DEFAULT_KEYS.get(change.term_key)
        if default is not None:
            terms.pop(default, None)
        if not change.removed:
            terms[change.term] = change.suggestion
    return terms


def terms(session: Session, org_id: int) -> list[JargonTerm]:
    """The organisation's list for its page, alphabetical (accents ignored)."""
    changed = {c.term_key: c for c in _changes(session, org_id) if not c.removed}
    found = [
        JargonTerm(term, suggestion, _key(term) in _DEFAULT_KEYS, _key(term) in changed)
        for term, suggestion in jargon_for(session, org_id).items()
    ]
    return sorted(found, key=lambda t: _key(t.term))


def removed_defaults(session: Session, org_id: int) -> list[str]:
    """The default terms the organisation removed."""
    keys = {c.term_key for c in _changes(session, org_id) if c.removed}
    return sorted((_DEFAULT_KEYS[k] for k in keys if k in _DEFAULT_KEYS), key=_key)


def _manage(actor: User) -> None:
    if not can(actor.role, "tools.manage_jargon"):
        raise Forbidden()


def _change(session: Session, org_id: int, key: str) -> JargonChange | None:
    return session.scalar(
        select(JargonChange).where(JargonChange.org_id == org_id, JargonChange.term_key == key)
    )


def set_term(session: Session, actor: User, term: str, suggestion: str) -> None:
    """Add a term with its plain suggestion, or change the suggestion of a listed one."""
    _manage(actor)
    term, suggestion = " ".join(term.split()), " ".join(suggestion.split())
    if not term or len(term) > MAX_TERM:
        raise UserError("jargon_term_required", limit=MAX_TERM)
    if len(suggestion) > MAX_SUGGESTION:
        raise UserError("jargon_suggestion_too_long", limit=MAX_SUGGESTION)
    key = _key(term)
    default = _DEFAULT_KEYS.get(key)
    row = _change(session, actor.org_id, key)
    if default is not None and DEFAULT_JARGON[default] == suggestion:
        if row is not None:  # back to the default as it is: no change to keep
            session.delete(row)
    elif row is None:
        session.add(
            JargonChange(
                org_id=actor.org_id,
                term=default or term,
                term_key=key,
                suggestion=suggestion,
                removed=False,
            )
        )
    else:
        row.suggestion, row.removed = suggestion, False
    _audit(session, actor, "set", term=term, suggestion=suggestion)
    session.commit()


def remove_term(session: Session, actor: User, term: str) -> None:
    """Take a term off the list (a default is remembered as removed)."""
    _manage(actor)
    key = _key(term)
    row = _change(session, actor.org_id, key)
    default = _DEFAULT_KEYS.get(key)
    if default is None and row is None:
        raise UserError("jargon_unknown_term")
    if default is None:
        session.delete(row)
    elif row is None:
        session.add(JargonChange(org_id=actor.org_id, term=default, term_key=key, removed=True))
    else:
        row.removed, row.suggestion = True, ""
    _audit(session, actor, "removed", term=term)
    session.commit()


def restore_defaults(session: Session, actor: User, keep_own: bool = True) -> None:
    """Bring back every default term as shipped; with `keep_own`, the added terms stay."""
    _manage(actor)
    stmt = delete(JargonChange).where(JargonChange.org_id == actor.org_id)
    if keep_own:
        stmt = stmt.where(JargonChange.term_key.in_(list(_DEFAULT_KEYS)))
    session.execute(stmt)
    _audit(session, actor, "restored", keep_own=keep_own)
    session.commit()


def _audit(session: Session, actor: User, change: str, **details: object) -> None:
    audit.record(session, actor.org_id, actor, "tools.jargon_changed", change=change, **details)
