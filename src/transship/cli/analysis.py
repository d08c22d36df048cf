"""Analysis commands: flows, mirror and headline (detection commands: cli.detection), and
the helpers they share."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from transship.cli._app import (
    BaselineOpt,
    Concordance,
    ConcordanceOpt,
    FlowOpt,
    FormatOpt,
    NotesOpt,
    OutFormat,
    OutOpt,
    PartnerOpt,
    PartnerReq,
    ProductsOpt,
    ReporterOpt,
    ReporterReq,
    SourceOpt,
    app,
    handle_errors,
    print_notes,
    renamed,
    warehouse_path,
)


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


@contextmanager
def connect_ctx(ctx: typer.Context, engine: Engine) -> Iterator[Any]:
    from transship.analysis.engine import close, connect

    con = connect(warehouse_path(ctx), engine=engine.value)
    try:
        yield con
    finally:
        close(con)


def show(
    result: Any,
    table: Any,
    fmt: OutFormat,
    out: Path | None,
    title: str,
    what: str,
    *,
    notes: bool = False,
    empty: str | None = None,
    totals: bool = False,
) -> None:
    """Emit an analysis table, SYNTHETIC-labelled when it is, then its notes. `empty` says
    why no row matched; `totals` adds a total row of the USD value columns."""
    from transship.output import emit

    caption = f"{what}, freq {result.freq}"
    if result.synthetic:
        caption = "SYNTHETIC DATA: " + caption
        title = f"SYNTHETIC: {title}"  # the first line a reader sees, as well as the caption
        if fmt is not OutFormat.table or out is not None:  # files carry the label in each row
            table = table.append_column("data", _label(table.num_rows))
    usd = [c for c in table.column_names if c.endswith("_usd")] if totals else []
    emit(table, fmt.value, out=out, title=title, caption=caption, totals=usd, empty=empty)
    print_notes(result.notes, synthetic=result.synthetic, full=notes)


def why(con: Any, table: Any, **filters: Any) -> str | None:
    """Why `table` is empty (None when it is not): the filter that leaves no rows."""
    if table.num_rows:
        return None
    from transship.analysis.explain import why_empty

    return why_empty(con, **filters) or None


def _label(n: int) -> Any:
    import pyarrow as pa

    return pa.array(["SYNTHETIC"] * n, pa.string())


EngineOpt = Annotated[Engine, typer.Option(help="Run on duckdb or spark.")]


# -- queries --------------------------------------------------------------------------------
@app.command()
@handle_errors
def flows(
    ctx: typer.Context,
    reporter: ReporterOpt = None,
    partner: PartnerOpt = None,
    products: ProductsOpt = "chpl",
    period: Annotated[
        str | None, typer.Option(help="2023-01..2023-09, 2015..2021 or 2023.")
    ] = None,
    flow: FlowOpt = "export",
    by: Annotated[
        str, typer.Option(help="Group by: reporter,partner,flow,hs,hs2022,tier,period,year,source.")
    ] = "reporter,partner",
    freq: Annotated[str, typer.Option(help="M, A, or auto (monthly if any).")] = "auto",
    source: SourceOpt = None,
    compare: Annotated[
        str | None,
        typer.Option(help="Compare with 'prior' (same months a year earlier) or a period."),
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="Reference years, e.g. 2015..2021 (mean of the same months).")
    ] = None,
    concordance: ConcordanceOpt = Concordance.strict,
    notes: NotesOpt = False,
    engine: EngineOpt = Engine.duckdb,
    format: FormatOpt = OutFormat.table,
    out: OutOpt = None,
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
            concordance=concordance.value,
        )
        table = result.to_pyarrow()
        empty = why(con, table, reporter=reporter, partner=partner, period=period, flow=flow,
                    source=source, products=products)  # fmt: skip
    show(result, table, format, out, f"{products} {flow}s", f"{flow} value in USD",
         notes=notes, empty=empty, totals=True)  # fmt: skip


@app.command()
@handle_errors
@renamed(exporters="reporter", importers="partner")
def mirror(
    ctx: typer.Context,
    reporter: ReporterReq,
    partner: PartnerReq,
    products: ProductsOpt = "chpl",
    period: Annotated[
        str | None, typer.Option(help="2022-01..2023-09 (default: all data).")
    ] = None,
    cif_factor: Annotated[
        float, typer.Option(help="Imports are CIF: M_fob = M / this factor.")
    ] = 1.06,
    window: Annotated[
        int, typer.Option(help="Rolling window in periods (months), to absorb shipping lags.")
    ] = 3,
    whole_period: Annotated[
        bool, typer.Option("--whole-period", help="One row per pair over the whole period.")
    ] = False,
    log_threshold: Annotated[
        float, typer.Option(help="Breach when |ln(X/M_fob)| exceeds this (default ln 2).")
    ] = math.log(2),
    gap_threshold: Annotated[
        float, typer.Option(help="... and |X - M_fob| exceeds this many USD.")
    ] = 1e6,
    min_consecutive: Annotated[
        int, typer.Option(help="Flag runs of at least this many breaching windows.")
    ] = 2,
    by_product: Annotated[bool, typer.Option("--by-product", help="One row per HS code.")] = False,
    source: SourceOpt = None,
    concordance: ConcordanceOpt = Concordance.strict,
    notes: NotesOpt = False,
    engine: EngineOpt = Engine.duckdb,
    format: FormatOpt = OutFormat.table,
    out: OutOpt = None,
) -> None:
    """Mirror gaps: X as the reporter exports to the partner vs M as the partner imports it
    (CIF->FOB), with flags."""
    from transship.analysis.mirror import mirror as run

    with connect_ctx(ctx, engine) as con:
        result = run(
            con,
            exporters=reporter,
            importers=partner,
            products=products,
            period=period,
            cif_factor=cif_factor,
            window=None if whole_period else window,
            log_threshold=log_threshold,
            gap_threshold_usd=gap_threshold,
            min_consecutive=min_consecutive,
            by_product=by_product,
            source=source,
            concordance=concordance.value,
        )
        table = result.to_pyarrow()
        empty = why(con, table, reporter=reporter, partner=partner, period=period,
                    source=source, products=products)  # fmt: skip
    show(result, table, format, out, f"{products}: {reporter} -> {partner}", "USD",
         notes=notes, empty=empty)  # fmt: skip


@app.command()
@handle_errors
def headline(
    ctx: typer.Context,
    reporter: ReporterReq,
    partner: PartnerReq,
    period: Annotated[str, typer.Option(help="The months reported: 2023-01..2023-09.")],
    products: ProductsOpt = "chpl",
    compare: Annotated[str, typer.Option(help="'prior' (a year earlier) or a period.")] = "prior",
    baseline: BaselineOpt = "2015..2021",
    series: Annotated[
        str | None, typer.Option(help="Monthly series period (default: compare start to end).")
    ] = None,
    flow: FlowOpt = "export",
    source: SourceOpt = None,
    concordance: ConcordanceOpt = Concordance.strict,
    notes: NotesOpt = False,
    engine: EngineOpt = Engine.duckdb,
    format: Annotated[
        OutFormat, typer.Option("--format", "-f", help="table or json (one object).")
    ] = OutFormat.table,
    out: OutOpt = None,
) -> None:
    """The headline: total vs a year earlier vs a baseline, by partner, monthly peak."""
    import json

    from transship.analysis.headline import headline as run
    from transship.errors import UsageError

    if format not in (OutFormat.table, OutFormat.json):
        raise UsageError("headline writes --format table or json; use `flows` for csv/parquet")
    if out is not None:  # refused before any work; and it is one JSON document
        from transship.safepath import check_target

        check_target(out, parameter="out")
    if out is not None and out.suffix.lower() != ".json":
        raise UsageError(f"--out {out}: headline writes one JSON object; name it .json")
    with connect_ctx(ctx, engine) as con:
        h = run(
            con,
            reporter=reporter,
            partner=partner,
            products=products,
            period=period,
            compare=compare,
            baseline=baseline,
            series=series,
            flow=flow,
            source=source,
            concordance=concordance.value,
        )
        tables = {
            "total": h.total.to_pyarrow(),
            "by_partner": h.by_partner.to_pyarrow(),
            "series": h.series.to_pyarrow(),
        }
        empty = why(con, tables["series"], reporter=reporter, partner=partner, flow=flow,
                    source=source, products=products)  # fmt: skip
    if format is OutFormat.json or out is not None:  # a file gets the one JSON object
        doc: dict[str, Any] = {k: v.to_pylist() for k, v in tables.items()}
        doc["peak"] = h.peak
        doc["notes"] = h.notes
        doc["data"] = "SYNTHETIC" if h.synthetic else "reported"
        text = json.dumps(doc, default=str, indent=1) + "\n"
        if out:
            from transship.safepath import write_text

            write_text(out, text, parameter="out")
        else:
            typer.echo(text, nl=False)
        print_notes(h.notes, synthetic=h.synthetic, full=notes)
        return
    from transship.output import emit

    label = "SYNTHETIC DATA: " if h.synthetic else ""
    what = f"{products} {flow}s {reporter} -> {partner}"
    emit(tables["total"], "table", title=f"{what}, {period}", caption=f"{label}USD", empty=empty)
    emit(tables["by_partner"], "table", title="by partner", caption=f"{label}USD", empty=empty)
    emit(tables["series"], "table", title="monthly series", caption=f"{label}USD", empty=empty)
    print_notes(h.notes, synthetic=h.synthetic, full=notes)
