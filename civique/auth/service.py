"""Accounts: login with throttling, API tokens, invitation and reset links, user management."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civique.auth.models import ApiToken, LoginFailure, OneTimeLink, User
from civique.auth.passwords import hash_password, verify_password
from civique.auth.roles import ALL_ROLES, Role
from civique.db.base import as_utc, utcnow
from civique.errors import NotFound, UserError
from civique.governance import audit
from civique.orgs.models import Organisation, Unit
from civique.settings import Settings
from civique.textcheck import clean_text

TOKEN_PREFIX = "civ_"
_LAST_USED_PRECISION = timedelta(minutes=1)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def sha256_hex(value: str) -> str:
    """Hex sha256 of a secret, as stored at rest."""
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """Lower-cased, stripped; refuses malformed addresses."""
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise UserError("email_invalid")
    return email


def check_password(settings: Settings, password: str, confirm: str | None = None) -> None:
    """Refuse short passwords and mismatched confirmations."""
    if len(password) < settings.password_min_length:
        raise UserError("password_short", limit=settings.password_min_length)
    if confirm is not None and password != confirm:
        raise UserError("password_mismatch")


def authenticate(
    session: Session, settings: Settings, email: str, password: str, client: str
) -> User:
    """Return the active user with these credentials, or raise the same error for every failure."""
    email = email.strip().lower()[:254]
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    per_email = (
        session.scalar(
            select(func.count()).where(LoginFailure.email == email, LoginFailure.at >= since)
        )
        or 0
    )
    per_client = (
        session.scalar(
            select(func.count()).where(LoginFailure.client == client, LoginFailure.at >= since)
        )
        or 0
    )
    if per_email >= settings.login_max_failures or per_client >= settings.login_max_failures_per_ip:
        raise UserError("login_throttled", 429, minutes=settings.login_window_seconds // 60)
    user = session.scalar(select(User).where(User.email == email))
    org_active = user is not None and session.get(Organisation, user.org_id).active  # type: ignore[union-attr]
    valid = verify_password(user.password_hash if user else None, password)
    if not (valid and user and user.active and org_active):
        session.add(LoginFailure(email=email, client=client[:64], at=utcnow()))
        if user is not None:  # an unknown address belongs to no organisation's log
            reason = "password" if not valid else "inactive" if not user.active else "suspended"
            audit.record(
                session,
                user.org_id,
                None,
                "auth.login_failed",
                target=audit.user_target(user),
                reason=reason,
                client=client[:64],
            )
        session.commit()
        raise UserError("login_failed", 401)
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    user.last_login_at = utcnow()
    audit.record(session, user.org_id, user, "auth.login", method="password", client=client[:64])
    session.commit()
    return user


def record_logout(session: Session, user: User) -> None:
    """Note in the audit log that the user ended their session."""
    audit.record(session, user.org_id, user, "auth.logout")
    session.commit()


def create_api_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the clear value is returned once and never stored."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise UserError("token_name")
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=clear[:10], token_hash=sha256_hex(clear))
    session.add(token)
    session.flush()
    target = audit.target("token", token.id, name)
    audit.record(session, user.org_id, user, "auth.token_created", target=target)
    session.commit()
    return token, clear


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first."""
    stmt = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(session.scalars(stmt))


def revoke_api_token(session: Session, user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        target = audit.target("token", token.id, token.name)
        audit.record(session, user.org_id, user, "auth.token_revoked", target=target)
    session.commit()


def user_for_token(session: Session, clear: str) -> User | None:
    """The active user owning a valid, unrevoked token."""
    if not clear.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == sha256_hex(clear)))
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active or not session.get(Organisation, user.org_id).active:  # type: ignore[union-attr]
        return None
    now = utcnow()
    last = token.last_used_at
    if last is None or now - as_utc(last) > _LAST_USED_PRECISION:  # spare a write per request
        token.last_used_at = now
        session.commit()
    return user


def issue_link(
    session: Session, settings: Settings, user: User, purpose: str, by: User | None
) -> str:
    """Create a one-time invitation or reset link (older ones for the user stop working)."""
    for old in session.scalars(
        select(OneTimeLink).where(OneTimeLink.user_id == user.id, OneTimeLink.used_at.is_(None))
    ):
        old.used_at = utcnow()
    clear = secrets.token_urlsafe(32)
    session.add(
        OneTimeLink(
            purpose=purpose,
            token_hash=sha256_hex(clear),
            user_id=user.id,
            created_by=by.id if by else None,
            expires_at=utcnow() + timedelta(hours=settings.invite_ttl_hours),
        )
    )
    session.commit()
    return f"{settings.base_url.rstrip('/')}/{'invite' if purpose == 'invite' else 'reset'}/{clear}"


def find_link(session: Session, clear: str) -> tuple[OneTimeLink, User]:
    """A valid, unused, unexpired link and its user."""
    link = session.scalar(select(OneTimeLink).where(OneTimeLink.token_hash == sha256_hex(clear)))
    if link is None or link.used_at is not None or as_utc(link.expires_at) < utcnow():
        raise UserError("link_invalid", 404)
    user = session.get(User, link.user_id)
    if user is None or not user.active:
        raise UserError("link_invalid", 404)
    return link, user


def use_link(session: Session, settings: Settings, clear: str, password: str, confirm: str) -> User:
    """Set the password through a link, which then stops working; other sessions end."""
    link, user = find_link(session, clear)
    check_password(settings, password, confirm)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    link.used_at = utcnow()
    audit.record(session, user.org_id, user, "auth.password_set", purpose=link.purpose)
    session.commit()
    return user


def create_user(
    session: Session,
    org_id: int,
    email: str,
    name: str,
    role: str,
    unit_id: int | None = None,
    password: str | None = None,
) -> User:
    """Create an account in `org_id` (without a password for an invitation)."""
    email = normalise_email(email)
    name = clean_text(name, 200)
    if role not in ALL_ROLES:
        raise UserError("role_invalid")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError("email_taken", 409)
    if unit_id is not None:
        unit = session.get(Unit, unit_id)
        if unit is None or unit.org_id != org_id:
            raise NotFound()
    user = User(
        org_id=org_id,
        email=email,
        name=name,
        role=role,
        unit_id=unit_id,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.commit()
    return user


def active_admins(session: Session, org_id: int) -> int:
    """Number of active org admins in an organisation."""
    return (
        session.scalar(
            select(func.count()).where(
                User.org_id == org_id, User.active.is_(True), User.role == Role.ORG_ADMIN
            )
        )
        or 0
    )
