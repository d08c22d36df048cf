"""The `transship` command: thin over the library. Each command parses options, calls one
library function, and prints. Heavy libraries are imported inside commands so `--help`
stays fast. Each area's commands live in their own module and register on `app`.

`transship.cli.app` is the whole command: every module imported (in `COMMAND_MODULES`'
order, which is the order help lists them in) and the common options added. `main()`, which
starts a `transship` process and ends with it, imports only the module of the command it
runs when the arguments name one (`MODULE_OF`; tests/test_cli.py checks it against the whole
app): ~0.1 s less start-up for `transship ingest baci FILE`. Anything else (help of the
program or of a group, a name no command has, shell completion) loads every module first,
so what it prints is the whole app's.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

    from transship.cli._app import app

# Typer and the app (cli/_app.py) are imported when first used: by `main()` once garbage
# collection is off for the start of the process (cli/_lean.py), or by `app`.

# command (`ingest baci` for one in a group) -> the module that registers it
MODULE_OF = {
    "rescreen": "alerts",
    "alerts list": "alerts",
    "alerts show": "alerts",
    "alerts clear": "alerts",
    "alerts confirm": "alerts",
    "alerts escalate": "alerts",
    "alerts suppressions": "alerts",
    "flows": "analysis",
    "mirror": "analysis",
    "headline": "analysis",
    "reference": "data",
    "batches": "data",
    "ingest csv": "data",
    "ingest baci": "data",
    "export parquet": "data",
    "demo": "demo",
    "evaluate": "demo",
    "ingest synthetic": "demo",
    "hubs": "detection",
    "anomalies": "detection",
    "event-study": "detection",
    "detect": "detection",
    "chart": "report",
    "report": "report",
    "screen": "screening",
    "policies": "screening",
    "lists load": "screening",
    "lists list": "screening",
    "lists evaluate": "screening",
    "lists search": "screening",
    "audit head": "screening",
    "audit verify": "screening",
    "serve": "serve",
    "sources": "sources",
    "ingest comext": "sources",
    "ingest turkstat": "sources",
    "fetch comtrade": "sources",
    "lists diff": "workflow",
    "audit export": "workflow",
}

# every command module, in the order help lists their commands (MODULE_OF's order)
COMMAND_MODULES = tuple(dict.fromkeys(MODULE_OF.values()))

_ROOT_VALUE_OPTIONS = ("-w", "--warehouse")  # the root's options that take a value


def command_module(args: list[str]) -> str | None:
    """The module registering the command `args` run (program arguments, without the
    program's name), or None unless they name a command and nothing but --warehouse comes
    before it."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in _ROOT_VALUE_OPTIONS:
            i += 2
        elif args[i].startswith("--warehouse="):
            i += 1
        else:
            return None  # --help, --version, completion: the whole app answers
    words = args[i : i + 2]
    if words and words[0] in MODULE_OF:
        return MODULE_OF[words[0]]
    return MODULE_OF.get(" ".join(words)) if len(words) == 2 else None


# the program's help lists commands in panels, in a user's order: get data, analyse it, find
# and publish evasion, screen declarations (a command missing here is listed under "Commands")
HELP_PANELS = {
    "Start": ("demo",),
    "Data": ("ingest", "fetch", "sources", "batches", "reference", "export"),
    "Analyse": ("flows", "mirror", "headline", "hubs", "anomalies", "event-study"),
    "Detect and publish": ("detect", "evaluate", "chart", "report"),
    "Screen and review": ("screen", "policies", "lists", "alerts", "rescreen", "audit", "serve"),
}


def _arrange_help(app: typer.Typer) -> None:
    """Panels and order for the program's command list, and one-line short help: in rich
    markup mode a command list keeps the line breaks of its docstring's first paragraph."""
    panel_of = {c: panel for panel, cmds in HELP_PANELS.items() for c in cmds}
    rank = {c: i for i, c in enumerate(panel_of)}

    def name(info: Any) -> str:
        return str(info.name or info.callback.__name__.replace("_", "-"))

    infos: list[Any] = [*app.registered_commands, *app.registered_groups]
    for info in infos:
        info.rich_help_panel = info.rich_help_panel or panel_of.get(name(info))
    groups = [g.typer_instance for g in app.registered_groups if g.typer_instance]
    for cmd in [c for a in (app, *groups) for c in a.registered_commands]:
        doc = cmd.help or (cmd.callback.__doc__ if cmd.callback else None)
        if cmd.short_help is None and doc:
            cmd.short_help = " ".join(doc.strip().split("\n\n")[0].split())

    def key(info: Any) -> int:
        return rank.get(name(info), len(rank))

    app.registered_commands.sort(key=key)
    app.registered_groups.sort(key=key)


def _register(modules: tuple[str, ...]) -> None:
    from transship.cli import _app

    for name in modules:
        importlib.import_module(f"transship.cli.{name}")
    _app.add_common_options(_app.app)  # --quiet, --notes, --limit: after the commands registered
    _arrange_help(_app.app)


_whole = False


def whole_app() -> typer.Typer:
    """The app with every command registered."""
    global _whole
    from transship.cli import _app

    if not _whole:
        _register(COMMAND_MODULES)
        _whole = True
    return _app.app


def __getattr__(name: str) -> Any:
    if name == "app":
        return whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """The `transship` program: a process that ends with the command it runs."""
    from transship.cli import _lean

    _lean.standalone = True  # (cli/_lean.py)
    _lean.starting()  # no garbage collection until the command runs (cli/_lean.py)
    from transship.cli import _app

    module = command_module(sys.argv[1:])
    completing = any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)
    try:
        if module is None or completing:
            whole_app()()
        else:
            _register((module,))
            _app.app()
    finally:
        # The interpreter's garbage collections at exit would go over every object of the
        # libraries loaded (pyarrow, DuckDB, pydantic, typer, rich: ~0.1 s of an ingest's
        # exit) to find cycles the process is about to drop anyway; frozen, they skip them.
        gc.freeze()


__all__ = ["app", "main"]
