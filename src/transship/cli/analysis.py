"""Analysis commands: flows (and the analyses built on it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from transship.cli._app import (
    OutFormat,
    app,
    handle_errors,
    print_notes,
    warehouse_path,
)


# -- queries --------------------------------------------------------------------------------
@app.command()
@handle_errors
def flows(
    ctx: typer.Context,
    reporter: Annotated[
        str | None, typer.Option(help="Countries: TUR, russia+ft_five, g7-JPN.")
    ] = None,
    partner: Annotated[str | None, typer.Option(help="Partner countries (same syntax).")] = None,
    products: Annotated[
        str, typer.Option(help="chpl, chpl:tier1,tier2, or HS codes/prefixes: 8542,851762.")
    ] = "chpl",
    period: Annotated[
        str | None, typer.Option(help="2023-01..2023-09, 2015..2021 or 2023.")
    ] = None,
    flow: Annotated[str, typer.Option(help="export, import, re-export or re-import.")] = "export",
    by: Annotated[
        str, typer.Option(help="Group by: reporter,partner,flow,hs,hs2022,tier,period,year,source.")
    ] = "reporter,partner",
    freq: Annotated[str, typer.Option(help="M, A, or auto (monthly if any).")] = "auto",
    source: Annotated[str | None, typer.Option(help="Only rows from this source.")] = None,
    format: Annotated[
        OutFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutFormat.table,
    out: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """Trade value by reporter, partner, product, CHPL tier or period."""
    from transship.analysis.flows import flows as run
    from transship.output import emit
    from transship.warehouse import open_warehouse

    keys = [b.strip() for b in by.split(",") if b.strip()]
    with open_warehouse(warehouse_path(ctx), read_only=True) as wh:
        result = run(
            wh.ibis(),
            reporter=reporter,
            partner=partner,
            products=products,
            period=period,
            flow=flow,
            by=keys,
            freq=freq,  # type: ignore[arg-type]  # checked by flows()
            source=source,
        )
        table = result.to_pyarrow()
    caption = f"{flow} value in USD, freq {result.freq}"
    if result.synthetic:
        caption = "SYNTHETIC DATA: " + caption
    emit(table, format.value, out=out, title=f"{products} {flow}s", caption=caption)
    print_notes(result.notes, synthetic=result.synthetic)
