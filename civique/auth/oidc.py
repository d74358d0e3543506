"""OIDC single sign-on rules: verified claims → organisation, role and a Civique account.

The provider's answer has already been verified (signature, issuer, audience, nonce) by the
caller; this module decides who the person is in Civique. The rules, also in the admin guide:

- Organisation: the values of `oidc_org_claim` (a string or a list) are looked up in
  `oidc_org_map`; exactly one organisation must come out. No claim or no mapped value:
  `oidc_default_org`. Nothing, or a slug that does not exist: refused (`oidc_no_org`).
- Role: the values of `oidc_role_claim` (a string or a list) are looked up in `oidc_role_map`;
  the highest mapped role wins (agent < validator < innovation_lead < dpo < org_admin <
  platform_admin). Unmapped values are ignored, so `platform_admin` only comes from an explicit
  map entry. No mapped value: `oidc_default_role` for a new account.
- Account: found by `sub` (stored as `oidc_subject`). Otherwise an account with the same
  e-mail address in the SAME organisation, not yet linked to a subject, is linked when the
  provider says the address is verified (`email_verified`). With `oidc_trust_email`
  (ProConnect) every address counts as verified and an account already linked to another
  subject is re-linked. An address used in another organisation is never linked. Otherwise a
  new account is created.
- Later logins: the name follows the provider when it sends one; the role follows the provider
  when the claim carries a mapped value, otherwise the role set in Civique is kept. A
  `platform_admin` set in Civique is kept unless the role map itself grants `platform_admin`.
  The e-mail address and the organisation are never changed by a login.
- Refused: deactivated accounts, suspended organisations, an account whose organisation no
  longer matches the claims.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import ALL_ROLES, Role
from civique.auth.service import normalise_email
from civique.db.base import utcnow
from civique.errors import N_, UserError
from civique.governance import audit
from civique.orgs.models import Organisation
from civique.settings import Settings
from civique.textcheck import clean_text

log = logging.getLogger(__name__)

# Reasons shown inside the `oidc_failed` message; translated where the page is rendered.
NO_SUBJECT = N_("the identity provider sent no user identifier.")
NO_EMAIL = N_("the identity provider sent no valid e-mail address.")
EMAIL_TAKEN = N_(
    "another account already uses this e-mail address; ask your administrator to link it."
)
EMAIL_UNVERIFIED = N_(
    "the identity provider did not confirm your e-mail address, so it cannot be linked to "
    "your existing account; ask your administrator."
)
SEVERAL_ORGS = N_("the identity provider links you to several organisations of this instance.")
ORG_CHANGED = N_(
    "your account belongs to another organisation of this instance; ask your administrator."
)
ORG_SUSPENDED = N_("your organisation is suspended on this instance.")
SUBJECT_MISMATCH = N_("the identity provider's user information does not match the login.")

# Privilege order used when several mapped roles apply: the last one wins.
_RANK = {role.value: index for index, role in enumerate(ALL_ROLES)}


def failure(reason: str, status: int = 400, **details: str) -> UserError:
    """An `oidc_failed` error with an untranslated reason (and its own parameters)."""
    return UserError("oidc_failed", status, reason=reason, **details)


def check_config(settings: Settings) -> None:
    """Refuse, at start, single sign-on settings that would misbehave at login time."""
    if "openid" not in settings.oidc_scopes.split():
        raise ValueError("CIVIQUE_OIDC_SCOPES must include `openid`")
    unknown = sorted(set(settings.oidc_role_map.values()) - set(_RANK))
    if unknown:
        raise ValueError(f"CIVIQUE_OIDC_ROLE_MAP names unknown roles: {', '.join(unknown)}")
    if settings.oidc_default_role not in _RANK or settings.oidc_default_role == Role.PLATFORM_ADMIN:
        raise ValueError(
            "CIVIQUE_OIDC_DEFAULT_ROLE must be a role other than platform_admin "
            "(grant platform_admin through CIVIQUE_OIDC_ROLE_MAP only)"
        )
    if settings.environment == "production" and not settings.oidc_issuer.startswith("https://"):
        raise ValueError("CIVIQUE_OIDC_ISSUER must be an https:// URL in production")


def claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (`realm_access.roles`)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def claim_values(value: Any) -> list[str]:
    """A claim read as a list of strings: a string, a number, or a list of them."""
    items = value if isinstance(value, list) else [value]
    return [str(i) for i in items if isinstance(i, str | int) and not isinstance(i, bool)]


def mapped_role(settings: Settings, claims: Mapping[str, Any]) -> str | None:
    """The highest role the role claim maps to, or None when no value is mapped."""
    if not settings.oidc_role_claim:
        return None
    values = claim_values(claim(claims, settings.oidc_role_claim))
    roles = {settings.oidc_role_map[v] for v in values if v in settings.oidc_role_map}
    return max(roles, key=_RANK.__getitem__) if roles else None


def resolve_organisation(
    session: Session, settings: Settings, claims: Mapping[str, Any]
) -> Organisation:
    """The organisation the claims map to (or the default one); refused when there is none."""
    slugs: set[str] = set()
    if settings.oidc_org_claim:
        values = claim_values(claim(claims, settings.oidc_org_claim))
        slugs = {settings.oidc_org_map[v] for v in values if v in settings.oidc_org_map}
    if len(slugs) > 1:
        raise failure(SEVERAL_ORGS, 403)
    slug = next(iter(slugs), None) or settings.oidc_default_org
    org = session.scalar(select(Organisation).where(Organisation.slug == slug)) if slug else None
    if org is None:
        if slug:
            log.warning("OIDC organisation slug is not an organisation", extra={"slug": slug})
        raise UserError("oidc_no_org", 403)
    return org


def display_name(claims: Mapping[str, Any]) -> str | None:
    """The person's name from `name`, else given name + family (or ProConnect usual) name."""
    candidates = [claims.get("name")]
    parts = [claims.get("given_name"), claims.get("family_name") or claims.get("usual_name")]
    candidates.append(" ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()))
    for value in candidates:
        if isinstance(value, str) and value.strip():
            try:
                return clean_text(value, 200)
            except UserError:
                # An unusable name (too long, control characters) is skipped, not fatal.
                continue
    return None


def needs_userinfo(settings: Settings, claims: Mapping[str, Any]) -> bool:
    """True when the ID token lacks a claim Civique reads (ProConnect sends them in userinfo)."""
    wanted = ["email", settings.oidc_org_claim, settings.oidc_role_claim]
    return any(name and claim(claims, name) is None for name in wanted)


def merge_userinfo(id_claims: Mapping[str, Any], userinfo: Mapping[str, Any]) -> dict[str, Any]:
    """ID-token claims completed by userinfo claims, which must be about the same subject."""
    if userinfo.get("sub") != id_claims.get("sub"):
        raise failure(SUBJECT_MISMATCH, 401)
    return {**userinfo, **id_claims}


def sign_in(session: Session, settings: Settings, claims: Mapping[str, Any]) -> User:
    """The active Civique account for verified claims: found, linked or created, then updated."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise failure(NO_SUBJECT, 401)
    org = resolve_organisation(session, settings, claims)
    if not org.active:
        raise failure(ORG_SUSPENDED, 403)
    user = session.scalar(select(User).where(User.oidc_subject == subject))
    if user is None:
        user = _linkable_account(session, settings, claims, org)
    if user is None:
        user = _new_account(settings, claims, subject, org)
        session.add(user)
    else:
        if user.org_id != org.id:
            raise failure(ORG_CHANGED, 403)
        if not user.active:
            raise UserError("account_inactive", 403)
        user.oidc_subject = subject
        _follow_claims(settings, claims, user)
    user.last_login_at = utcnow()
    try:
        session.flush()  # a new account needs its id for the audit log
        audit.record(session, org.id, user, "auth.login", method="oidc")
        session.commit()
    except IntegrityError:
        # Two first logins at once: the other one created or linked the account.
        session.rollback()
        raise failure(EMAIL_TAKEN, 409) from None
    return user


def _email(claims: Mapping[str, Any]) -> str | None:
    value = claims.get("email")
    if not isinstance(value, str):
        return None
    try:
        return normalise_email(value)
    except UserError:
        return None


def _email_verified(settings: Settings, claims: Mapping[str, Any]) -> bool:
    # Some providers send the boolean as a string ("true").
    return settings.oidc_trust_email or claims.get("email_verified") in (True, "true")


def _linkable_account(
    session: Session, settings: Settings, claims: Mapping[str, Any], org: Organisation
) -> User | None:
    """An unlinked account of `org` with the same verified address; refuses any other match."""
    email = _email(claims)
    if email is None:
        return None
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        return None
    if user.org_id != org.id:
        raise failure(EMAIL_TAKEN, 409)
    if not _email_verified(settings, claims):
        raise failure(EMAIL_UNVERIFIED, 409)
    if user.oidc_subject is not None and not settings.oidc_trust_email:
        raise failure(EMAIL_TAKEN, 409)
    # ProConnect gives one `sub` per identity provider: with trusted e-mails, a person who
    # changes identity provider keeps their account (the reconciliation ProConnect advises).
    log.info(
        "OIDC subject linked to an existing account",
        extra={"user_id": user.id, "relinked": user.oidc_subject is not None},
    )
    return user


def _new_account(
    settings: Settings, claims: Mapping[str, Any], subject: str, org: Organisation
) -> User:
    email = _email(claims)
    if email is None:
        raise failure(NO_EMAIL, 400)
    log.info("OIDC account created", extra={"org_id": org.id})
    return User(
        org_id=org.id,
        email=email,
        name=display_name(claims) or email.split("@", 1)[0],
        role=mapped_role(settings, claims) or settings.oidc_default_role,
        password_hash=None,
        oidc_subject=subject,
        active=True,
        session_epoch=0,
    )


def _follow_claims(settings: Settings, claims: Mapping[str, Any], user: User) -> None:
    """Apply the later-login rule: name and role follow the provider only when it says so."""
    name = display_name(claims)
    if name:
        user.name = name
    role = mapped_role(settings, claims)
    keeps_platform_admin = (
        user.role == Role.PLATFORM_ADMIN
        and Role.PLATFORM_ADMIN not in settings.oidc_role_map.values()
    )
    if role and role != user.role and not keeps_platform_admin:
        user.role = role
        user.session_epoch += 1  # other sessions must not keep the old role's rights
