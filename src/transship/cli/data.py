"""Commands that load and list data: ingest, export, reference, batches."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from transship.cli._app import (
    CountryScheme,
    FormatOpt,
    OutFormat,
    OutOpt,
    RefKind,
    app,
    export_app,
    handle_errors,
    ingest_app,
    warehouse_path,
)
from transship.cli._lean import lean_ingest
from transship.cli._lean import started as lean_started

# -- ingest ---------------------------------------------------------------------------------
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Read the file again even if a batch holds it already (same sha256, source and "
        "options), replacing that batch; without it such a file is skipped.",
    ),
]


def _run_ingest(ctx: typer.Context, src: Any, *, force: bool = False) -> None:
    """Ingest `src` with a progress bar and print the result. The input is read from the
    start (`ReadAhead`, a few batches ahead) while DuckDB is imported and the warehouse
    opened; the warehouse is opened only now, once the source was built (its arguments
    checked), as it would be without reading ahead."""
    from transship.ahead import ReadAhead

    ahead = ReadAhead(src)
    with ahead:
        _ingest_read_ahead(ctx, ahead, force=force)


def _ingest_read_ahead(ctx: typer.Context, src: Any, *, force: bool) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from transship.output import emit, options
    from transship.warehouse import open_warehouse

    console = Console(stderr=True)
    started = time.perf_counter()
    with (
        open_warehouse(warehouse_path(ctx)) as wh,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[rows]:>12,} rows"),
            TextColumn("{task.fields[rate]:>10,.0f} rows/s"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            disable=options().quiet,
        ) as progress,
    ):
        task = progress.add_task(
            f"ingest {src.source}", total=src.bytes_total or None, rows=0, rate=0.0
        )

        def on_batch(s: Any, written: int) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=s.bytes_done, rows=written, rate=written / elapsed)

        lean_started()  # imports done: garbage collection on again (cli/_lean.py)
        result = wh.ingest(src, progress=on_batch, force=force)
        progress.update(task, completed=src.bytes_total or 0)
    from transship.cli._app import print_notes

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
        title=f"{'skipped' if result.status == 'skipped' else 'ingested'} {result.input_name}",
        caption=f"sha256 {result.input_sha256}",
    )
    print_notes(result.notes, synthetic=result.source == "synthetic")


@ingest_app.command("csv")
@handle_errors
def ingest_csv(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="File: .csv, .tsv, .gz, .zip, .parquet, .xlsx or .xls."),
    ],
    source: Annotated[str, typer.Option(help="Source label stored with each row, e.g. turkstat.")],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="COLUMN=FIELD, repeatable; fields: reporter partner flow hs "
            "hs_rev period freq value_usd net_kg qty qty_unit valuation. Columns already "
            "named like a field are mapped onto it unless this says otherwise.",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="FIELD=VALUE for every row, e.g. flow=export.")
    ] = None,
    map_value: Annotated[
        list[str] | None,
        typer.Option("--map-value", help="FIELD:VALUE=CANONICAL, repeatable, e.g. flow:ИМ=import."),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="YAML file with map: {column: field}, values: {field: {..}}, set: {..}."),
    ] = None,
    input_format: Annotated[
        str | None,
        typer.Option(help="csv, tsv, parquet or xlsx (default: from the file suffix)."),
    ] = None,
    country_codes: Annotated[
        CountryScheme,
        typer.Option(
            metavar="<scheme>",
            help="Code scheme of reporter/partner: iso3, iso2, m49, comtrade, baci or auto "
            "(alpha-3, alpha-2, UN Comtrade numerics or English names).",
        ),
    ] = CountryScheme.auto,
    delimiter: Annotated[
        str | None, typer.Option(help="Field delimiter (default: detected).")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding (default: detected).")] = None,
    thousands: Annotated[
        str | None, typer.Option(help="Thousands separator of numbers, e.g. ',' or '.'.")
    ] = None,
    decimal: Annotated[str, typer.Option(help="Decimal separator of numbers.")] = ".",
    value_scale: Annotated[
        float, typer.Option(help="Multiply values by this (1000 for thousands).")
    ] = 1.0,
    zero_pad_hs: Annotated[
        bool,
        typer.Option(
            "--zero-pad-hs", help="Left-pad 5-digit HS codes with 0 (numeric exports drop it)."
        ),
    ] = False,
    hs_national: Annotated[
        bool,
        typer.Option(
            "--hs-national", help="Keep 7-12-digit codes in table hs_national (drill-down)."
        ),
    ] = False,
    reject_file: Annotated[
        Path | None, typer.Option(help="Write bad rows here with their reason and keep going.")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Ingest a generic file, mapping its columns onto the canonical schema.

    National codes of 6-12 digits (CN8, TN VED, GTIP) are summed to their HS6.
    """
    lean_ingest()  # before anything imports pyarrow's users
    from transship.settings import get_settings
    from transship.sources.csvfile import csv_file

    src = csv_file(
        file,
        source=source,
        mapping=map_ or [],
        constants=set_ or [],
        value_maps=map_value or [],
        mapping_file=mapping,
        input_format=input_format,
        country_codes=country_codes.value,
        delimiter=delimiter,
        encoding=encoding,
        thousands=thousands,
        decimal=decimal,
        value_scale=value_scale,
        zero_pad_hs=zero_pad_hs,
        keep_national=hs_national,
        reject_file=reject_file,
        block_mb=get_settings().read_block_mb,
    )
    _run_ingest(ctx, src, force=force)


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
    force: ForceOpt = False,
) -> None:
    """Ingest CEPII BACI (t,i,j,k,v,q): values thousand USD -> USD, tonnes -> kg."""
    lean_ingest()  # before anything imports pyarrow's users
    from transship.settings import get_settings
    from transship.sources.baci import baci_file

    src = baci_file(
        file, hs_rev=hs_rev, reject_file=reject_file, block_mb=get_settings().read_block_mb
    )
    _run_ingest(ctx, src, force=force)


# -- export ---------------------------------------------------------------------------------
@export_app.command("parquet")
@handle_errors
def export_parquet(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(help="Output directory, created if missing (source=/year= parts).")
    ],
    overwrite: Annotated[
        bool, typer.Option(help="Replace an earlier export in that directory.")
    ] = False,
) -> None:
    """Write trade_flows as Hive-partitioned Parquet (the hand-off to Spark).

    Written to a temporary directory next to DIR that takes its place when complete."""
    from transship.output import emit
    from transship.warehouse import open_warehouse

    with open_warehouse(warehouse_path(ctx), read_only=True) as wh:
        info = wh.export_parquet(directory, overwrite=overwrite)
    emit([info], "table", title="parquet export")


# -- reference ------------------------------------------------------------------------------
@app.command()
@handle_errors
def reference(
    kind: Annotated[RefKind, typer.Argument(help="Which reference table.")],
    format: FormatOpt = OutFormat.table,
    out: OutOpt = None,
) -> None:
    """Print reference data: CHPL codes, countries, country groups, sanctions events."""
    from transship import reference as ref
    from transship.output import emit

    emit(ref.records(kind.value), format.value, out=out, title=kind.value)


@app.command()
@handle_errors
def batches(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Most recent N batches.")] = 20,
    format: FormatOpt = OutFormat.table,
) -> None:
    """List ingest batches with their provenance and status, newest first."""
    from transship.output import emit
    from transship.warehouse import open_warehouse

    with open_warehouse(warehouse_path(ctx), read_only=True) as wh:
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
    emit(rows, format.value, title="ingest batches", empty="nothing was ingested yet")
