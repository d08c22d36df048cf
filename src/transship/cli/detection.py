"""Detection commands: hubs (the difference-in-differences ranking), anomalies, the event
study, and detect (every detector, one triage list). Shared helpers are cli.analysis'."""

from __future__ import annotations

from typing import Annotated

import typer

from transship.cli._app import (
    BaselineOpt,
    CoalitionOpt,
    Concordance,
    ConcordanceOpt,
    FlowOpt,
    FormatOpt,
    HubOpt,
    NeighboursOpt,
    NotesOpt,
    OutFormat,
    OutOpt,
    PartnerOpt,
    ProductsOpt,
    ReporterOpt,
    SourceOpt,
    TargetOpt,
    app,
    handle_errors,
    print_notes,
    renamed,
)
from transship.cli.analysis import Engine, EngineOpt, connect_ctx, show, why


@app.command()
@handle_errors
@renamed(hubs="hub")
def hubs(
    ctx: typer.Context,
    hub: HubOpt = "hubs",
    target: TargetOpt = "russia",
    neighbours: NeighboursOpt = "caucasus_central_asia",
    coalition: CoalitionOpt = "coalition",
    products: ProductsOpt = "chpl",
    event: Annotated[str, typer.Option(help="Timeline event that splits pre and post.")] = (
        "invasion"
    ),
    baseline: BaselineOpt = "2015..2021",
    post: Annotated[
        str | None, typer.Option(help="Post period (default: month after event to last data).")
    ] = None,
    control: Annotated[
        str, typer.Option(help="Control products: auto (same HS4 headings) or codes.")
    ] = "auto",
    source: SourceOpt = None,
    concordance: ConcordanceOpt = Concordance.strict,
    notes: NotesOpt = False,
    engine: EngineOpt = Engine.duckdb,
    format: FormatOpt = OutFormat.table,
    out: OutOpt = None,
) -> None:
    """Rank hubs: CHPL vs control growth after an event (difference-in-differences)."""
    from transship.analysis.hubs import hubs as run

    with connect_ctx(ctx, engine) as con:
        result = run(
            con,
            hubs=hub,
            target=target,
            neighbours=neighbours,
            coalition=coalition,
            products=products,
            event=event,
            baseline=baseline,
            post=post,
            control=control,
            source=source,
            concordance=concordance.value,
        )
        table = result.to_pyarrow()
        empty = why(con, table, source=source, flow=None, products=products)
    show(
        result,
        table,
        format,
        out,
        f"hubs: {products} after {event}",
        "log growth; USD a year",
        notes=notes,
        empty=empty,
    )


@app.command()
@handle_errors
@renamed(pre="baseline")
def anomalies(
    ctx: typer.Context,
    reporter: ReporterOpt = None,
    partner: PartnerOpt = None,
    products: ProductsOpt = "chpl",
    flow: FlowOpt = "export",
    baseline: Annotated[
        str, typer.Option(help="Each series' own reference years, e.g. 2015..2021.")
    ] = "2015..2021",
    post: Annotated[
        str | None,
        typer.Option(help="Period to score (default: after --baseline to last data)."),
    ] = None,
    threshold: Annotated[float, typer.Option(help="Robust score that counts as a surge.")] = 3.5,
    min_pre_months: Annotated[
        int, typer.Option(help="Leave out series with fewer positive pre months.")
    ] = 12,
    source: SourceOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show the top N (0: all).")] = 50,
    concordance: ConcordanceOpt = Concordance.strict,
    notes: NotesOpt = False,
    engine: EngineOpt = Engine.duckdb,
    format: FormatOpt = OutFormat.table,
    out: OutOpt = None,
) -> None:
    """Rank (reporter, partner, product) surges by a robust score vs their own past."""
    from transship.analysis.anomalies import anomalies as run

    with connect_ctx(ctx, engine) as con:
        result = run(
            con,
            reporter=reporter,
            partner=partner,
            products=products,
            flow=flow,
            pre=baseline,
            post=post,
            threshold=threshold,
            min_pre_months=min_pre_months,
            source=source,
            concordance=concordance.value,
        )
        expr = result.table.limit(limit) if limit else result.table
        table = expr.to_pyarrow()
        empty = why(con, table, reporter=reporter, partner=partner, flow=flow, source=source,
                    products=products) or f"no series scored {threshold} or more"  # fmt: skip
    show(
        result,
        table,
        format,
        out,
        f"{products} {flow} surges",
        "USD a month; robust scores",
        notes=notes,
        empty=empty,
    )


@app.command("event-study")
@handle_errors
def event_study(
    ctx: typer.Context,
    event: Annotated[str, typer.Option(help="Timeline event id (transship reference events).")] = (
        "eo14114"
    ),
    reporter: ReporterOpt = None,
    partner: PartnerOpt = None,
    products: ProductsOpt = "chpl",
    flow: FlowOpt = "export",
    before: Annotated[int, typer.Option(help="Months before the event.")] = 12,
    after: Annotated[int, typer.Option(help="Months after the event.")] = 12,
    source: SourceOpt = None,
    concordance: ConcordanceOpt = Concordance.strict,
    notes: NotesOpt = False,
    engine: EngineOpt = Engine.duckdb,
    format: FormatOpt = OutFormat.table,
    out: OutOpt = None,
) -> None:
    """Monthly values around a sanctions event, indexed to the months before it."""
    from transship.analysis.anomalies import event_study as run

    with connect_ctx(ctx, engine) as con:
        result = run(
            con,
            event=event,
            reporter=reporter,
            partner=partner,
            products=products,
            flow=flow,
            before=before,
            after=after,
            source=source,
            concordance=concordance.value,
        )
        table = result.to_pyarrow()
        empty = why(con, table, reporter=reporter, partner=partner, flow=flow, source=source,
                    products=products)  # fmt: skip
    show(result, table, format, out, f"{products} {flow}s around {event}", "USD a month",
         notes=notes, empty=empty)  # fmt: skip


@app.command()
@handle_errors
def detect(
    ctx: typer.Context,
    detector: Annotated[
        list[str] | None,
        typer.Option(help="Detectors to run (repeatable; default: the default set; --list)."),
    ] = None,
    target: TargetOpt = "russia",
    neighbours: NeighboursOpt = "caucasus_central_asia",
    coalition: CoalitionOpt = "coalition",
    source: SourceOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Show the top N findings (0: all).")
    ] = 50,
    list_: Annotated[
        bool, typer.Option("--list", help="List the detectors and their parameters.")
    ] = False,
    format: FormatOpt = OutFormat.table,
    out: OutOpt = None,
) -> None:
    """Every detector in one run: one triage table of findings, best evidence first.

    Columns: kind, where, since, size_usd (a year), evidence, detector, score (-log10 q after
    Benjamini-Hochberg), link (the dashboard page that shows it).
    """
    from transship.analysis.detect import detect as run
    from transship.analysis.detect import registry
    from transship.output import emit

    if list_:
        rows = [
            {"detector": n, "default": c.default, "kind": c.kind, "parameter": p.name,
             "value": str(p.default), "description": p.description}
            for n, c in registry().items()
            for p in c.PARAMETERS
        ]  # fmt: skip
        emit(rows, format.value, out=out, title="detectors and their parameters", caption="")
        return
    with connect_ctx(ctx, Engine.duckdb) as con:
        result = run(con, detectors=detector or None, target=target, neighbours=neighbours,
                     coalition=coalition, source=source, limit=limit or None)  # fmt: skip
        table = result.to_pyarrow()
    notes = [*result.notes, "seconds per detector: " + ", ".join(
        f"{k} {v}" for k, v in result.timings.items())]  # fmt: skip
    result.notes = notes
    if table.num_rows == 0:
        why = "No findings: no detector's evidence survived its false-discovery control."
        if format is OutFormat.table and out is None:  # no columns to select from
            typer.echo(why)
            print_notes(result.notes, synthetic=result.synthetic)
            return
        from transship.output import message

        message(why)  # stdout carries the JSON / CSV
    if format is OutFormat.table and out is None:  # evidence is prose: below the table
        import pyarrow.compute as pc

        # 80 columns: the month a finding starts, and the detector on its evidence line,
        # leave `where` room for "TUR (exports_to_target)" on one line
        narrow = table.select(["rank", "kind", "where", "since", "size_usd", "score"])
        month = pc.strftime(pc.cast(table["since"], "timestamp[s]"), format="%Y-%m")
        narrow = narrow.set_column(3, "since", month)
        show(result, narrow, format, out, "detect: triage of findings",
             "USD a year; score -log10 q")  # fmt: skip
        from transship.output import paragraph

        for r in table.to_pylist():
            text = f"{r['where']} [{r['detector']}]: {r['evidence']} [{r['link']}]"
            if r["also"]:  # the other findings on the same country or pair
                text += f"; also {r['also']}"
            typer.echo(paragraph(text, f"{r['rank']:>3}. "))
        return
    show(result, table, format, out, "detect: triage of findings", "USD a year; score -log10 q")
