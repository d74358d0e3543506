"""A small but real OpenID Connect provider for tests, served by uvicorn on 127.0.0.1.

Authorization code flow only: discovery, `/authorize` (consents at once as the configured
test user), `/token` (client secret, single-use code, redirect URI and PKCE S256 checked;
RS256 ID token with the nonce), `/jwks` and `/userinfo` (JSON, or a signed JWT like
ProConnect). Tests change `provider.user` and the misbehaviour switches between requests.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class TestUser:
    """The person the provider logs in; `id_token_claims` lists what goes in the ID token."""

    __test__ = False  # not a pytest test class

    sub: str
    claims: dict[str, Any] = field(default_factory=dict)
    id_token_claims: tuple[str, ...] | None = None  # None: every claim


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str | None  # None: the client sent no PKCE challenge
    nonce: str | None
    user: TestUser
    expires: float


def new_key(kid: str = "test-key") -> RSAKey:
    """A fresh RSA key pair for signing tokens."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OIDCProvider:
    """The provider's state and Starlette app; `start()` serves it on a free port."""

    def __init__(self, client_id: str = "civique", client_secret: str = "s3cret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = new_key()
        self.issuer = ""
        self.user = TestUser(sub="nobody")
        self.reset()
        self._grants: dict[str, _Grant] = {}
        self._access: dict[str, TestUser] = {}
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
                Route("/userinfo", self.userinfo),
            ]
        )

    def reset(self) -> None:
        """Back to a well-behaved provider (the test user is left as is)."""
        self.signing_key: RSAKey | None = None  # None: sign with the published key
        self.id_token_overrides: dict[str, Any] = {}
        self.deny: str | None = None  # an OAuth error code to answer /authorize with
        self.userinfo_as_jwt = False
        self.require_pkce = True
        self.discovery_overrides: dict[str, Any] = {}
        self.issued_id_tokens = 0

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> OIDCProvider:
        """Serve on 127.0.0.1 in a background thread; returns once it accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", ws="none", http="h11"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test OIDC provider did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    # --- endpoints -----------------------------------------------------------------------
    async def discovery(self, _request: Request) -> Response:
        """The OpenID Provider metadata."""
        metadata = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "userinfo_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "scopes_supported": ["openid", "email", "profile"],
        }
        metadata.update(self.discovery_overrides)
        return JSONResponse({k: v for k, v in metadata.items() if v is not None})

    async def authorize(self, request: Request) -> Response:
        """Consent at once as `self.user` and send the browser back with a code."""
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        back: dict[str, str] = {}
        if query.get("state"):
            back["state"] = query["state"]
        problem = self._authorize_problem(request, self.require_pkce)
        if problem or self.deny:
            back["error"] = problem or self.deny or ""
            return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", 302)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                challenge=query.get("code_challenge"),
                nonce=query.get("nonce"),
                user=self.user,
                expires=time.time() + 60,
            )
        back["code"] = code
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", 302)

    @staticmethod
    def _authorize_problem(request: Request, require_pkce: bool) -> str | None:
        query = request.query_params
        if query.get("response_type") != "code":
            return "unsupported_response_type"
        if "openid" not in query.get("scope", "").split():
            return "invalid_scope"
        pkce = query.get("code_challenge"), query.get("code_challenge_method")
        if (require_pkce or any(pkce)) and (not pkce[0] or pkce[1] != "S256"):
            return "invalid_request"
        return None

    async def token(self, request: Request) -> Response:
        """Exchange a code for tokens after checking the client, the code and PKCE."""
        form = await request.form()
        client_id, secret = self._client_credentials(request, dict(form))
        if client_id != self.client_id or secret != self.client_secret:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        with self._lock:
            grant = self._grants.pop(str(form.get("code", "")), None)
        verifier = str(form.get("code_verifier", ""))
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.expires < time.time()
            or grant.redirect_uri != form.get("redirect_uri")
            or (grant.challenge and not secrets.compare_digest(s256(verifier), grant.challenge))
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._access[access_token] = grant.user
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "openid email profile",
                "id_token": self._id_token(grant),
            },
            headers={"Cache-Control": "no-store"},
        )

    @staticmethod
    def _client_credentials(request: Request, form: dict[str, Any]) -> tuple[str, str]:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return client_id, secret
        return str(form.get("client_id", "")), str(form.get("client_secret", ""))

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        user = grant.user
        wanted = user.id_token_claims
        claims = {k: v for k, v in user.claims.items() if wanted is None or k in wanted}
        claims.update(
            iss=self.issuer,
            sub=user.sub,
            aud=grant.client_id,
            iat=now,
            exp=now + 300,
            auth_time=now,
        )
        if grant.nonce:
            claims["nonce"] = grant.nonce
        claims.update(self.id_token_overrides)
        self.issued_id_tokens += 1
        return self.sign(claims)

    def sign(self, claims: dict[str, Any]) -> str:
        """A compact RS256 JWT of `claims` (with the published key unless told otherwise)."""
        key = self.signing_key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    async def jwks(self, _request: Request) -> Response:
        """The public signing keys."""
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def userinfo(self, request: Request) -> Response:
        """The user's claims for a valid access token."""
        header = request.headers.get("authorization", "")
        with self._lock:
            user = self._access.get(header[7:]) if header.startswith("Bearer ") else None
        if user is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        claims = {"sub": user.sub, **user.claims}
        if self.userinfo_as_jwt:
            signed = self.sign({**claims, "iss": self.issuer, "aud": self.client_id})
            return Response(signed, media_type="application/jwt")
        return JSONResponse(claims)
