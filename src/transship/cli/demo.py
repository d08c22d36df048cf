"""The offline demo, synthetic data with injected scenarios, and detector evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from transship.cli._app import (
    FormatOpt,
    OutFormat,
    OutOpt,
    app,
    handle_errors,
    ingest_app,
    print_notes,
    warehouse_path,
)
from transship.cli._lean import lean_ingest

SCENARIOS_HELP = "Scenario YAML file, 'default' (the FT's Turkey story and other hubs) or 'none'."


@app.command()
@handle_errors
def demo(
    ctx: typer.Context,
    seed: Annotated[
        int | None, typer.Option(help="Generator seed (default: the fixed demo seed).")
    ] = None,
    scenarios: Annotated[str, typer.Option(help=SCENARIOS_HELP)] = "default",
    fresh: Annotated[bool, typer.Option(help="Delete the demo warehouse first.")] = True,
) -> None:
    """Offline demo: build a SYNTHETIC warehouse with injected evasion and tell the story."""
    from transship.demo import run_demo

    run_demo(
        warehouse_path(ctx, Path("transship-demo.duckdb")),
        seed=seed,
        scenarios=scenarios,
        fresh=fresh,
    )


@ingest_app.command("synthetic")
@handle_errors
def ingest_synthetic(
    ctx: typer.Context,
    seed: Annotated[
        int | None, typer.Option(help="Generator seed (default: the demo seed).")
    ] = None,
    scenarios: Annotated[str, typer.Option(help=SCENARIOS_HELP)] = "default",
    period: Annotated[
        str, typer.Option(help="Months to generate, YYYY-MM..YYYY-MM (from 2012-01).")
    ] = "2015-01..2025-12",
    # --start/--end: the names before --period, kept one release (hidden)
    start: Annotated[str | None, typer.Option(hidden=True)] = None,
    end: Annotated[str | None, typer.Option(hidden=True)] = None,
    min_usd: Annotated[
        float | None,
        typer.Option(help="USD a month below which a series trades some months only (95000)."),
    ] = None,
) -> None:
    """Generate SYNTHETIC trade with labelled scenarios (ground truth in scenario_labels)."""
    lean_ingest()  # before anything imports pyarrow's users
    from rich.console import Console

    from transship.cli.data import _run_ingest
    from transship.errors import ParameterError
    from transship.sources.synthetic import MIN_USD, SEED, SyntheticTrade

    first, sep, last = period.partition("..")
    if not sep or not first or not last:
        raise ParameterError("period", f"{period!r}: expected YYYY-MM..YYYY-MM")
    src = SyntheticTrade(
        seed=SEED if seed is None else seed,
        scenarios=scenarios,
        start=start or first,
        end=end or last,
        min_usd=MIN_USD if min_usd is None else min_usd,
    )
    _run_ingest(ctx, src)
    Console(stderr=True).print(
        "[bold yellow]SYNTHETIC[/]: generated data, not real trade; "
        f"{len(src.scenarios)} scenarios labelled in scenario_labels (`transship evaluate`)."
    )


@app.command()
@handle_errors
def evaluate(
    ctx: typer.Context,
    detector: Annotated[
        list[str] | None,
        typer.Option(help="Detectors to run: mirror, hubs, anomalies (repeatable; default all)."),
    ] = None,
    format: FormatOpt = OutFormat.table,
    out: OutOpt = None,
) -> None:
    """Score the detectors against a SYNTHETIC warehouse's scenario labels.

    Precision, recall, scenarios found and median months to detect, per scenario kind.
    """
    from transship.evaluation import detectors_named, evaluate
    from transship.output import emit
    from transship.warehouse import open_warehouse

    with open_warehouse(warehouse_path(ctx), read_only=True) as wh:
        result = evaluate(wh.ibis(), detectors_named(detector))
    emit(
        result.rows,
        format.value,
        out=out,
        title="SYNTHETIC: detection quality against the injected scenarios",
        caption="SYNTHETIC DATA: scores against generated ground truth",
    )
    print_notes(result.notes, synthetic=True)
