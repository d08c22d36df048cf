"""Compliance workflow commands: lists diff, rescreen, audit export (alerts: cli/alerts.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from transship.cli._app import FormatOpt, OutFormat, handle_errors, warehouse_path
from transship.cli.screening import lists_app


@lists_app.command("diff")
@handle_errors
def lists_diff(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The list (e.g. ofac-sdn).")],
    old: Annotated[
        int | None, typer.Argument(help="Older version (default: the one before NEW).")
    ] = None,
    new: Annotated[int | None, typer.Argument(help="Newer version (default: current).")] = None,
    format: FormatOpt = OutFormat.table,
) -> None:
    """Entities added, removed and changed between two versions of a list."""
    from transship.output import emit
    from transship.screening import diff_lists

    d = diff_lists(warehouse_path(ctx), name, old, new)
    if format.value == "table":
        emit([d.summary()], "table", title=f"{name}: version {d.old} -> {d.new}")
        emit(d.rows, "table", title="entities")
    else:
        emit(d.rows, format.value)
