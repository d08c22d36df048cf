"""The `transship` command: thin over the library. Each command parses options, calls one
library function, and prints. Heavy libraries are imported inside commands so `--help`
stays fast."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from transship import __version__
from transship.errors import TransshipError

app = typer.Typer(
    help="Find sanctions-relevant dual-use goods reaching Russia through third countries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
ingest_app = typer.Typer(help="Load trade files into the warehouse (one atomic batch each).")
export_app = typer.Typer(help="Copy the warehouse out for other tools.")
app.add_typer(ingest_app, name="ingest")
app.add_typer(export_app, name="export")

F = TypeVar("F", bound=Callable[..., Any])


class OutFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


class RefKind(StrEnum):
    chpl = "chpl"
    countries = "countries"
    groups = "groups"
    events = "events"


class CountryScheme(StrEnum):
    auto = "auto"
    iso3 = "iso3"
    iso2 = "iso2"
    m49 = "m49"
    comtrade = "comtrade"
    baci = "baci"


def handle_errors(fn: F) -> F:
    """Print transship errors in one line and exit with their code, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from transship.reference import ReferenceDataError

        try:
            return fn(*args, **kwargs)
        except (TransshipError, ReferenceDataError) as e:
            from rich.console import Console

            code = e.exit_code if isinstance(e, TransshipError) else 2
            Console(stderr=True).print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


def _warehouse_path(ctx: typer.Context, default: Path | None = None) -> Path:
    """--warehouse if given, else `default`, else TRANSSHIP_WAREHOUSE / ./transship.duckdb."""
    from transship.settings import get_settings

    given = ctx.find_root().params.get("warehouse")
    return Path(given) if given else default or get_settings().warehouse


def _version(value: bool) -> None:
    if value:
        typer.echo(f"transship {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    warehouse: Annotated[
        Path | None,
        typer.Option(
            "--warehouse",
            "-w",
            help="Warehouse file (env TRANSSHIP_WAREHOUSE; default ./transship.duckdb).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Find sanctions-relevant dual-use goods reaching Russia through third countries."""


# -- ingest ---------------------------------------------------------------------------------
def _run_ingest(ctx: typer.Context, src: Any) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from transship.output import emit
    from transship.warehouse import open_warehouse

    console = Console(stderr=True)
    started = time.perf_counter()
    with (
        open_warehouse(_warehouse_path(ctx)) as wh,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[rows]:>12,} rows"),
            TextColumn("{task.fields[rate]:>10,.0f} rows/s"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress,
    ):
        task = progress.add_task(
            f"ingest {src.source}", total=src.bytes_total or None, rows=0, rate=0.0
        )

        def on_batch(s: Any, written: int) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=s.bytes_done, rows=written, rate=written / elapsed)

        result = wh.ingest(src, progress=on_batch)
        progress.update(task, completed=src.bytes_total or 0)
    rate = result.rows_written / max(result.seconds, 1e-9)
    emit(
        [
            {
                "batch": result.batch_id,
                "source": result.source,
                "rows read": result.rows_read,
                "written": result.rows_written,
                "replaced": result.rows_replaced,
                "rejected": result.rows_rejected,
                "seconds": round(result.seconds, 2),
                "rows/s": round(rate),
            },
        ],
        "table",
        title=f"ingested {result.input_name}",
        caption=f"sha256 {result.input_sha256}",
    )


@ingest_app.command("csv")
@handle_errors
def ingest_csv(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Delimited file (.csv, .tsv, .gz or .zip).")],
    source: Annotated[str, typer.Option(help="Source label stored with each row, e.g. turkstat.")],
    map_: Annotated[
        list[str],
        typer.Option(
            "--map",
            help="COLUMN=FIELD, repeatable; fields: reporter partner flow hs "
            "hs_rev period freq value_usd net_kg qty qty_unit valuation.",
        ),
    ],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="FIELD=VALUE for every row, e.g. flow=export.")
    ] = None,
    country_codes: Annotated[
        CountryScheme,
        typer.Option(
            help="Code scheme of reporter/partner; auto: alpha-3, alpha-2, or UN Comtrade numerics."
        ),
    ] = CountryScheme.auto,
    delimiter: Annotated[
        str | None, typer.Option(help="Field delimiter (default: detected).")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding (default: detected).")] = None,
    value_scale: Annotated[
        float, typer.Option(help="Multiply values by this (1000 for thousands).")
    ] = 1.0,
    zero_pad_hs: Annotated[
        bool, typer.Option(help="Left-pad 5-digit HS codes with 0 (numeric exports drop it).")
    ] = False,
    reject_file: Annotated[
        Path | None, typer.Option(help="Write bad rows here with their reason and keep going.")
    ] = None,
) -> None:
    """Ingest a generic delimited file, mapping its columns onto the canonical schema."""
    from transship.settings import get_settings
    from transship.sources.csvfile import csv_file

    src = csv_file(
        file,
        source=source,
        mapping=map_,
        constants=set_ or [],
        country_codes=country_codes.value,
        delimiter=delimiter,
        encoding=encoding,
        value_scale=value_scale,
        zero_pad_hs=zero_pad_hs,
        reject_file=reject_file,
        block_mb=get_settings().read_block_mb,
    )
    _run_ingest(ctx, src)


@ingest_app.command("baci")
@handle_errors
def ingest_baci(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="BACI csv or the BACI_HSxx_Vyyyy zip from CEPII.")],
    hs_rev: Annotated[
        str | None, typer.Option(help="HS revision, e.g. HS2017 (default: from the file name).")
    ] = None,
    reject_file: Annotated[
        Path | None, typer.Option(help="Write bad rows here with their reason and keep going.")
    ] = None,
) -> None:
    """Ingest CEPII BACI (t,i,j,k,v,q): values thousand USD -> USD, tonnes -> kg."""
    from transship.settings import get_settings
    from transship.sources.baci import baci_file

    src = baci_file(
        file, hs_rev=hs_rev, reject_file=reject_file, block_mb=get_settings().read_block_mb
    )
    _run_ingest(ctx, src)


# -- export ---------------------------------------------------------------------------------
@export_app.command("parquet")
@handle_errors
def export_parquet(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Output directory (source=/year= partitions).")],
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty directory.")] = False,
) -> None:
    """Write trade_flows as Hive-partitioned Parquet (the hand-off to Spark)."""
    from transship.output import emit
    from transship.warehouse import open_warehouse

    with open_warehouse(_warehouse_path(ctx), read_only=True) as wh:
        info = wh.export_parquet(directory, overwrite=overwrite)
    emit([info], "table", title="parquet export")


# -- reference ------------------------------------------------------------------------------
@app.command()
@handle_errors
def reference(
    kind: Annotated[RefKind, typer.Argument(help="Which reference table.")],
    format: Annotated[
        OutFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutFormat.table,
    out: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """Print reference data: CHPL codes, countries, country groups, sanctions events."""
    from transship import reference as ref
    from transship.output import emit

    emit(ref.records(kind.value), format.value, out=out, title=kind.value)


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
    with open_warehouse(_warehouse_path(ctx), read_only=True) as wh:
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
    _print_notes(result.notes, synthetic=result.synthetic)


def _print_notes(notes: list[str], *, synthetic: bool) -> None:
    from rich.console import Console

    err = Console(stderr=True)
    if synthetic:
        err.print(
            "[bold yellow]SYNTHETIC[/]: these figures come from generated data, not real trade."
        )
    for note in notes:
        err.print(f"[dim]note: {note}[/]", highlight=False)


@app.command()
@handle_errors
def batches(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Most recent N batches.")] = 20,
    format: Annotated[
        OutFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutFormat.table,
) -> None:
    """List ingest batches with their provenance and status, newest first."""
    from transship.output import emit
    from transship.warehouse import open_warehouse

    with open_warehouse(_warehouse_path(ctx), read_only=True) as wh:
        rows = wh.batches(limit)
    if format == OutFormat.table:
        keep = (
            "batch_id",
            "status",
            "input_name",
            "rows_read",
            "rows_written",
            "rows_replaced",
            "rows_rejected",
            "started",
            "error",
        )
        rows = [{k: r[k] for k in keep} for r in rows]
    emit(rows, format.value, title="ingest batches")


@app.command()
@handle_errors
def demo(
    ctx: typer.Context,
    fresh: Annotated[bool, typer.Option(help="Delete the demo warehouse first.")] = True,
) -> None:
    """Offline demo: build a small SYNTHETIC warehouse and run the first queries on it."""
    from transship.demo import run_demo

    run_demo(_warehouse_path(ctx, Path("transship-demo.duckdb")), fresh=fresh)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
