"""Analysis commands: flows (and the analyses built on it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from transship.cli._app import (
    OutFormat,
    app,
    handle_errors,
    print_notes,
    warehouse_path,
)


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


@contextmanager
def connect_ctx(ctx: typer.Context, engine: Engine) -> Iterator[Any]:
    from transship.analysis.engine import connect

    con = connect(warehouse_path(ctx), engine=engine.value)
    try:
        yield con
    finally:
        con.disconnect()


def show(result: Any, table: Any, fmt: OutFormat, out: Path | None, title: str, what: str) -> None:
    """Emit an analysis table, SYNTHETIC-labelled when it is, then its notes."""
    from transship.output import emit

    caption = f"{what}, freq {result.freq}"
    if result.synthetic:
        caption = "SYNTHETIC DATA: " + caption
        if fmt is not OutFormat.table or out is not None:  # files carry the label in each row
            table = table.append_column("data", _label(table.num_rows))
    emit(table, fmt.value, out=out, title=title, caption=caption)
    print_notes(result.notes, synthetic=result.synthetic)


def _label(n: int) -> Any:
    import pyarrow as pa

    return pa.array(["SYNTHETIC"] * n, pa.string())


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
    compare: Annotated[
        str | None,
        typer.Option(help="Compare with 'prior' (same months a year earlier) or a period."),
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="Baseline years, e.g. 2015..2021: mean of the same months.")
    ] = None,
    engine: Annotated[Engine, typer.Option(help="Run on duckdb or spark.")] = Engine.duckdb,
    format: Annotated[
        OutFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutFormat.table,
    out: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """Trade value by reporter, partner, product, CHPL tier or period."""
    from transship.analysis.flows import flows as run

    keys = [b.strip() for b in by.split(",") if b.strip()]
    with connect_ctx(ctx, engine) as con:
        result = run(
            con,
            reporter=reporter,
            partner=partner,
            products=products,
            period=period,
            flow=flow,
            by=keys,
            freq=freq,  # type: ignore[arg-type]  # checked by flows()
            source=source,
            compare=compare,
            baseline=baseline,
        )
        table = result.to_pyarrow()
    show(result, table, format, out, f"{products} {flow}s", f"{flow} value in USD")
