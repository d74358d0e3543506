"""The usage charter: versions an org admin publishes, and each user's acceptance of them.

Until an organisation publishes a charter nothing is asked. Once it has, every user accepts the
current version (on the page `/charter`) before using chat, documents or the API, and again
after each new version. API tokens act for their owner: the owner's acceptance covers them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.errors import Forbidden, NotFound, UserError
from civique.governance import audit
from civique.governance.policy_models import Charter, CharterAcceptance
from civique.textcheck import clean_text

# Actions that need the current charter accepted: using the workspace, not administering it
# (an admin publishes the first charter before anyone could have accepted one).
GATED_ACTIONS = frozenset({"chat.use", "documents.use", "api.use"})
MAX_CHARS = 20_000


@dataclass(frozen=True)
class CharterVersion:
    """A published version and how many users accepted it."""

    charter: Charter
    acceptances: int


def current(session: Session, org_id: int) -> Charter | None:
    """The organisation's newest charter, or None when it never published one."""
    return session.scalars(
        select(Charter).where(Charter.org_id == org_id).order_by(Charter.version.desc()).limit(1)
    ).first()


def pending(session: Session, user: User) -> Charter | None:
    """The charter `user` must still accept, or None (one query, on every gated request)."""
    row = session.execute(
        select(Charter, CharterAcceptance.id)
        .outerjoin(
            CharterAcceptance,
            and_(CharterAcceptance.charter_id == Charter.id, CharterAcceptance.user_id == user.id),
        )
        .where(Charter.org_id == user.org_id)
        .order_by(Charter.version.desc())
        .limit(1)
    ).first()
    if row is None or row[1] is not None:
        return None
    return row[0]


def needs_acceptance(session: Session, user: User, action: str) -> Charter | None:
    """The charter to accept before `action`, or None when the action is not gated."""
    return pending(session, user) if action in GATED_ACTIONS else None


def accepted(session: Session, user: User, charter: Charter) -> bool:
    """True when `user` accepted this version."""
    found = session.scalar(
        select(CharterAcceptance.id).where(
            CharterAcceptance.charter_id == charter.id, CharterAcceptance.user_id == user.id
        )
    )
    return found is not None


def accept(session: Session, user: User, version: int) -> Charter:
    """Record that `user` accepted `version`, which must be the current one (a version
    published while they were reading is refused, so they read it first). Idempotent."""
    charter = current(session, user.org_id)
    if charter is None:
        raise NotFound()
    if charter.version != version:
        raise UserError("charter_changed", 409)
    if not accepted(session, user, charter):
        session.add(CharterAcceptance(charter_id=charter.id, user_id=user.id))
        try:
            session.commit()
        except IntegrityError:  # accepted at the same moment in another tab: already done
            session.rollback()
    return charter


def publish(session: Session, actor: User, text: str) -> Charter:
    """Publish a new version of the charter: every user will be asked to accept it."""
    if not can(actor.role, "policy.manage"):
        raise Forbidden()
    if not text.strip():
        raise UserError("charter_empty")
    text = clean_text(text, MAX_CHARS)
    newest = session.scalar(
        select(func.max(Charter.version)).where(Charter.org_id == actor.org_id)
    )
    charter = Charter(
        org_id=actor.org_id, version=(newest or 0) + 1, text=text, published_by=actor.id
    )
    session.add(charter)
    session.flush()
    target = audit.target("charter", charter.id, f"v{charter.version}")
    audit.record(
        session, actor.org_id, actor, "charter.published", target=target, chars=len(text)
    )
    session.commit()
    return charter


def versions(session: Session, actor: User) -> list[CharterVersion]:
    """Every published version of the actor's organisation, newest first, with acceptances."""
    if not can(actor.role, "policy.read"):
        raise Forbidden()
    counts = (
        select(CharterAcceptance.charter_id, func.count().label("n"))
        .group_by(CharterAcceptance.charter_id)
        .subquery()
    )
    rows = session.execute(
        select(Charter, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.charter_id == Charter.id)
        .where(Charter.org_id == actor.org_id)
        .order_by(Charter.version.desc())
    ).all()
    return [CharterVersion(charter, int(n)) for charter, n in rows]


def org_charter(session: Session, actor: User, charter_id: int) -> CharterVersion:
    """One version of the actor's organisation (404 for any other)."""
    found = [v for v in versions(session, actor) if v.charter.id == charter_id]
    if not found:
        raise NotFound()
    return found[0]
