"""OIDC single sign-on pages: authorization code flow with PKCE and nonce (Authlib's client).

The account rules live in `civique.auth.oidc`; here only the HTTP exchange with the provider.
Every failure is answered with a translated error page, never a 500.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from starlette.concurrency import run_in_threadpool

from civique.auth import oidc
from civique.auth.routes import safe_next, start_session
from civique.errors import MESSAGES, N_, UserError
from civique.i18n import gettext
from civique.settings import Settings
from civique.web.deps import render

try:  # Authlib talks through httpx2 when it is installed, through httpx otherwise
    import httpx2

    _HTTP_MODULES: tuple[Any, ...] = (httpx, httpx2)
except ImportError:  # pragma: no cover - depends on the environment
    _HTTP_MODULES = (httpx,)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth/oidc")

PROVIDER_ERROR = N_("the identity provider refused the login (%(detail)s).")
STATE_INVALID = N_("the login request expired or was altered; start again from the login page.")
BAD_ANSWER = N_("the identity provider's answer could not be verified.")
UNREACHABLE = N_("the identity provider cannot be reached; try again later.")
MISCONFIGURED = N_("the identity provider's configuration does not match this instance's settings.")

_NEXT_KEY = "oidc_next"
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_LEEWAY_SECONDS = 60
_UNREACHABLE_ERRORS: tuple[type[Exception], ...] = tuple(m.TransportError for m in _HTTP_MODULES)
_STATUS_ERRORS: tuple[type[Exception], ...] = tuple(m.HTTPStatusError for m in _HTTP_MODULES)
# Failures that mean "this answer is not acceptable" (not "nobody answered").
_ANSWER_ERRORS = (AuthlibBaseError, JoseError, *_STATUS_ERRORS, ValueError, KeyError)
_DISCOVERY_ERRORS: tuple[type[Exception], ...] = (*_STATUS_ERRORS, ValueError)


def oidc_routers(app: FastAPI, settings: Settings) -> tuple[APIRouter, ...]:
    """Create the OIDC client on `app` and return the SSO router; nothing when SSO is off."""
    if not settings.oidc_enabled:
        return ()
    app.state.oidc = make_client(settings)
    return (router,)


def make_client(settings: Settings) -> StarletteOAuth2App:
    """An Authlib OIDC client for the configured provider (discovery is fetched on first use)."""
    oidc.check_config(settings)
    registry = OAuth()
    client: StarletteOAuth2App = registry.register(
        "oidc",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret or None,
        server_metadata_url=f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={
            "scope": settings.oidc_scopes,
            # Supported by ProConnect, Keycloak and Entra ID alike.
            "token_endpoint_auth_method": "client_secret_post",
            "timeout": 10.0,
            **({"code_challenge_method": "S256"} if settings.oidc_pkce else {}),
        },
    )
    return client


def _client(request: Request) -> StarletteOAuth2App:
    return request.app.state.oidc


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _error_page(request: Request, exc: UserError) -> Response:
    """The error page; an `oidc_failed` reason is translated here, in the request's language."""
    params = dict(exc.params)
    reason = params.pop("reason", None)
    if reason is not None:
        template = MESSAGES[exc.code]  # a variable: Babel must not extract the key as a msgid
        message = gettext(template, reason=gettext(reason, **params))
    else:
        message = gettext(MESSAGES.get(exc.code, exc.code), **params)
    return render(request, "error.html", status=exc.status, message=message)


async def _metadata(request: Request) -> dict[str, Any]:
    """The provider's discovery document, whose issuer must be the configured one."""
    try:
        metadata: dict[str, Any] = await _client(request).load_server_metadata()
    except _UNREACHABLE_ERRORS as exc:
        log.warning("OIDC provider unreachable", extra={"error": type(exc).__name__})
        raise oidc.failure(UNREACHABLE, 502) from None
    except _DISCOVERY_ERRORS as exc:
        log.warning("OIDC discovery failed", extra={"error": type(exc).__name__})
        raise oidc.failure(UNREACHABLE, 502) from None
    configured = _settings(request).oidc_issuer.rstrip("/")
    if str(metadata.get("issuer", "")).rstrip("/") != configured:
        log.warning("OIDC issuer mismatch", extra={"issuer": metadata.get("issuer")})
        raise oidc.failure(MISCONFIGURED, 502)
    return metadata


@contextmanager
def _exchange_errors(step: str) -> Iterator[None]:
    """Turn what can go wrong while talking to the provider into a user-facing error."""
    try:
        yield
    except MismatchingStateError:
        raise oidc.failure(STATE_INVALID, 400) from None
    except _UNREACHABLE_ERRORS as exc:
        log.warning("OIDC provider unreachable", extra={"step": step, "error": type(exc).__name__})
        raise oidc.failure(UNREACHABLE, 502) from None
    except RuntimeError:
        # Authlib's way of saying the discovery document lacks an endpoint.
        log.warning("OIDC discovery document incomplete", extra={"step": step})
        raise oidc.failure(MISCONFIGURED, 502) from None
    except _ANSWER_ERRORS as exc:
        # The class and message name the failed check (claim, signature); never the token.
        log.warning(
            "OIDC answer refused",
            extra={"step": step, "error": type(exc).__name__, "detail": str(exc)[:200]},
        )
        raise oidc.failure(BAD_ANSWER, 401) from None


@router.get("/login", name="oidc_login")
async def oidc_login(request: Request, next: str = "/") -> Response:
    """Send the browser to the provider (state, nonce and PKCE kept in the session)."""
    settings = _settings(request)
    redirect_uri = f"{settings.base_url.rstrip('/')}/auth/oidc/callback"
    try:
        await _metadata(request)
        with _exchange_errors("authorize"):
            response: Response = await _client(request).authorize_redirect(
                request,
                redirect_uri,
                # ProConnect wants at least 32 characters; Authlib's defaults are shorter.
                state=secrets.token_urlsafe(32),
                nonce=secrets.token_urlsafe(32),
            )
    except UserError as exc:
        return _error_page(request, exc)
    request.session[_NEXT_KEY] = safe_next(next)
    return response


@router.get("/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    """Check the provider's answer, then log the person in (their account made on first visit)."""
    settings = _settings(request)
    try:
        claims = await _verified_claims(request)
        with request.app.state.sessions() as db:
            user = await run_in_threadpool(oidc.sign_in, db, settings, claims)
    except UserError as exc:
        log.info("OIDC login refused", extra={"code": exc.code})
        return _error_page(request, exc)
    target = safe_next(request.session.get(_NEXT_KEY))
    start_session(request, user)
    return RedirectResponse(target, 303)


async def _verified_claims(request: Request) -> dict[str, Any]:
    """Exchange the code and return the ID token's verified claims (completed by userinfo)."""
    error = request.query_params.get("error")
    if error is not None:
        detail = error if _ERROR_CODE.match(error) else "?"
        raise oidc.failure(PROVIDER_ERROR, 400, detail=detail)
    settings = _settings(request)
    metadata = await _metadata(request)
    options = {
        "iss": {"essential": True, "value": metadata["issuer"]},
        "aud": {"essential": True, "value": settings.oidc_client_id},
    }
    with _exchange_errors("token"):
        token = await _client(request).authorize_access_token(
            request, claims_options=options, leeway=_LEEWAY_SECONDS
        )
    claims = token.get("userinfo")
    if not claims:  # no ID token at all: not an OpenID Connect answer
        raise oidc.failure(BAD_ANSWER, 401)
    claims = dict(claims)
    if oidc.needs_userinfo(settings, claims) and metadata.get("userinfo_endpoint"):
        claims = oidc.merge_userinfo(claims, await _userinfo(request, metadata, token))
    return claims


async def _userinfo(
    request: Request, metadata: dict[str, Any], token: dict[str, Any]
) -> dict[str, Any]:
    """The userinfo claims, as JSON or as a signed JWT (ProConnect's form)."""
    client = _client(request)
    with _exchange_errors("userinfo"):
        response = await client.get(metadata["userinfo_endpoint"], token=token)
        response.raise_for_status()
        if response.headers.get("content-type", "").startswith("application/jwt"):
            return await _signed_userinfo(client, metadata, response.text)
        data = response.json()
    if not isinstance(data, dict):
        raise oidc.failure(BAD_ANSWER, 401)
    return data


async def _signed_userinfo(
    client: StarletteOAuth2App, metadata: dict[str, Any], value: str
) -> dict[str, Any]:
    """Verify a userinfo JWT with the provider's keys; its issuer and audience when present."""
    algorithms = metadata.get("userinfo_signing_alg_values_supported") or ["RS256"]
    keys = KeySet.import_key_set(await client.fetch_jwk_set())
    decoded = jwt.decode(value, keys, registry=JWSRegistry(algorithms=algorithms))
    jwt.JWTClaimsRegistry(
        leeway=_LEEWAY_SECONDS,
        iss={"value": metadata["issuer"]},
        aud={"value": client.client_id},
    ).validate(decoded.claims)
    return decoded.claims
