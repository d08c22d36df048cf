"""CLI: every command has help, docs/cli.md is current, --help is fast, commands work end to end."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from tests.conftest import REPO, DemoRun, write
from transship import cli, clidocs
from transship.cli import app

runner = CliRunner()


@pytest.mark.parametrize("name", [name for name, _ in clidocs.commands()])
def test_every_command_has_help(name: str) -> None:
    cmd = dict(clidocs.commands())[name]
    assert cmd.help and len(cmd.help.strip()) > 10, f"{name} has no help text"
    result = runner.invoke(app, [*name.split()[1:], "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


@pytest.mark.slow(reason="renders every command's help (2.7 s)")
def test_docs_are_generated_from_help() -> None:
    docs = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert docs.strip() == clidocs.render().strip(), (
        "docs/cli.md is stale: python -m transship.clidocs > docs/cli.md"
    )


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, time; t = time.perf_counter()\n"
        "from transship.cli import app\n"
        "heavy = [m for m in ('duckdb', 'pyarrow', 'ibis', 'pandas') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ingest_flows_export_end_to_end(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    f = write(
        tmp_path / "exports.csv",
        "rep,par,hs,month,usd\n"
        "TUR,RUS,854231,2023-01,100\nTUR,KAZ,854231,2023-02,50\nTUR,KAZ,851762,2023-03,7\n"
        "TUR,KAZ,030389,2023-03,1000\nTUR,KAZ,854231,2022-01,10\n",
    )
    result = runner.invoke(
        app,
        [
            "-w",
            db,
            "ingest",
            "csv",
            str(f),
            "--source",
            "test",
            "--set",
            "flow=export",
            "--map",
            "rep=reporter",
            "--map",
            "par=partner",
            "--map",
            "hs=hs",
            "--map",
            "month=period",
            "--map",
            "usd=value_usd",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "5" in result.output
    result = runner.invoke(
        app,
        [
            "-w",
            db,
            "flows",
            "--reporter",
            "TUR",
            "--partner",
            "russia+ft_five",
            "--products",
            "chpl:tier1,tier2",
            "--period",
            "2023-01..2023-09",
            "--by",
            "partner,tier",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    got = {(r["partner"], r["tier"]): r["value_usd"] for r in json.loads(result.stdout)}
    # 030389 (fish) is not CHPL and 2022 is outside the period
    assert got == {("RUS", "1"): 100.0, ("KAZ", "1"): 50.0, ("KAZ", "2"): 7.0}
    out = tmp_path / "pq"
    result = runner.invoke(app, ["-w", db, "export", "parquet", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "source=test" / "year=2023").is_dir()
    result = runner.invoke(app, ["-w", db, "batches", "--format", "json"])
    assert json.loads(result.stdout)[0]["status"] == "ok"


def test_bad_input_is_one_line_with_exit_code_2(tmp_path: Path) -> None:
    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", "t,i,j,k,v,q\n2022,251,643,854231,-1,1\n")
    result = runner.invoke(app, ["-w", str(tmp_path / "w.duckdb"), "ingest", "baci", str(f)])
    assert result.exit_code == 2
    assert "BACI_HS22_Y2022_V1.csv:2" in result.output and "negative value" in result.output
    assert "Traceback" not in result.output


def test_missing_warehouse_is_explained(tmp_path: Path) -> None:
    result = runner.invoke(app, ["-w", str(tmp_path / "none.duckdb"), "flows"])
    assert result.exit_code == 3
    assert "transship demo" in result.output


@pytest.mark.parametrize(
    "kind", ["chpl", pytest.param("countries", marks=pytest.mark.slow), "groups", "events"]
)  # countries: every country in four formats (1.7 s)
def test_reference_formats(kind: str) -> None:
    result = runner.invoke(app, ["reference", kind, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows
    result = runner.invoke(app, ["reference", kind, "--format", "csv"])
    assert result.exit_code == 0 and result.stdout.count("\n") == len(rows) + 1
    result = runner.invoke(app, ["reference", kind])
    assert result.exit_code == 0


def test_demo_runs_offline_and_says_synthetic(demo_run: DemoRun) -> None:
    assert demo_run.exit_code == 0, demo_run.output
    assert demo_run.output.count("SYNTHETIC") >= 4
    assert "Dec 2022" in demo_run.output  # the sample's peak, as in the FT's real series


def test_bad_country_expression_is_one_line(demo_run: DemoRun) -> None:
    result = runner.invoke(app, ["-w", str(demo_run.path), "flows", "--reporter", "TUK"])
    assert result.exit_code == 2
    assert "TUK" in result.output and "Traceback" not in result.output


def test_module_of_names_the_module_registering_each_command() -> None:
    registered: dict[str, str] = {}

    def walk(typer_app: typer.Typer, prefix: str) -> None:
        for info in typer_app.registered_commands:
            assert info.callback is not None
            name = info.name or typer.main.get_command_name(info.callback.__name__)
            registered[f"{prefix}{name}"] = info.callback.__module__.rsplit(".", 1)[1]
        for group in typer_app.registered_groups:
            assert group.typer_instance is not None
            walk(group.typer_instance, f"{prefix}{group.name} ")

    walk(app, "")
    assert registered == cli.MODULE_OF


def test_program_help_lists_every_command_in_its_panel_on_whole_lines() -> None:
    top = {c.name or c.callback.__name__ for c in app.registered_commands}
    top |= {g.name for g in app.registered_groups}
    paneled = [c for cmds in cli.HELP_PANELS.values() for c in cmds]
    assert sorted(paneled) == sorted(top)  # every command in one panel, no stale name
    out = runner.invoke(app, ["--help"], terminal_width=80).output
    starts = [out.index(f"─ {panel} ") for panel in cli.HELP_PANELS]
    assert starts == sorted(starts) and "─ Commands " not in out
    # the list wraps a command's help at the terminal, not at its docstring's line breaks
    assert any("lists' new versions; every new hit" in line for line in out.splitlines())


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["-w", "w.duckdb", "ingest", "baci", "f.csv"], "data"),
        (["--warehouse=w.duckdb", "lists", "diff", "--help"], "workflow"),
        (["rescreen", "-w", "w.duckdb"], "alerts"),
        (["--help"], None),
        (["--version", "flows"], None),
        (["ingest"], None),
        (["ingest", "--help", "baci"], None),
        (["flow"], None),
        ([], None),
    ],
)
def test_command_module_only_for_a_named_command(args: list[str], module: str | None) -> None:
    assert cli.command_module(args) == module


@pytest.mark.parametrize("args", [["ingest", "baci", "--help"], ["lists", "diff", "--help"]])
def test_main_loads_only_the_command_it_runs_and_says_the_same(args: list[str]) -> None:
    env = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    code = (
        "import sys\nfrom transship.cli import main\nsys.argv = ['transship', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('transship.cli.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    help_text, _, loaded = out.stdout.rstrip().rpartition("\n")
    assert "transship.cli.alerts" not in loaded and "transship.cli.analysis" not in loaded
    whole = runner.invoke(app, args, prog_name="transship", env=env)
    assert help_text.rstrip() == whole.output.rstrip()


def test_main_ends_with_the_commands_exit_code_files_and_warehouse(tmp_path: Path) -> None:
    """`main()` freezes the garbage collector as the process ends: what the command wrote
    (its output, a reject file, the warehouse) is complete and its exit code kept."""
    from transship.warehouse import Warehouse

    f = write(
        tmp_path / "BACI_HS17_Y2020_V202401.csv",
        "t,i,j,k,v,q\n2020,4,8,10121,1.5,NA\n2020,999,8,10121,1,1\n",
    )
    db, rejects = tmp_path / "w.duckdb", tmp_path / "rejects.csv"

    def transship(*args: str) -> subprocess.CompletedProcess[str]:
        code = "from transship.cli import main; main()"
        return subprocess.run(
            [sys.executable, "-c", code, "-w", str(db), *args], capture_output=True, text=True
        )

    ok = transship("ingest", "baci", str(f), "--reject-file", str(rejects))
    assert ok.returncode == 0, ok.stderr
    assert f"sha256 {hashlib.sha256(f.read_bytes()).hexdigest()}" in ok.stdout  # its last line
    rejected = rejects.read_text(encoding="utf-8").splitlines()
    assert rejected[1].startswith("3,i,unknown country code (baci codes),999,")
    with Warehouse(db, read_only=True) as wh:
        assert wh.count() == 1
    bad = transship("ingest", "baci", str(tmp_path / "missing.csv"))
    assert bad.returncode == 2
    assert "error: cannot tell the HS revision from the file name 'missing.csv'" in bad.stderr
