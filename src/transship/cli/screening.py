"""Screening commands: screen, lists load/list, policies, audit head/verify."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from transship.cli._app import (
    FormatOpt,
    OutFormat,
    app,
    handle_errors,
    print_notes,
    warehouse_path,
)
from transship.cli._lean import lean_ingest
from transship.cli._lean import started as lean_started

lists_app = typer.Typer(help="Sanctions lists for party screening (stored in the warehouse).")
audit_app = typer.Typer(help="The hash-chained audit trail of screening decisions.")
app.add_typer(lists_app, name="lists")
app.add_typer(audit_app, name="audit")


class FailOn(StrEnum):
    FLAG = "FLAG"
    BLOCK = "BLOCK"


class ListFormatOpt(StrEnum):
    auto = "auto"
    ftm = "ftm"
    targets = "targets"
    ofac = "ofac"
    csv = "csv"


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


@app.command()
@handle_errors
def screen(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Declarations: .csv, .parquet or .json (see README schema).")
    ],
    policy: Annotated[
        str,
        typer.Option(help="Policy id (tr-customs-2024, eu-annex-xl, us-bis-chpl) or YAML file."),
    ] = "tr-customs-2024",
    lists: Annotated[
        list[str] | None,
        typer.Option(
            help="Sanctions lists to screen parties against (repeat or a,b; default: "
            "TRANSSHIP_SCREENING_LISTS, else every loaded list)."
        ),
    ] = None,
    no_lists: Annotated[
        bool,
        typer.Option(
            "--no-lists",
            help="Screen by the policy's rules alone, no party against any list (without it, "
            "screening with no list loaded is refused).",
        ),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Write the decisions to this file.")] = None,
    format: Annotated[
        OutFormat | None,
        typer.Option("--format", "-f", help="Output format (default: from --out's suffix)."),
    ] = None,
    lists_as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Screen against the list versions in force on this day (YYYY-MM-DD).",
        ),
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            help="Exit 1 when a declaration is decided at this level or above (ERROR counts "
            "as both: it could not be screened). Default: exit 0 whatever the decisions.",
        ),
    ] = None,
) -> None:
    """Screen declarations: ALLOW / FLAG / BLOCK (or ERROR) with every reason; audited."""
    lean_ingest()  # a file is read as an ingest's is, and no pandas object is given
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from transship.output import emit, options, resolve_format
    from transship.safepath import check_target
    from transship.screening import screen_file

    lean_started()  # imports done: garbage collection on again (cli/_lean.py)
    if out is not None:  # refused before anything is screened and audited
        check_target(out, parameter="out", inputs=[file])
    fmt = resolve_format(format.value if format else None, out)
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=options().quiet,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                label = "rules" if phase == "rules" else "party names"
                tasks[phase] = bar.add_task(label, total=max(total, 1))
            bar.update(tasks[phase], completed=done)

        result = screen_file(
            file,
            policy,
            None if lists is None else _split(lists),
            warehouse_path(ctx),
            no_lists=no_lists,
            progress=progress,
            lists_as_of=lists_as_of.date() if lists_as_of else None,
        )
    if out is not None or fmt != "table":
        emit(result.table, fmt, out=out, inputs=[file])
    else:
        emit(
            result.table.select(["row", "id", "decision", "rules", "hits", "error"]),
            "table",
            title=f"{file.name}: policy {result.policy}",
        )
    if out is not None or fmt == "table":
        summary = [
            {"decision": r["decision"], "declarations": r["declarations"], "share": r["share"]}
            for r in result.summary()
        ]
        emit(
            summary,
            "table",
            title="summary",
            totals=["declarations", "share"],
            caption=f"policy {result.policy}; lists {', '.join(result.lists) or 'none'}; "
            "every decision appended to the audit trail",
        )
    if not result.lists:
        print_notes(["--no-lists: parties were not screened against any list"], synthetic=False)
    elif lists_as_of is not None:
        used = ", ".join(f"{v['list']}@{v.get('version')}" for v in result.list_versions)
        print_notes([f"lists as of {lists_as_of:%Y-%m-%d}: {used}"], synthetic=False)
    if fail_on is not None:
        failing = {"FLAG": ("FLAG", "BLOCK", "ERROR"), "BLOCK": ("BLOCK", "ERROR")}[fail_on.value]
        found = sum(result.counts.get(d, 0) for d in failing)
        if found:
            Console(stderr=True).print(
                f"--fail-on {fail_on.value}: {found} declarations decided "
                + "/".join(d for d in failing if result.counts.get(d)),
                highlight=False,
            )
            raise typer.Exit(1)


@lists_app.command("load")
@handle_errors
def lists_load(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name to store the list under (e.g. ofac-sdn).")],
    files: Annotated[
        list[Path], typer.Argument(help="List files (OFAC: sdn.csv, alt.csv, add.csv).")
    ],
    format: Annotated[
        ListFormatOpt, typer.Option("--format", help="List format (default: detected).")
    ] = ListFormatOpt.auto,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="The day this version counts from (publication or retrieval date); "
            "default: the file's own date where it has one (OpenSanctions), else today.",
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Where the files came from (URL, ticket); kept.")
    ] = None,
) -> None:
    """Load a sanctions list (OpenSanctions FtM/targets.simple, OFAC SDN, generic CSV) as its
    next version; older versions are kept (`lists list`, `lists diff`)."""
    from transship.output import emit
    from transship.screening import load_lists

    r = load_lists(
        warehouse_path(ctx),
        name,
        files,
        format.value,
        as_of=as_of.date() if as_of else None,
        source=source,
    )
    emit(
        [
            {
                "list": r.name,
                "version": r.version,
                "format": r.format,
                "entities": r.entities,
                "names": r.names,
            }
        ],
        "table",
        title="list loaded",
    )
    print_notes(r.notes, synthetic=False)


@lists_app.command("list")
@handle_errors
def lists_list(
    ctx: typer.Context,
    format: FormatOpt = OutFormat.table,
) -> None:
    """Show every version of the loaded sanctions lists: dates, sources, checksums, counts."""
    from transship.output import emit
    from transship.screening import list_versions

    rows: list[dict[str, Any]] = [
        {
            "list": v.list,
            "version": v.version,
            "current": v.current,
            "effective": v.effective,
            "dated_by": "as-of" if v.as_of else "file" if v.published else "load",
            "published": v.published,
            "as_of": v.as_of,
            "format": v.format,
            "entities": v.entities,
            "names": v.names,
            "loaded_at": v.loaded_at,
            "source": v.source,
            "sha256": v.input_sha256,
        }
        for v in list_versions(warehouse_path(ctx))
    ]
    if format.value == "table":  # the columns that fit a terminal; csv/json have them all
        keep = ("list", "version", "current", "effective", "dated_by", "entities", "sha256")
        rows = [
            {k: (str(r[k])[:12] if k == "sha256" else r[k]) for k in keep}
            | {"current": "yes" if r["current"] else ""}
            for r in rows
        ]
    emit(
        rows,
        format.value,
        title="sanctions lists (every version)",
        empty="no list is loaded (transship lists load NAME FILE)",
    )


@app.command()
@handle_errors
def policies(
    format: FormatOpt = OutFormat.table,
) -> None:
    """List the screening policies and their rules (with legal sources)."""
    from transship.output import emit
    from transship.screening import all_policies

    rows = [
        {
            "policy": p.id,
            "rule": r.id,
            "action": r.action,
            "precedence": r.spec.precedence,
            "valid_from": r.spec.valid_from,
            "valid_to": r.spec.valid_to,
            "products": r.products_label,
            "description": r.spec.description,
        }
        for p in all_policies()
        for r in p.rules
    ]
    emit(rows, format.value, title="screening policies")


@audit_app.command("head")
@handle_errors
def audit_head(ctx: typer.Context, format: FormatOpt = OutFormat.table) -> None:
    """Print the audit head (last seq and hash): copy it outside the warehouse (a ticket, a
    signed log) and check it later with `audit verify --expect-head HASH`."""
    import json

    from rich.console import Console

    from transship.screening import audit_head as head

    seq, hash_ = head(warehouse_path(ctx))
    if format.value == "json":
        typer.echo(json.dumps({"seq": seq, "hash": hash_}))
    else:
        Console().print(f"audit head: seq {seq} hash {hash_}", highlight=False)


@audit_app.command("verify")
@handle_errors
def audit_verify(
    ctx: typer.Context,
    expect_head: Annotated[
        str | None,
        typer.Option(
            help="A head hash printed earlier by `audit head`: fail unless the chain still "
            "reaches it (catches a deleted tail with a rewritten head)."
        ),
    ] = None,
) -> None:
    """Recompute the audit hash chain; exit 1 if any record was edited, inserted or deleted,
    the audit tables were dropped, or the chain no longer reaches --expect-head."""
    from rich.console import Console

    from transship.screening import verify_audit

    v = verify_audit(warehouse_path(ctx), expect_head=expect_head.strip() if expect_head else None)
    console = Console()
    if v.ok:
        console.print(
            f"audit trail intact: {v.records:,} records, head seq {v.head_seq}, hash {v.head_hash}"
            + ("; it reaches the expected head" if expect_head else ""),
            highlight=False,
        )
        return
    err = Console(stderr=True)
    err.print(f"[bold red]audit trail broken[/] ({v.records:,} records):", highlight=False)
    for p in v.problems:
        err.print(f"  {p}", highlight=False)
    raise typer.Exit(1)


@lists_app.command("evaluate")
@handle_errors
def lists_evaluate(
    ctx: typer.Context,
    pairs: Annotated[
        Path,
        typer.Argument(help="Labelled pairs CSV: name1,name2,is_match[,schema,country1,country2]."),
    ],
    lists: Annotated[
        list[str] | None,
        typer.Option(help="Lists whose name-part rarity weighs the parts (default: all loaded)."),
    ] = None,
    format: FormatOpt = OutFormat.table,
) -> None:
    """Precision, recall and F1 of the matcher on labelled pairs, at FLAG, BLOCK and best."""
    import json

    from transship.output import emit
    from transship.screening import evaluate_pairs_file

    r = evaluate_pairs_file(pairs, warehouse_path(ctx), _split(lists))
    if format.value == "json":
        typer.echo(json.dumps(r, indent=1))
        return
    rows = [{"at": k, **r[k]} for k in ("flag", "block", "best")]
    emit(rows, format.value, title=f"{pairs.name}: {r['pairs']:,} pairs, "
         f"{r['pairs_per_second']:,} pairs/s")  # fmt: skip


@lists_app.command("search")
@handle_errors
def lists_search(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A party name, in any script.")],
    country: Annotated[
        str | None, typer.Option(help="The party's country (ISO code or name).")
    ] = None,
    lists: Annotated[
        list[str] | None, typer.Option(help="Lists to search (default: all loaded).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Most entries shown.")] = 10,
    format: FormatOpt = OutFormat.table,
) -> None:
    """Look a name up in the loaded lists: best entries with scores and the features behind them."""
    from transship.output import emit
    from transship.screening import search_name

    hits = search_name(name, warehouse_path(ctx), _split(lists), country=country, limit=limit)
    rows = [
        {"level": h.level, "score": h.score, "list": h.list, "entity_id": h.entity_id,
         "caption": h.caption, "matched": h.alias,
         "features": h.explain()}
        for h in hits
    ]  # fmt: skip
    emit(rows, format.value, title=f"search {name!r}")
    if not rows:
        print_notes(["no list entry resembles this name"], synthetic=False)
