"""Charts and the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from transship.cli._app import BaselineOpt as Baseline
from transship.cli._app import ProductsOpt as Products
from transship.cli._app import TargetOpt as Target
from transship.cli._app import app, handle_errors, print_notes, warehouse_path
from transship.output import message, options

Hub = Annotated[str, typer.Option(help="The hub country: TUR, ARE, KAZ ...")]
Period = Annotated[str, typer.Option(help="Up to 12 months: 2023-01..2023-09.")]


@app.command()
@handle_errors
def chart(
    ctx: typer.Context,
    kind: Annotated[
        str, typer.Argument(help="monthly, compare, mirror, tiers, products or hubs (ranking).")
    ],
    out: Annotated[Path, typer.Option(help="Output file: .png, .svg, .pdf, .json or .html.")],
    hub: Hub = "TUR",
    target: Target = "russia+ft_five",
    period: Period = "2023-01..2023-09",
    products: Products = "chpl",
    baseline: Baseline = "2015..2021",
) -> None:
    """One chart as a static image (Vega-Lite via vl-convert): a hub's exports, or the
    ranking of candidate hubs."""
    from transship.report.charts import make_chart, save_chart
    from transship.safepath import check_target
    from transship.warehouse import open_warehouse

    check_target(out, parameter="out")  # before the work, not after
    with open_warehouse(warehouse_path(ctx), read_only=True) as wh:
        c = make_chart(
            wh.ibis(),
            kind,
            hub=hub,
            target=target,
            period=period,
            products=products,
            baseline=baseline,
        )
    save_chart(c, out)
    message(f"wrote {out}")


@app.command()
@handle_errors
def report(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    hub: Hub = "TUR",
    target: Target = "russia+ft_five",
    period: Period = "2023-01..2023-09",
    products: Products = "chpl",
    baseline: Baseline = "2015..2021",
    pdf: Annotated[
        bool, typer.Option(help="Also print it to PDF (same name, .pdf) with headless Chromium.")
    ] = False,
    detect: Annotated[
        bool, typer.Option(help="Add the `transship detect` findings that concern the hub.")
    ] = False,
) -> None:
    """A self-contained HTML report on a hub: findings, charts, tables, provenance, methods."""
    from rich.console import Console

    from transship.report import build_report
    from transship.warehouse import open_warehouse

    with open_warehouse(warehouse_path(ctx), read_only=True) as wh:
        r = build_report(
            wh.ibis(),
            hub=hub,
            target=target,
            period=period,
            out=out,
            products=products,
            baseline=baseline,
            pdf=pdf,
            detect=detect,
        )
    console = Console()
    if not options().quiet:
        for h in r.headlines:
            console.print(f"- {h}", highlight=False, soft_wrap=True)
    message(f"wrote {r.out}" + (f" and {r.pdf}" if r.pdf else "") + f" in {r.seconds:.1f}s")
    print_notes([], synthetic=r.story.synthetic)
