"""The FastAPI application: `create_app()` wires settings, limits, errors and the routers.

Routers live in their own modules (api.py: the screening API under /v1; dashboard/pages/: one
module per page, found by the registry); add a new area by including its router in
`create_app`, a new dashboard page by adding its module (dashboard/pages/__init__.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from transship import __version__
from transship.errors import TransshipError
from transship.settings import Settings, get_settings


def _offline_docs(app: FastAPI) -> None:
    """/docs: Swagger UI from the swagger-ui-bundle package's files, no CDN."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount(
        "/docs-assets",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="docs-assets",
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="transship API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    """The transship web application: the screening API under /v1 and the dashboard pages."""
    from transship.web import alerts, api, load, search, service
    from transship.web.auth import QueryTokenGuard, install_log_filter
    from transship.web.body import RequestBodyGuard
    from transship.web.dashboard import mount_dashboard
    from transship.web.fastscreen import FastScreen

    settings = settings or get_settings()
    install_log_filter(settings.tokens())  # no token-like query string reaches the access log

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_filter(settings.tokens())  # again, after the server configured logging
        app.state.dashboard.start_warming()  # default pages computed in the background
        yield
        app.state.dashboard.close()
        app.state.screening.close()  # checkpoint: the .duckdb file alone holds every record
        app.state.workers.close()

    app = FastAPI(
        title="transship",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served below from bundled assets: the docs page works offline
        redoc_url=None,  # ReDoc would load its script from a CDN
        description="Screen customs declarations against sanctions policies and lists, "
        "with the reason for every decision. Authenticate with `Authorization: Bearer <token>`.",
    )
    app.state.settings = settings
    app.state.screening = service.ScreeningService(settings)
    # One lease on the warehouse for the API and the pages: the file is open only while
    # requests use it, so CLI commands work beside the server (warehouse/lease.py).
    app.state.lease = app.state.screening.lease
    app.state.workers = load.Workers(settings)

    @app.exception_handler(TransshipError)
    async def _transship_error(request: Request, exc: TransshipError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.http_status)

    app.include_router(api.router)
    app.include_router(search.router)  # GET /v1/search
    app.include_router(alerts.router)  # /v1/alerts, /v1/rescreen and the /alerts page
    mount_dashboard(app, settings, app.state.lease)
    _offline_docs(app)
    # Innermost of ours: the ordinary POST /v1/screen without FastAPI's routing and
    # dependencies (web/fastscreen.py); everything else reaches the routes.
    app.add_middleware(FastScreen)
    # Whole body read first: 413 over the limit (streamed too), 422 for non-strict JSON.
    app.add_middleware(RequestBodyGuard, limit=settings.api_max_request_bytes)
    # Next to outermost: an overloaded server refuses before reading the body (web/load.py).
    app.add_middleware(load.Shedder, settings=settings)
    # Outermost: a token in the URL is refused before anything else reads the request.
    app.add_middleware(QueryTokenGuard, tokens=settings.tokens())
    return app
