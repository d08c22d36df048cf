"""Commands for real sources: fetch comtrade, ingest comext, sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from transship.cli._app import (
    FormatOpt,
    OutFormat,
    PartnerReq,
    ReporterReq,
    app,
    handle_errors,
    ingest_app,
    print_notes,
    renamed,
    warehouse_path,
)
from transship.cli._lean import lean_ingest
from transship.cli._lean import started as lean_started

fetch_app = typer.Typer(help="Fetch trade data from official APIs into the warehouse.")
app.add_typer(fetch_app, name="fetch")


def _key() -> str | None:
    from transship.settings import get_settings

    secret = get_settings().comtrade_key
    return secret.get_secret_value() if secret is not None else None


@fetch_app.command("comtrade")
@handle_errors
@renamed(reporters="reporter", partners="partner", flows="flow")
def fetch_comtrade(
    ctx: typer.Context,
    reporter: ReporterReq,
    partner: PartnerReq,
    period: Annotated[str, typer.Option(help="Months or years, e.g. 2015-01..2024-12.")],
    products: Annotated[
        str, typer.Option(help="Product expression: chpl, chpl:tier1, 8542,851762.")
    ] = "chpl",
    freq: Annotated[str, typer.Option(help="M (monthly) or A (annual).")] = "M",
    flow: Annotated[
        str, typer.Option(help="Comma-separated: export, import, re-export, re-import.")
    ] = "export,import",
    mirror: Annotated[
        bool, typer.Option(help="Also fetch each partner's report of the same flows.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the planned requests; call nothing.")
    ] = False,
    refresh: Annotated[
        bool, typer.Option(help="Ignore cached responses and ask the API again.")
    ] = False,
    premium: Annotated[
        bool,
        typer.Option(
            help="The key is premium: 250,000 records a call (env TRANSSHIP_COMTRADE_PREMIUM)."
        ),
    ] = False,
    all_levels: Annotated[
        bool,
        typer.Option(help="Keep TOTAL, chapter and heading rows too (stored under their code)."),
    ] = False,
    format: Annotated[
        OutFormat, typer.Option("--format", "-f", help="Output format of the plan/result.")
    ] = OutFormat.table,
) -> None:
    """Fetch UN Comtrade (v1 API, final data) for reporters x partners x products x periods.

    The key (TRANSSHIP_COMTRADE_KEY or COMTRADE_PRIMARY) goes only in a request header;
    without one the public preview endpoint is used (500 records a call). Answers are cached
    (TRANSSHIP_CACHE_DIR), so an interrupted run resumes without repeating calls.
    """
    from transship.output import emit
    from transship.settings import get_settings
    from transship.sources.comtrade import (
        ResponseCache,
        Tier,
        fetch_comtrade,
        plan_comtrade,
        tier_for,
    )

    s = get_settings()
    key = _key()
    tier = tier_for(key, premium or s.comtrade_premium)
    cache_dir = s.cache_dir / "comtrade"

    def plan_for(t: Tier) -> Any:
        return plan_comtrade(
            reporters=reporter,
            partners=partner,
            products=products,
            period=period,
            freq=freq,
            flows=[f.strip() for f in flow.split(",") if f.strip()],
            mirror=mirror,
            tier=t,
        )

    plan = plan_for(tier)
    if dry_run:
        cache = ResponseCache(cache_dir)
        rows = plan.rows(cache)
        emit(rows, format.value, title=f"comtrade plan ({tier}: {plan.cap:,} records a call)")
        counts = {t: len(plan_for(t).requests) for t in ("free", "premium", "preview")}
        cached = sum(1 for r in rows if r["cached"])
        print_notes(
            [
                f"{len(rows)} requests for this {tier} run, {cached} already cached; "
                f"with a free key {counts['free']}, premium {counts['premium']}, "
                f"without a key (preview) {counts['preview']}",
                f"{len(plan.cmds)} HS6 codes asked (the product set in HS2012, HS2017, HS2022)",
            ],
            synthetic=False,
        )
        return

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from transship.output import options
    from transship.warehouse import open_warehouse

    with (
        open_warehouse(warehouse_path(ctx)) as wh,
        Progress(
            TextColumn("[bold]comtrade"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("requests ({task.fields[cached]} from cache)"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=options().quiet,
        ) as progress,
    ):
        task = progress.add_task("fetch", total=len(plan.requests), cached=0)
        hits = 0

        def on_request(done: int, total: int, from_cache: bool) -> None:
            nonlocal hits
            hits += from_cache
            progress.update(task, completed=done, total=total, cached=hits)

        result = fetch_comtrade(
            plan,
            wh,
            key=key,
            cache_dir=cache_dir,
            refresh=refresh,
            all_levels=all_levels,
            throttle_s=s.comtrade_throttle_s,
            timeout_s=s.comtrade_timeout_s,
            progress=on_request,
        )
    emit(
        [vars(g) for g in result.groups],
        format.value,
        title=f"comtrade fetch ({result.tier})",
    )
    print_notes(result.notes, synthetic=False)


@ingest_app.command("comext")
@handle_errors
def ingest_comext(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(help="Comext files: bulk .dat/.csv(.gz), relational-view CSV, xlsx."),
    ],
    flow: Annotated[
        str | None,
        typer.Option(help="export or import, for files without a flow column."),
    ] = None,
    all_levels: Annotated[
        bool,
        typer.Option(help="Keep TOTAL, chapter and heading rows too (stored under their code)."),
    ] = False,
) -> None:
    """Ingest Eurostat Comext as one batch: CN8 summed to HS6, EUR to USD (ECB monthly rates)."""
    lean_ingest()  # before anything imports pyarrow's users
    from transship.cli.data import _run_ingest
    from transship.sources.comext import comext_source

    lean_started()  # comext_source reads every file now: with garbage collection on
    src, summary = comext_source(files, flow=flow, all_levels=all_levels)
    _run_ingest(ctx, src)
    print_notes(summary.notes(), synthetic=False)


@app.command()
@handle_errors
def sources(
    ctx: typer.Context,
    format: FormatOpt = OutFormat.table,
) -> None:
    """List data sources: what each needs, what is cached, what the warehouse holds from it."""
    from transship.output import emit
    from transship.settings import get_settings
    from transship.sources.catalog import sources_status
    from transship.warehouse import open_warehouse

    s = get_settings()
    path = warehouse_path(ctx)
    if path.exists():
        with open_warehouse(path, read_only=True) as wh:
            rows = sources_status(wh, cache_dir=s.cache_dir, key_set=_key() is not None)
    else:
        rows = sources_status(None, cache_dir=s.cache_dir, key_set=_key() is not None)
    if format == OutFormat.table:  # the terminal gets the short columns
        keep = ("source", "needs", "key set", "cached", "rows", "periods", "last finished (UTC)")
        rows = [{k: r[k] for k in keep} for r in rows]
    emit(rows, format.value, title="sources", caption=f"warehouse {path}")


# -- ingest commands generated from the connector registry -----------------------------------
def _generated_command(connector: Any) -> Any:
    """`transship ingest NAME FILE [--param ...]` for a registered file connector."""
    import inspect

    def command(ctx: typer.Context, file: Path, force: bool = False, **params: Any) -> None:
        from transship.cli.data import _run_ingest

        lean_ingest()
        lean_started()  # a connector may read its input as it opens: with collection on
        _run_ingest(ctx, connector.open(file, **params), force=force)

    parameters = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        inspect.Parameter(
            "file",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[Path, typer.Argument(help=connector.file_help)],
        ),
    ]
    annotations: dict[str, Any] = {"ctx": typer.Context, "file": parameters[1].annotation}
    from transship.cli.data import ForceOpt

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters.append(inspect.Parameter("force", keyword, annotation=ForceOpt, default=False))
    annotations["force"] = ForceOpt
    for p in connector.params:
        ann = Annotated[p.type, typer.Option(help=p.help)]  # type: ignore[name-defined]
        parameters.append(
            inspect.Parameter(
                p.name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=p.default
            )
        )
        annotations[p.name] = ann
    command.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {**annotations, "return": None}
    command.__doc__ = f"Ingest {connector.what}. Capabilities: " + (
        ", ".join(sorted(connector.capabilities)) or "none"
    )
    return handle_errors(command)


def _register_generated() -> None:
    from transship.sources.registry import connectors

    built_in = {c.name for c in ingest_app.registered_commands if c.name}
    for name, connector in connectors().items():
        if connector.open_file is not None and name not in built_in:
            ingest_app.command(name)(_generated_command(connector))


_register_generated()
