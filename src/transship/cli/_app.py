"""The Typer app, shared options and error handling; command modules register on `app`."""

from __future__ import annotations

import functools
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


# Options most commands share, declared once so their help reads the same everywhere.
FormatOpt = Annotated[OutFormat, typer.Option("--format", "-f", help="Output format.")]
OutOpt = Annotated[Path | None, typer.Option(help="Write to this file.")]


class Concordance(StrEnum):
    strict = "strict"
    upper_bounds = "upper"  # not `upper`: that name is str.upper
    reported = "reported"


ConcordanceOpt = Annotated[
    Concordance,
    typer.Option(
        help="HS concordance: strict (UN correlations), upper (n:n codes too, as upper "
        "bounds) or reported (codes as reported)."
    ),
]
NotesOpt = Annotated[
    bool, typer.Option("--notes", help="Print every note (concordance notes in full).")
]


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


def warehouse_path(ctx: typer.Context, default: Path | None = None) -> Path:
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


def print_notes(notes: list[str], *, synthetic: bool, full: bool = False) -> None:
    """Notes on stderr; the concordance notes as one summary line unless `full` (--notes)."""
    from rich.console import Console

    from transship.analysis._select import summarize_notes

    notes = summarize_notes(notes, full=full)
    err = Console(stderr=True)
    if synthetic:
        err.print(
            "[bold yellow]SYNTHETIC[/]: these figures come from generated data, not real trade."
        )
    for note in notes:
        err.print(f"[dim]note: {note}[/]", highlight=False)
