"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

router = APIRouter(include_in_schema=False)
access_log = logging.getLogger("civique.access")

REQUESTS = Counter("civique_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("civique_http_request_seconds", "HTTP request latency", ["method", "route"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Readiness: the database answers and every configured model provider is ready."""
    checks: dict[str, bool] = {}
    try:
        with request.app.state.sessions() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # any database failure means not ready
        checks["database"] = False
    for name, ok in (await request.app.state.gateway.readiness()).items():
        checks[f"model:{name}"] = ok
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus metrics."""
    if not request.app.state.settings.metrics_enabled:
        return Response(status_code=404)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts requests and their latency by route template (never by raw path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and label it with its route."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            LATENCY.labels(scope["method"], name).observe(elapsed)
            REQUESTS.labels(scope["method"], name, str(status["code"])).inc()
            # The route template, never the raw path: paths can carry one-time tokens.
            access_log.info(
                "request",
                extra={"method": scope["method"], "route": name, "status": status["code"],
                       "duration_ms": round(elapsed * 1000, 1)},
            )
