"""Compliance workflow commands: lists diff, rescreen, audit export (alerts: cli/alerts.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from transship.cli._app import FormatOpt, OutFormat, handle_errors, warehouse_path
from transship.cli.screening import audit_app, lists_app


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


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


@audit_app.command("export")
@handle_errors
def audit_export(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option(help="File to write (CSV: one <stem>-<section>.csv per section).")
    ],
    from_: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day (UTC), inclusive."),
    ] = None,
    to: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day (UTC), inclusive.")
    ] = None,
    format: Annotated[
        ExportFormat | None,
        typer.Option("--format", "-f", help="csv, json or xlsx (default: from --out's suffix)."),
    ] = None,
) -> None:
    """For examiners: decisions, alerts, reviews (who, when, why), list versions and policy
    hashes of a period, with the audit head to check the chain against."""
    from rich.console import Console

    from transship.screening.export import export, write
    from transship.warehouse import open_warehouse

    fmt = format.value if format else out.suffix.lstrip(".").lower()
    if fmt not in ("csv", "json", "xlsx"):
        from transship.errors import UsageError

        raise UsageError(f"--format: give csv, json or xlsx (or an --out ending so), not {fmt!r}")
    wh_path = warehouse_path(ctx)
    with open_warehouse(wh_path) as wh:
        doc = export(wh.con, from_.date() if from_ else None, to.date() if to else None)
    files = write(doc, fmt, out, [wh_path])
    Console(stderr=True).print(
        f"{len(doc['decisions'])} decisions, {len(doc['alerts'])} alerts, "
        f"{len(doc['reviews'])} reviews, {len(doc['list_versions'])} list versions -> "
        + ", ".join(str(f) for f in files),
        highlight=False,
    )
