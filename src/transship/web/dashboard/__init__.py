"""The dashboard: overview, hub, product, mirror, detect and screening pages, rendered on
the server, one module each in `pages/` (its docstring says how to add one).

Filters live in the URL (`/hub?hub=TUR&period=2023-01..2023-09`), so every view can be
linked and reloaded. Each table is downloadable as CSV from the same URL with
`download=<table>`. Charts are Vega-Lite specs drawn by the Vega bundle served from
`/static/vega.js` (no CDN). Pages are cached per URL and data version (server.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from transship.settings import Settings
from transship.web.dashboard.base import (
    DEFAULTS,
    WEB,
    Page,
    PageData,
    Table,
    format_cell,
    table_csv,
)
from transship.web.dashboard.pages import nav, registry
from transship.web.dashboard.server import Dashboard

assets = APIRouter()


@assets.get("/static/vega.js", include_in_schema=False)
def vega() -> Response:
    from transship.report.html import vega_bundle

    return Response(
        vega_bundle(),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def mount_dashboard(app: FastAPI, settings: Settings, lease: Any = None) -> Dashboard:
    """Add every registered page's router, /static and /static/vega.js to `app`; the app's
    lifespan may call the returned Dashboard's start_warming() at startup and must call
    close() at shutdown."""
    dash = Dashboard(settings, lease)
    for page in registry().values():
        if page.router is not None:
            app.include_router(page.router)
    app.include_router(assets)  # before the /static mount, which would shadow it
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    app.state.dashboard = dash
    return dash


__all__ = [
    "DEFAULTS",
    "Dashboard",
    "Page",
    "PageData",
    "Table",
    "format_cell",
    "mount_dashboard",
    "nav",
    "registry",
    "table_csv",
]
