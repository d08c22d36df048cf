"""`transship serve`: the HTTP API (screening, and the dashboard once it lands)."""

from __future__ import annotations

from typing import Annotated

import typer

from transship.cli._app import app, handle_errors, warehouse_path


@app.command()
@handle_errors
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the HTTP API: POST /v1/screen, GET /v1/policies, GET /v1/health, /docs."""
    import uvicorn

    from transship.settings import get_settings
    from transship.web.app import create_app

    settings = get_settings().model_copy(update={"warehouse": warehouse_path(ctx)})
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
