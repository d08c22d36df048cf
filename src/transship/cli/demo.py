"""The offline demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from transship.cli._app import (
    app,
    handle_errors,
    warehouse_path,
)


@app.command()
@handle_errors
def demo(
    ctx: typer.Context,
    fresh: Annotated[bool, typer.Option(help="Delete the demo warehouse first.")] = True,
) -> None:
    """Offline demo: build a small SYNTHETIC warehouse and run the first queries on it."""
    from transship.demo import run_demo

    run_demo(warehouse_path(ctx, Path("transship-demo.duckdb")), fresh=fresh)
