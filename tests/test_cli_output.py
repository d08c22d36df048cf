"""CLI output (issue 17): tables fit 80 columns without cutting a number, --out writes the
format its suffix names, empty results say why, totals, notes, -h, --quiet, --limit."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests._engines import MAP
from tests.conftest import write
from transship.cli import app
from transship.output import _cell
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse

runner = CliRunner()
ENV = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}


def _rows() -> str:
    """Five years of monthly flows with large values (billions, cents), both sides of
    Turkey -> Kazakhstan, coalition supplies to Turkey and a control good."""
    lines = ["rep,par,flow,hs,rev,period,usd"]
    for year in range(2019, 2024):
        rev = "HS2022" if year >= 2022 else "HS2017"
        boom = 9.0 if year >= 2022 else 1.0
        for month in range(1, 13):
            p = f"{year}-{month:02d}"
            k = month / 7
            lines += [
                f"TUR,RUS,export,854231,{rev},{p},{1_234_567_890.25 * boom * k:.2f}",
                f"TUR,KAZ,export,854231,{rev},{p},{98_765_432.10 * boom * k:.2f}",
                f"TUR,KAZ,export,851762,{rev},{p},{5_555_555.55 * boom:.2f}",
                f"KAZ,TUR,import,854231,{rev},{p},{7_654_321.5 * k:.2f}",
                f"DEU,TUR,export,854231,{rev},{p},{3_333_333_333.33 * boom:.2f}",
                f"DEU,TUR,export,854290,{rev},{p},{12_345.67 * k:.2f}",
                f"TUR,ARM,export,030389,{rev},{p},{0.5 * k:.4f}",
            ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("cliout")
    path = d / "w.duckdb"
    with Warehouse(path) as wh:
        wh.ingest(csv_file(write(d / "flows.csv", _rows()), source="hand", mapping=MAP))
    return str(path)


@pytest.fixture(scope="module")
def decl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("decl")
    return write(
        d / "decl.csv",
        "id,date,origin_country,destination_country,hs_code,value\n"
        "a-0001,2024-11-05,US,RU,854231,1234567.5\nb-0002,2024-11-05,US,KZ,030389,-12\n",
    )


def invoke(db: str, *args: str, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, ["-w", db, *args], env=env or ENV)
    assert result.exit_code == 0, (args, result.output)
    return result


TABLE_COMMANDS = [
    ["flows"],
    ["flows", "--by", "partner,tier", "--period", "2023-01..2023-09", "--compare", "prior",
     "--baseline", "2019..2020"],
    ["flows", "--reporter", "TUR", "--by", "period,partner,hs", "--period", "2022"],
    ["mirror", "--reporter", "TUR", "--partner", "KAZ"],
    ["mirror", "--reporter", "TUR", "--partner", "KAZ", "--by-product", "--whole-period"],
    ["hubs", "--baseline", "2019..2021", "--hub", "TUR"],
    ["anomalies", "--baseline", "2019..2021", "--threshold", "0.5", "--min-pre-months", "6"],
    ["event-study", "--event", "invasion", "--reporter", "TUR"],
    ["headline", "--reporter", "TUR", "--partner", "russia+ft_five", "--period",
     "2023-01..2023-09", "--baseline", "2019..2020"],
    ["batches"],
    ["reference", "chpl"],
    ["reference", "countries"],
    ["reference", "groups"],
    ["reference", "events"],
    ["policies"],
    ["sources"],
    ["detect"],
    ["detect", "--list"],
    ["fetch", "comtrade", "--reporters", "TUR", "--partners", "RUS", "--products", "chpl",
     "--period", "2023-01..2023-03", "--dry-run"],
]  # fmt: skip
# Table commands checked in test_screen_and_lists_tables_at_80_columns (they need lists), or
# left out here with the reason; a new table command must be added to one of these.
LIST_COMMANDS = {"lists load", "lists list", "lists diff", "lists search", "lists evaluate",
                 "audit head", "screen", "alerts list", "alerts show", "alerts suppressions",
                 "rescreen"}  # fmt: skip
NOT_HERE = {"evaluate": "needs a SYNTHETIC warehouse with scenario labels (test_evaluate)"}


def _numbers(doc: Any, table: str, key: str = "") -> list[tuple[Any, str]]:
    """Every number of a JSON document in a column the table shows, with its column."""
    if isinstance(doc, dict):
        shown = [(k, v) for k, v in doc.items() if re.split(r"[ _]", k)[0] in table]
        return [n for k, v in shown for n in _numbers(v, table, k)]
    if isinstance(doc, list):
        return [n for v in doc for n in _numbers(v, table, key)]
    if isinstance(doc, int | float) and not isinstance(doc, bool):
        return [(doc, key)]
    return []


# The analysis commands run twice each (table and JSON): 1-3 s a case here, so the quick loop
# (-m "not slow") keeps the reference, listing and plain flows cases and the full run the rest.
ANALYSES = {"headline", "mirror", "hubs", "anomalies", "event-study"}


def _case(args: list[str]) -> Any:
    heavy = (
        args[0] in ANALYSES
        or args == ["detect"]
        or args[:2] == ["reference", "countries"]
        or (args[0] == "flows" and len(args) > 1)
    )
    return pytest.param(args, marks=pytest.mark.slow) if heavy else args


@pytest.mark.parametrize("args", [_case(a) for a in TABLE_COMMANDS], ids=lambda a: " ".join(a[:3]))
def test_tables_at_80_columns_cut_no_number(db: str, args: list[str]) -> None:
    table = invoke(db, *args).stdout
    assert table.strip(), args
    assert "…" not in table, table
    assert max(len(line) for line in table.splitlines()) <= 80, table
    doc = json.loads(invoke(db, *args, "--format", "json").stdout)
    shown = set(re.findall(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:e-?\d+)?", table))
    missing = {_cell(n, col) for n, col in _numbers(doc, table)} - shown - {""}
    assert not missing, f"numbers not shown whole: {sorted(missing)[:10]}\n{table}"


def test_every_table_command_is_checked_at_80_columns() -> None:
    from transship import clidocs

    table_commands = {
        name.removeprefix("transship ")
        for name, cmd in clidocs.commands()
        if any(p.name == "limit" for p in getattr(cmd, "params", [])) or name.endswith("lists load")
    }
    checked = {" ".join(a[:2]) if a[0] in ("fetch",) else a[0] for a in TABLE_COMMANDS}
    missing = table_commands - checked - LIST_COMMANDS - set(NOT_HERE)
    assert not missing, f"add these commands to the 80-column test: {sorted(missing)}"


@pytest.mark.slow(reason="twelve list, screen and alert commands (2-3 s)")
def test_screen_and_lists_tables_at_80_columns(db: str, decl: Path, tmp_path: Path) -> None:
    v1 = write(tmp_path / "l.csv", "id,name,country\ne1,Romashka Trading Limited Liability,RU\n")
    v2 = write(tmp_path / "l2.csv", "id,name,country\ne1,Romashka Trading LLC,RU\ne2,Acme,TR\n")
    pairs = write(
        tmp_path / "pairs.csv",
        "name1,name2,is_match\nRomashka LLC,Romashka Trading LLC,1\nAcme,Romashka,0\n",
    )
    for args in (["lists", "load", "hand", str(v1)], ["lists", "load", "hand", str(v2)],
                 ["lists", "list"], ["lists", "diff", "hand"], ["lists", "search", "Romashka"],
                 ["lists", "evaluate", str(pairs)], ["audit", "head"],
                 ["screen", str(decl), "--lists", "hand"], ["alerts", "list"],
                 ["alerts", "show", "1"], ["rescreen", "--from-version", "1"],
                 ["alerts", "suppressions"]):  # fmt: skip
        out = invoke(db, *args).stdout
        assert out.strip(), args
        assert "…" not in out and max(len(x) for x in out.splitlines()) <= 80, out


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet", ".xlsx"])
def test_out_suffix_names_the_format(db: str, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"flows{suffix}"
    invoke(db, "flows", "--by", "partner", "--out", str(out))
    doc = json.loads(invoke(db, "flows", "--by", "partner", "--format", "json").stdout)
    want = {r["partner"]: r["value_usd"] for r in doc}
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        got = {r["partner"]: float(r["value_usd"]) for r in rows}
    elif suffix == ".json":
        got = {r["partner"]: r["value_usd"] for r in json.loads(out.read_text(encoding="utf-8"))}
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        got = {r["partner"]: r["value_usd"] for r in pq.read_table(out).to_pylist()}
    else:
        import openpyxl

        ws = openpyxl.load_workbook(out).active
        assert ws is not None
        assert ws.freeze_panes == "A2"  # the header row stays in view
        header = [c.value for c in ws[1]]
        assert all(c.font.bold for c in ws[1])
        i, j = header.index("partner"), header.index("value_usd")
        cells = list(ws.iter_rows(min_row=2))
        got = {r[i].value: r[j].value for r in cells}
        assert {r[j].number_format for r in cells} == {"#,##0"}
        assert all(isinstance(r[j].value, int | float) for r in cells)  # numbers, not text
    assert set(got) == {"RUS", "KAZ", "TUR"} and want["RUS"] > 1e10
    assert got == pytest.approx(want, rel=1e-12)


def test_out_with_an_unknown_suffix_or_a_conflicting_format(db: str, tmp_path: Path) -> None:
    r = runner.invoke(app, ["-w", db, "flows", "--out", str(tmp_path / "x.txt")], env=ENV)
    assert r.exit_code == 2 and "--out" in r.output and ".xlsx" in r.output
    r = runner.invoke(
        app, ["-w", db, "flows", "--format", "csv", "--out", str(tmp_path / "x.json")], env=ENV
    )
    assert r.exit_code == 2 and "names json" in r.output
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--period", "2030-01..2030-06"], "no data in period 2030-01..2030-06: this selection "
         "has data from 2019-01 to 2023-12"),
        (["--reporter", "FRA"], "no export rows reported by FRA (reporters with export data: "
         "DEU, TUR)"),
        (["--reporter", "TUR", "--partner", "CHN"], "no export rows to partner CHN by TUR"),
        (["--flow", "re-export"], "no re-export rows (flows in the data: export, import)"),
        (["--source", "comtrade"], "no rows from source 'comtrade' (sources: hand)"),
        (["--reporter", "DEU", "--products", "8517"], "hold no code of products '8517'"),
    ],
)  # fmt: skip
def test_empty_result_says_why(db: str, args: list[str], why: str) -> None:
    out = invoke(db, "flows", *args).stdout
    assert "no matching rows" in out and why in " ".join(out.split()), out
    out = invoke(db, "flows", *args, "--format", "json").stdout
    assert json.loads(out) == []


def test_flows_total_row_sums_the_value_columns(db: str) -> None:
    doc = json.loads(invoke(db, "flows", "--by", "partner", "--format", "json").stdout)
    total = sum(r["value_usd"] for r in doc)
    out = invoke(db, "flows", "--by", "partner").stdout
    (line,) = [x for x in out.splitlines() if "total" in x]
    assert _cell(total, "value_usd") in line


def test_notes_one_line_unless_asked(db: str) -> None:
    args = ["flows", "--by", "partner", "--period", "2023-01..2023-09", "--compare", "prior",
            "--baseline", "2015..2020"]  # fmt: skip
    short = invoke(db, *args).stderr
    full = invoke(db, *args, "--notes").stderr
    n_short = len([x for x in short.splitlines() if x.startswith("note:")])
    n_full = len([x for x in full.splitlines() if x.startswith("note:")])
    assert n_short == 1 and n_full > 1, (short, full)
    assert "--notes" in short
    assert "note:" not in invoke(db, *args, "--quiet").stderr


def test_limit_quiet_and_h(db: str) -> None:
    doc = json.loads(invoke(db, "reference", "chpl", "--limit", "3", "--format", "json").stdout)
    assert len(doc) == 3
    out = invoke(db, "reference", "chpl", "-n", "2").stdout
    assert "2 of 50 rows" in " ".join(out.split())
    r = runner.invoke(app, ["flows", "-h"], env=ENV)
    assert r.exit_code == 0 and "--limit" in r.output and "--quiet" in r.output
    assert runner.invoke(app, ["-h"]).exit_code == 0
    q = invoke(db, "flows", "--by", "partner", "--quiet")
    assert "RUS" in q.stdout and q.stderr == ""


def test_demo_next_steps_fit_80_columns() -> None:
    from transship.demo import next_steps

    lines = next_steps(Path("transship-demo.duckdb"), Path("transship-demo-report.html"))
    assert max(len(x) for x in lines) <= 80
    commands = [x.strip() for x in lines if x.strip().startswith("transship")]
    assert "transship serve" in commands and "transship evaluate" in commands
    # a command split over lines ends each part with a shell continuation
    flows = lines.index(next(x for x in lines if x.strip().startswith("transship flows")))
    assert lines[flows].endswith("\\") and "--by partner,tier" in lines[flows + 1]


def test_empty_lists_and_batches_say_why(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    Warehouse(db).close()
    assert "no matching rows: no list is loaded" in invoke(str(db), "lists", "list").stdout
    out = invoke(str(db), "batches").stdout
    assert "no matching rows: nothing was ingested yet" in out
    out = invoke(str(db), "flows").stdout
    assert "the warehouse holds no trade data" in " ".join(out.split())


def test_years_and_sequence_numbers_print_without_separators() -> None:
    assert _cell(2021, "year") == "2021"
    assert _cell(12345, "seq") == "12345"
    assert _cell(2021, "first_year") == "2021"
    assert _cell(2021, "value_usd") == "2,021"  # an amount keeps its separator
    assert _cell(1234567) == "1,234,567"


def test_dollar_amounts_print_in_whole_dollars_zero_included() -> None:
    assert _cell(0.0, "pre_usd") == "0"  # not "0.00" beside "40,601,213"
    assert _cell(42.7, "gap_usd") == "43"
    assert _cell(0.004, "share") == "0.004"  # a small share keeps its digits
    assert _cell(0.0, "did") == "0.00"


@pytest.mark.slow
def test_detect_triage_fits_80_columns(small_synthetic: Path) -> None:
    """The triage table keeps `where` on a line or two and each finding's evidence wraps
    under its rank, naming its detector."""
    out = invoke(str(small_synthetic), "detect", "-n", "5").stdout  # -n: --limit, as elsewhere
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    items = [line for line in lines if re.match(r"^ {2}\d\. ", line)]
    assert [int(i.split(".")[0]) for i in items] == [1, 2, 3, 4, 5], out
    names = "hubs|blocks|surges|mirror|code_shift|code_mismatch|unit_values|misdeclared"
    assert all(re.search(rf"\[({names})\]", i) for i in items), items
    assert re.search(r"│ \d{4}-\d{2} +│", out), out  # since: the month
    assert lines[0].strip().startswith("SYNTHETIC: detect"), out  # labelled on its first line


@pytest.mark.parametrize("terminal", [True, False])
def test_long_note_wraps_at_words_on_a_terminal_and_stays_one_line_piped(
    terminal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from transship import output

    buf = io.StringIO()
    console = Console(file=buf, width=80, force_terminal=terminal, color_system=None)
    monkeypatch.setattr(output, "_console", lambda stderr=False: console)
    words = [f"detector{i}" for i in range(30)]  # 300 characters of note
    output.print_notes([" ".join(words)], synthetic=False)
    lines = buf.getvalue().splitlines()
    if terminal:
        assert len(lines) == 5 and max(len(x) for x in lines) <= 80
        assert lines[0].startswith("note: detector0 ") and lines[1].startswith("      detector")
    else:
        assert lines == ["note: " + " ".join(words)]
    assert " ".join(x.strip() for x in lines).split()[1:] == words  # no word cut
