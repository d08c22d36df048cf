"""The Typer app, shared options and error handling; command modules register on `app`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import typer.core

from transship import __version__
from transship.cli import _lean
from transship.errors import TransshipError

app = typer.Typer(
    help="Find sanctions-relevant dual-use goods reaching Russia through third countries.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},  # inherited by every command
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
    xlsx = "xlsx"


# Options most commands share, declared once so their help reads the same everywhere.
FormatOpt = Annotated[
    OutFormat,
    typer.Option(
        "--format",
        "-f",
        metavar="<format>",
        help="table, csv, json, parquet or xlsx (with --out: the one its suffix names).",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(help="Write to this file: .csv, .json, .parquet or .xlsx (by its suffix)."),
]


class Concordance(StrEnum):
    strict = "strict"
    upper_bounds = "upper"  # not `upper`: that name is str.upper
    reported = "reported"


ConcordanceOpt = Annotated[
    Concordance,
    typer.Option(
        metavar="<mode>",
        help="HS concordance: strict (UN correlations), upper (n:n codes too, as upper "
        "bounds) or reported (codes as reported).",
    ),
]
NotesOpt = Annotated[
    bool, typer.Option("--notes", help="Show every note (default: a one-line summary).")
]


# The trade vocabulary, declared once (see `renamed` below for the old names).
_COUNTRIES = "Countries (expression): TUR, russia+ft_five, g7-JPN."
ReporterOpt = Annotated[str | None, typer.Option(help="Reporting " + _COUNTRIES.lower())]
PartnerOpt = Annotated[str | None, typer.Option(help="Partner " + _COUNTRIES.lower())]
ReporterReq = Annotated[str, typer.Option(help="Reporting " + _COUNTRIES.lower())]
PartnerReq = Annotated[str, typer.Option(help="Partner " + _COUNTRIES.lower())]
ProductsOpt = Annotated[
    str, typer.Option(help="chpl, chpl:tier1,tier2, or HS codes/prefixes: 8542,851762.")
]
FlowOpt = Annotated[str, typer.Option(help="export, import, re-export or re-import.")]
SourceOpt = Annotated[str | None, typer.Option(help="Only rows from this source.")]
BaselineOpt = Annotated[
    str, typer.Option(help="Reference years, e.g. 2015..2021 (mean of the same months).")
]
HubOpt = Annotated[str, typer.Option(help="Hub countries (expression): TUR, hubs.")]
TargetOpt = Annotated[
    str, typer.Option(help="Where the goods end up (expression): russia, russia+ft_five.")
]
NeighboursOpt = Annotated[
    str, typer.Option(help="The target's neighbours (exports to them count too).")
]
CoalitionOpt = Annotated[str, typer.Option(help="Where the goods come from.")]


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
        try:
            return fn(*args, **kwargs)
        except TransshipError as e:
            from rich.console import Console
            from rich.markup import escape

            text = e.render(flag_name)  # library parameters spelt as this command's flags
            Console(stderr=True).print(
                f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(e.exit_code) from None

    return wrapper  # type: ignore[return-value]


_WAREHOUSE_META = "transship.warehouse"  # a command's own --warehouse (click shares meta)
WAREHOUSE_HELP = "Warehouse file (env TRANSSHIP_WAREHOUSE; default ./transship.duckdb)."


def warehouse_path(ctx: typer.Context, default: Path | None = None) -> Path:
    """--warehouse if given, else `default`, else TRANSSHIP_WAREHOUSE / ./transship.duckdb."""
    from transship.settings import get_settings

    given = ctx.meta.get(_WAREHOUSE_META) or ctx.find_root().params.get("warehouse")
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
            help=WAREHOUSE_HELP,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Find sanctions-relevant dual-use goods reaching Russia through third countries."""
    from transship.safepath import protect_warehouse

    if warehouse is not None:  # no output of this command may write over it (or its .wal)
        protect_warehouse(warehouse)


# -- one option vocabulary ---------------------------------------------------------------
# Trade rows: --reporter/--partner/--flow/--period; the reference period is --baseline, the
# period scored --post; commands about transit hubs: --hub/--target. Names that differed
# before (mirror --exporters/--importers, hubs --hubs, anomalies --pre, fetch comtrade
# --reporters/--partners/--flows) stay one release as hidden aliases: `renamed` records them
# on the command, `VocabularyCommand` rewrites them to the new name before click parses, so
# they work but no help lists them.
def renamed(**old_to_param: str) -> Callable[[F], F]:
    """Keep old option names (keyword: old name with _ for -) as hidden aliases of the
    command's parameter named by the value; the old name is also how the library calls
    that parameter, so a library error about {old} names the new flag."""

    def mark(fn: F) -> F:
        fn._transship_renamed = dict(old_to_param)  # type: ignore[attr-defined]
        return fn

    return mark


def _renamed_of(command: Any) -> dict[str, str]:
    return dict(getattr(getattr(command, "callback", None), "_transship_renamed", {}))


class VocabularyCommand(typer.core.TyperCommand):
    """A command that accepts the old names `renamed` records (and says they changed)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        aliases = {
            "--" + old.replace("_", "-"): self._long(new) for old, new in _renamed_of(self).items()
        }
        if aliases:
            args = self._rewrite(args, aliases)
        return super().parse_args(ctx, args)

    def _long(self, name: str) -> str:
        for p in self.params:
            if p.name == name and isinstance(p, typer.core.TyperOption):
                return max(p.opts, key=len)
        raise LookupError(f"renamed alias points at no option {name!r}")  # a coding error

    @staticmethod
    def _rewrite(args: list[str], aliases: dict[str, str]) -> list[str]:
        out: list[str] = []
        used: list[str] = []
        for i, a in enumerate(args):
            if a == "--":
                out += args[i:]
                break
            old, eq, value = a.partition("=")
            if old in aliases:
                used.append(f"{old} is now {aliases[old]}")
                a = aliases[old] + eq + value
            out.append(a)
        if used and not {"-q", "--quiet"} & set(out):
            typer.echo(
                "note: " + "; ".join(used) + " (the old name goes in the next release)", err=True
            )
        return out


def flag_name(parameter: str) -> str:
    """How the running command spells a library parameter: reject_file -> --reject-file,
    an argument `directory` -> DIRECTORY, a renamed one (exporters) -> its new flag."""
    import click

    ctx = click.get_current_context(silent=True)
    parameter = _renamed_of(ctx.command).get(parameter, parameter) if ctx else parameter
    for p in ctx.command.params if ctx else ():
        if p.name == parameter:
            if isinstance(p, click.Option):
                return max(p.opts, key=len)
            return parameter.upper()
    return "--" + parameter.replace("_", "-")


def print_notes(notes: list[str], *, synthetic: bool, full: bool = False) -> None:
    """SYNTHETIC label and notes: the concordance notes folded, then everything in one line
    unless `full` or --notes; no notes with --quiet."""
    from transship.output import options
    from transship.output import print_notes as show

    full = full or options().notes
    if notes:  # the analysis package is imported (10-20 ms) only to fold notes
        from transship.analysis._select import summarize_notes

        notes = summarize_notes(notes, full=full)
    show(list(notes), synthetic=synthetic, full=full)


# -- options every command inherits ---------------------------------------------------------
# Added to each command's signature once all commands are registered (`add_common_options`),
# so a new command gets them without declaring them: --quiet everywhere; --notes and --limit
# on every command that writes a table (has a --format option) unless it declares its own.
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="Only the results: no progress, notes or messages (errors show)."
    ),
]
# the root's --warehouse again after the command's name (`transship detect -w FILE`)
WarehouseOpt = Annotated[Path | None, typer.Option("--warehouse", "-w", help=WAREHOUSE_HELP)]
LimitOpt = Annotated[
    int | None,
    typer.Option("--limit", "-n", metavar="<n>", help="Show or write at most N rows.", min=0),
]


def _is_out_format(annotation: Any) -> bool:
    """True for `OutFormat`, `OutFormat | None` and their Annotated forms (a table writer)."""
    import typing

    if annotation is OutFormat:
        return True
    return any(_is_out_format(a) for a in typing.get_args(annotation))


def _with_common_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    import inspect

    if getattr(fn, "_transship_common", False):
        return fn
    sig = inspect.signature(fn, eval_str=True)
    names = set(sig.parameters)
    extra: dict[str, tuple[Any, Any]] = {"quiet": (QuietOpt, False)}
    ctx_name = next((p.name for p in sig.parameters.values() if p.annotation is typer.Context), "")
    if ctx_name:
        extra["warehouse"] = (WarehouseOpt, None)  # commands that find the warehouse by ctx
    if "format" in names and _is_out_format(sig.parameters["format"].annotation):
        extra |= {"notes": (NotesOpt, False), "limit": (LimitOpt, None)}
    extra = {k: v for k, v in extra.items() if k not in names}

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from transship.output import OutputOptions, using

        _lean.started()  # the command runs: garbage collection on again (cli/_lean.py)

        given = {k: kwargs.pop(k) for k in extra}
        if given.get("warehouse") is not None:
            from transship.safepath import protect_warehouse

            protect_warehouse(given["warehouse"])  # as the root's --warehouse does
            kwargs[ctx_name].meta[_WAREHOUSE_META] = given["warehouse"]
        opts = OutputOptions(
            quiet=bool(given.get("quiet", kwargs.get("quiet", False))),
            notes=bool(given.get("notes", kwargs.get("notes", False))),
            limit=given.get("limit"),
        )
        with using(opts):
            return fn(*args, **kwargs)

    params = list(sig.parameters.values())
    params += [
        inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a)
        for k, (a, d) in extra.items()
    ]
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **{p.name: p.annotation for p in sig.parameters.values()},
        **{k: a for k, (a, _) in extra.items()},
    }
    wrapper._transship_common = True  # type: ignore[attr-defined]
    return wrapper


def add_common_options(typer_app: typer.Typer) -> None:
    """Give every command of `typer_app` (and its sub-apps) the common options."""
    for info in typer_app.registered_commands:
        if info.callback is not None:
            info.callback = _with_common_options(info.callback)
            if info.cls in (None, typer.core.TyperCommand) and _renamed_of(info):
                info.cls = VocabularyCommand
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            add_common_options(group.typer_instance)
