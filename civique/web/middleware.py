"""Pure ASGI middlewares: language per request, security headers, API body size limit."""

from __future__ import annotations

import json
import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civique.i18n import pick_language, set_locale

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
)


class LocaleMiddleware:
    """Sets the request language from `?lang=`, the session, or the default."""

    def __init__(self, app: ASGIApp, default: str) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pick the language before the route runs."""
        if scope["type"] == "http":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[
                0
            ]
            session = scope.get("session") or {}
            cookie = None
            for name, value in scope.get("headers", []):
                if name == b"cookie":
                    jar: SimpleCookie = SimpleCookie()
                    jar.load(value.decode("latin-1"))
                    cookie = jar["lang"].value if "lang" in jar else None
            lang = pick_language(query, session.get("lang") or cookie, None, self.default)
            set_locale(lang)
            scope.setdefault("state", {})["lang"] = lang
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    """Adds CSP and other protective headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Decorate `http.response.start`."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith("/docs")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_wrapper)


class BodyLimitMiddleware:
    """Refuses request bodies above a limit, before they are read or spooled to disk (413).

    The API has its own limit (JSON error); pages share `form_limit` (short page). Document
    uploads (`upload_paths`, page or API) may send up to `upload_limit`; above it, declared by
    Content-Length, nothing is read and the route is told (`request.state.upload_too_big`), so
    it answers in the user's language with its own page or JSON error.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        form_limit: int,
        upload_limit: int = 0,
        upload_paths: re.Pattern[str] | None = None,
    ) -> None:
        self.app = app
        self.api_limit = limit
        self.form_limit = form_limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count bytes as they arrive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")
        upload = self.upload_paths is not None and self.upload_paths.match(scope["path"])
        limit = self.upload_limit if upload else self.api_limit if api else self.form_limit
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            if upload:
                scope.setdefault("state", {})["upload_too_big"] = limit
                await self.app(scope, _no_body, send)
            else:
                await self._refuse(send, api, limit)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(send, api, limit)

    async def _refuse(self, send: Send, api: bool, limit: int) -> None:
        if api:
            body = json.dumps(
                {
                    "error": {
                        "code": "too_large",
                        "type": "invalid_request_error",
                        "message": f"Request body above {limit} bytes.",
                    }
                }
            )
            content_type = b"application/json"
        else:  # runs before the language is known: say it in both
            body = (
                '<!doctype html><html lang="fr"><title>413</title><main><h1>Envoi trop '
                f"volumineux</h1><p>Le contenu envoyé dépasse {limit} octets.</p>"
                f'<p lang="en">Request too large: above {limit} bytes.</p>'
                '<p><a href="/">Accueil / Home</a></p></main></html>'
            )
            content_type = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", content_type)],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


class _TooLarge(Exception):
    pass


async def _no_body() -> Message:
    """What a route reads of a body refused unread: nothing."""
    return {"type": "http.request", "body": b"", "more_body": False}
