"""Generate docs/cli.md from the commands' own --help: `python -m transship.clidocs`."""

from __future__ import annotations

from typing import Any

import typer.main
from typer.testing import CliRunner


def commands() -> list[tuple[str, Any]]:
    """Every command and group, as (`transship ingest csv`, command), depth first."""
    root = typer.main.get_command(__import__("transship.cli", fromlist=["app"]).app)
    out: list[tuple[str, Any]] = []

    def walk(name: str, cmd: Any) -> None:
        out.append((name, cmd))
        if hasattr(cmd, "commands"):  # a group
            for sub in sorted(cmd.commands):
                walk(f"{name} {sub}", cmd.commands[sub])

    walk("transship", root)
    return out


def render() -> str:
    from transship.cli import app

    runner = CliRunner()
    parts = [
        "# transship command reference",
        "",
        "Generated from `--help` by "
        "`python -m transship.clidocs > docs/cli.md`; do not edit by hand.",
        "",
    ]
    for name, _ in commands():
        args = [*name.split()[1:], "--help"]
        result = runner.invoke(
            app,
            args,
            prog_name="transship",
            env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"},
        )
        parts += [f"## `{name}`", "", "```", result.output.rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render())
