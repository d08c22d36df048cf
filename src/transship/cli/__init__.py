"""The `transship` command: thin over the library. Each command parses options, calls one
library function, and prints. Heavy libraries are imported inside commands so `--help`
stays fast. Each area's commands live in their own module and register on `app`."""

from transship.cli import (  # noqa: F401  (registers the commands)
    _lean,
    alerts,
    analysis,
    data,
    demo,
    detection,
    report,
    screening,
    serve,
    sources,
    workflow,
)
from transship.cli._app import add_common_options, app

add_common_options(app)  # --quiet, --notes, --limit: after every command has registered


def main() -> None:
    _lean.standalone = True  # the process ends with the command (cli/_lean.py)
    app()


__all__ = ["app", "main"]
