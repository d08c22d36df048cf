"""The FastAPI application: dashboard pages and a health route.

Minimal until the screening API (issue 6) lands; that issue owns this module and mounts
the dashboard router the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def create_app(warehouse: Path | None = None) -> Any:
    """The app over `warehouse` (default: settings' warehouse), opened read-only."""
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    from transship import __version__
    from transship.web.dashboard import mount_dashboard

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.dashboard.close()

    app = FastAPI(title="transship", version=__version__, lifespan=lifespan)

    @app.get("/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    mount_dashboard(app, warehouse)
    return app
