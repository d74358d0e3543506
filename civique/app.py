"""`create_app(settings)`: builds the application; nothing runs at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from civique import __version__
from civique.api.routes import router as api_router
from civique.auth.oidc_routes import oidc_routers
from civique.auth.routes import router as auth_router
from civique.chat import grounded
from civique.chat.privacy_routes import router as chat_privacy_router
from civique.chat.routes import router as chat_router
from civique.chat.service import ChatStreamer
from civique.db.engine import make_engine, make_session_factory
from civique.documents.files_routes import UPLOAD_PATHS
from civique.documents.files_routes import router as document_files_router
from civique.documents.quality_routes import router as quality_router
from civique.documents.routes import router as documents_router
from civique.documents.search_routes import router as search_router
from civique.documents.viewer_routes import router as viewer_router
from civique.errors import UserError
from civique.governance.charter_routes import router as charter_router
from civique.governance.policy_routes import router as policy_router
from civique.governance.rights_routes import router as rights_router
from civique.governance.routes import router as governance_router
from civique.governance.subject_routes import router as subjects_router
from civique.governance.validation_routes import router as validation_router
from civique.i18n import gettext, load_catalogs
from civique.jobs.queue import start_in_process
from civique.jobs.tasks import register_all
from civique.lab.challenges_routes import router as lab_challenges_router
from civique.lab.dashboard_routes import router as lab_dashboards_router
from civique.lab.experiments_routes import router as lab_experiments_router
from civique.lab.feedback_routes import router as lab_feedback_router
from civique.lab.irritant_routes import router as lab_irritants_router
from civique.llm.gateway import Gateway
from civique.llm.registry import build_registry
from civique.ops.logs import configure_logging
from civique.ops.routes import MetricsMiddleware
from civique.ops.routes import router as ops_router
from civique.orgs.platform_routes import router as platform_router
from civique.orgs.routes import router as orgs_router
from civique.settings import Settings
from civique.tools.admin_routes import router as tools_admin_router
from civique.tools.api_routes import router as tools_api_router
from civique.tools.letters.library_routes import router as letter_library_router
from civique.tools.plain_language.jargon_routes import router as jargon_router
from civique.tools.registry import default_registry
from civique.tools.routes import router as tools_router
from civique.tools.service import ToolRunner
from civique.tools.translation.document_routes import router as translation_document_router
from civique.tools.translation.glossary_routes import router as glossary_router
from civique.web.deps import (
    CharterRequired,
    LoginRequired,
    PageForbidden,
    api_error_body,
    error_message,
    render,
)
from civique.web.middleware import BodyLimitMiddleware, LocaleMiddleware, SecurityHeadersMiddleware
from civique.web.templating import TEMPLATES_DIR, make_templates

STATIC_DIR = TEMPLATES_DIR.parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Wire settings, database, model gateway, routes and middlewares into an app."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_json)
    load_catalogs()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url, settings.database_echo)
    sessions = make_session_factory(engine)
    gateway = Gateway(build_registry(settings), sessions, settings)
    jobs = register_all(settings, sessions, gateway)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(gateway.check_vault)  # a wrong key stops the start here
        consumer = start_in_process(jobs.queue) if settings.jobs_in_process else None
        detecting = asyncio.create_task(asyncio.to_thread(gateway.prepare_privacy))
        warming = None
        if settings.embedded_enabled and settings.embedded_warm_up:
            warming = asyncio.create_task(grounded.warm_up(gateway))
        yield
        for task in (warming, detecting):
            if task is not None and not task.done():
                task.cancel()
        if consumer is not None:
            consumer.stop()  # an ingestion cut short resumes from its lease at next start
        engine.dispose()

    app = FastAPI(
        title="Civique",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        description="Civique API: OpenAI-compatible chat and embeddings for your "
        "organisation's tools. Authenticate with a personal token (`Bearer civ_…`).",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.gateway = gateway
    app.state.jobs = jobs
    app.state.chat_streamer = ChatStreamer(sessions, gateway, settings)
    app.state.templates = make_templates()
    app.state.tools = default_registry()
    app.state.tool_runner = ToolRunner(sessions, gateway, settings, app.state.tools)

    _add_middlewares(app, settings)
    _add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    routers = (
        ops_router,
        auth_router,
        chat_router,
        chat_privacy_router,
        rights_router,
        subjects_router,
        documents_router,
        viewer_router,
        document_files_router,
        search_router,
        quality_router,
        orgs_router,
        platform_router,
        governance_router,
        validation_router,
        policy_router,
        charter_router,
        tools_router,
        tools_admin_router,
        tools_api_router,
        lab_challenges_router,
        lab_experiments_router,
        glossary_router,
        translation_document_router,
        letter_library_router,
        jargon_router,
        lab_feedback_router,
        lab_irritants_router,
        lab_dashboards_router,
        api_router,
    )
    for router in (*routers, *oidc_routers(app, settings)):
        for route in router.routes:  # the OpenAPI document describes the JSON API, not pages
            if isinstance(route, APIRoute):
                route.include_in_schema = route.path.startswith("/api/")
        app.include_router(router)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Civique API",
            swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    return app


def _add_middlewares(app: FastAPI, settings: Settings) -> None:
    # Added inner to outer: the locale reads the session, so the session wraps it.
    app.add_middleware(LocaleMiddleware, default=settings.default_language)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="civique_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.api_max_request_bytes,
        form_limit=settings.max_form_bytes,
        upload_limit=settings.documents_max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware)


def _return_path(request: Request) -> str:
    """Where to come back after logging in: the page itself, or for a form post the page the
    form was on (a POST address cannot be reopened)."""
    if request.method == "GET":
        return request.url.path
    referer = urlsplit(request.headers.get("referer", ""))
    same_site = referer.netloc in ("", request.url.netloc)
    return referer.path if same_site and referer.path.startswith("/") else "/"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        if _wants_json(request):
            return JSONResponse(api_error_body(exc), status_code=exc.status)
        return render(request, "error.html", status=exc.status, message=error_message(exc))

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        target = f"/login?next={quote(_return_path(request))}"
        if _wants_json(request) or request.headers.get("hx-request"):
            return JSONResponse(
                {
                    "error": {
                        "code": "login_required",
                        "redirect": target,
                        "message": gettext("Your session has expired. Log in again."),
                    }
                },
                status_code=401,
                headers={"HX-Redirect": target},
            )
        return RedirectResponse(target, 303)

    @app.exception_handler(CharterRequired)
    async def charter_required(request: Request, _exc: CharterRequired) -> Response:
        target = f"/charter?next={quote(_return_path(request))}"
        if _wants_json(request) or request.headers.get("hx-request"):
            refused = UserError("charter_not_accepted", 403, url="/charter")
            body = api_error_body(refused)
            body["error"]["redirect"] = target
            return JSONResponse(body, status_code=403, headers={"HX-Redirect": target})
        return RedirectResponse(target, 303)

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, _exc: PageForbidden) -> Response:
        return await user_error(request, UserError("forbidden", 403))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        code = "invalid_json" if any(e.get("type") == "json_invalid" for e in errors) else None
        if code is None and _wants_json(request):
            detail = "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors
            )
            body = {
                "error": {
                    "code": "invalid_request",
                    "message": detail,
                    "type": "invalid_request_error",
                }
            }
            return JSONResponse(body, status_code=400)
        return await user_error(request, UserError(code or "bad_request", 400))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.detail, dict):
            return JSONResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == 404:
            return await user_error(request, UserError("not_found", 404))
        if _wants_json(request):
            return JSONResponse(
                {"error": {"code": str(exc.status_code), "message": exc.detail}},
                status_code=exc.status_code,
            )
        return render(request, "error.html", status=exc.status_code, message=str(exc.detail))
