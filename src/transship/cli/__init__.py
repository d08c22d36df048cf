"""The `transship` command: thin over the library. Each command parses options, calls one
library function, and prints. Heavy libraries are imported inside commands so `--help`
stays fast. Each area's commands live in their own module and register on `app`.

`transship.cli.app` is the whole app: every command module registered. `main()` (the
`transship` script) registers only the modules that define the command it was asked for
(COMMANDS), when the first word after the root's options names one: a process runs one
command, and the others' modules and their click commands cost it ~20 ms. Anything else
(no command, --help, a mistyped name, shell completion) gets the whole app.
"""

from __future__ import annotations

import importlib
import sys

import typer

from transship.cli import _lean
from transship.cli._app import add_common_options
from transship.cli._app import app as _app

# The command modules, in the order they register (the order help lists commands in).
MODULES = (
    "alerts",
    "analysis",
    "data",
    "demo",
    "detection",
    "report",
    "screening",
    "serve",
    "sources",
    "workflow",
)
# Each top-level command or group -> the modules that register it or commands in it
# (tests/test_cli.py checks this against the whole app).
COMMANDS: dict[str, tuple[str, ...]] = {
    "alerts": ("alerts",),
    "rescreen": ("alerts",),
    "flows": ("analysis",),
    "mirror": ("analysis",),
    "headline": ("analysis",),
    "reference": ("data",),
    "batches": ("data",),
    "export": ("data",),
    "ingest": ("data", "demo", "sources"),
    "demo": ("demo",),
    "evaluate": ("demo",),
    "hubs": ("detection",),
    "anomalies": ("detection",),
    "event-study": ("detection",),
    "detect": ("detection",),
    "chart": ("report",),
    "report": ("report",),
    "screen": ("screening",),
    "policies": ("screening",),
    "lists": ("screening", "workflow"),
    "audit": ("screening", "workflow"),
    "serve": ("serve",),
    "sources": ("sources",),
    "fetch": ("sources",),
}
_ROOT_VALUED = {"-w", "--warehouse"}  # the root's options that take a value


def _register(modules: tuple[str, ...]) -> typer.Typer:
    for name in modules:
        importlib.import_module(f"transship.cli.{name}")
    add_common_options(_app)  # --quiet, --notes, --limit: after the commands have registered
    return _app


def command_modules(args: list[str]) -> tuple[str, ...]:
    """The modules `transship ARGS` needs: those of the command named first after the
    root's options, or all of them."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in ("-h", "--help", "--version", "--"):
            return MODULES
        i += 2 if args[i] in _ROOT_VALUED else 1
    return COMMANDS.get(args[i], MODULES) if i < len(args) else MODULES


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return _register(MODULES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    _lean.standalone = True  # the process ends with the command (cli/_lean.py)
    _register(command_modules(sys.argv[1:]))()


__all__ = ["app", "main"]
