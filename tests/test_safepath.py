"""Data safety: no output path may overwrite the warehouse, its WAL or an input; every write
is atomic (a failure mid-write leaves the old file as it was)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import copy_warehouse, write
from transship import safepath
from transship.cli import app
from transship.safepath import UnsafeOutputError, check_target
from transship.warehouse import Warehouse

runner = CliRunner()

ROWS = (
    "rep,par,hs,month,usd\n"
    "TUR,RUS,854231,2023-01,100\nTUR,KAZ,854231,2023-02,abc\nTUR,KAZ,851762,2023-03,7\n"
)
INGEST = [
    "--source",
    "t",
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
]
DECLS = (
    "id,date,origin_country,destination_country,hs_code,exporter_name\n"
    'a,2024-11-05,US,RU,854231,=HYPERLINK("http://x")\n'
    "b,2024-11-05,US,KZ,030389,Acme\n"
)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ROWS ingested by the CLI once; each test gets its own copy (`db`)."""
    tmp_path = tmp_path_factory.mktemp("safepath")
    path = tmp_path / "w.duckdb"
    f = write(tmp_path / "first.csv", ROWS)
    result = runner.invoke(
        app,
        [
            "-w",
            str(path),
            "ingest",
            "csv",
            str(f),
            *INGEST,
            "--reject-file",
            str(tmp_path / "r.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def db(ingested: Path, tmp_path: Path) -> Path:
    return copy_warehouse(ingested, tmp_path / "w.duckdb")


def rows_in(path: Path) -> int:
    with Warehouse(path, read_only=True) as wh:
        return wh.count()


def _snapshot(path: Path) -> tuple[int, bytes]:
    return path.stat().st_size, path.read_bytes()[:4096]


@pytest.mark.parametrize(
    "target", ["w.duckdb", "w.duckdb.wal", "link.duckdb", "hard.db", "sub/../w.duckdb"]
)
def test_reject_file_never_overwrites_the_warehouse(db: Path, tmp_path: Path, target: str) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.duckdb").symlink_to(db)
    os.link(db, tmp_path / "hard.db")
    before = _snapshot(db)
    f = write(tmp_path / "e.csv", ROWS)
    result = runner.invoke(
        app,
        ["-w", str(db), "ingest", "csv", str(f), *INGEST, "--reject-file", str(tmp_path / target)],
    )
    assert result.exit_code == 2, result.output
    assert "--reject-file" in result.output and "refusing to write" in result.output
    assert "warehouse" in result.output
    assert _snapshot(db) == before
    assert rows_in(db) == 2  # nothing lost, nothing added


def test_reject_file_refuses_the_input(db: Path, tmp_path: Path) -> None:
    f = write(tmp_path / "e.csv", ROWS)
    alias = tmp_path / "alias.csv"
    os.link(f, alias)
    for target in (f, alias):
        result = runner.invoke(
            app, ["-w", str(db), "ingest", "csv", str(f), *INGEST, "--reject-file", str(target)]
        )
        assert result.exit_code == 2, result.output
        assert "input file" in result.output and "--reject-file" in result.output
        assert f.read_text(encoding="utf-8") == ROWS


def test_screen_out_never_overwrites_the_warehouse_or_its_input(db: Path, tmp_path: Path) -> None:
    decl = write(tmp_path / "decl.csv", DECLS)
    before = _snapshot(db)
    for target, why in (
        (db, "warehouse"),
        (Path(f"{db}.wal"), "write-ahead log"),
        (decl, "input file"),
    ):
        result = runner.invoke(app, ["-w", str(db), "screen", str(decl), "--out", str(target)])
        assert result.exit_code == 2, result.output
        assert "--out" in result.output and why in result.output, result.output
    assert _snapshot(db) == before and rows_in(db) == 2
    assert decl.read_text(encoding="utf-8") == DECLS


def test_default_warehouse_is_protected_without_w(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.replace(db, tmp_path / "transship.duckdb")
    result = runner.invoke(app, ["reference", "chpl", "--out", "transship.duckdb.wal"])
    assert result.exit_code == 2 and "write-ahead log" in result.output
    result = runner.invoke(app, ["reference", "chpl", "--out", "transship.duckdb"])
    assert result.exit_code == 2 and "--out" in result.output
    assert rows_in(tmp_path / "transship.duckdb") == 2


def test_any_duckdb_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    Warehouse(other).close()
    safepath._protected.clear()  # not registered: still recognised by its header
    with pytest.raises(UnsafeOutputError, match="DuckDB database") as e:
        check_target(other, parameter="out")
    assert e.value.parameter == "out"


def test_reports_charts_and_exports_refuse_the_warehouse(db: Path, tmp_path: Path) -> None:
    for args in (
        ["chart", "monthly", "--out", str(db)],
        ["flows", "--out", str(db)],
        [
            "headline",
            "--reporter",
            "TUR",
            "--partner",
            "RUS",
            "--period",
            "2023-01",
            "--format",
            "json",
            "--out",
            f"{db}.wal",
        ],
        ["export", "parquet", str(tmp_path)],  # the directory holds the warehouse
    ):
        result = runner.invoke(app, ["-w", str(db), *args])
        assert result.exit_code == 2, (args, result.output)
        assert "refusing to write" in result.output, result.output
    assert rows_in(db) == 2


def test_export_parquet_overwrite_never_deletes_other_files(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "pq"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["-w", str(db), "export", "parquet", str(out), "--overwrite"])
    assert result.exit_code == 2, result.output
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_export_parquet_creates_its_folder_and_replaces_an_earlier_export(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "a" / "b" / "pq"
    result = runner.invoke(app, ["-w", str(db), "export", "parquet", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "source=t" / "year=2023").is_dir()
    result = runner.invoke(app, ["-w", str(db), "export", "parquet", str(out)])
    assert result.exit_code == 2 and "overwrite" in result.output
    result = runner.invoke(app, ["-w", str(db), "export", "parquet", str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.parent.iterdir()] == ["pq"]  # no temporary left behind


def test_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), safepath.atomic_open(out, parameter="out") as fh:
        fh.write("new, half")
        raise RuntimeError("disk full")
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]

    def broken(tmp: Path) -> None:
        tmp.write_bytes(b"PAR1 half")
        raise OSError("killed")

    with pytest.raises(OSError, match="killed"):
        safepath.write_with(out, broken, parameter="out")
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_failed_ingest_keeps_the_old_reject_file(tmp_path: Path) -> None:
    from transship.sources.csvfile import csv_file

    rejects = write(tmp_path / "r.csv", "old rejects\n")
    f = write(tmp_path / "e.csv", ROWS)
    mapping = INGEST[5::2]
    src = csv_file(
        f, source="t", mapping=mapping, constants=["flow=export"], reject_file=rejects, block_mb=1
    )
    batches = src.batches()
    next(batches)  # the read stops half-way (the warehouse write failed, say)
    batches.close()
    assert rejects.read_text(encoding="utf-8") == "old rejects\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv", "r.csv"]
    src = csv_file(f, source="t", mapping=mapping, constants=["flow=export"], reject_file=rejects)
    list(src.batches())
    assert rejects.read_text(encoding="utf-8").splitlines()[1].startswith("3,usd,not a number")


def test_atomic_write_keeps_permissions(tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    safepath.write_text(out, "[]", parameter="out")
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()
    out.chmod(0o640)
    safepath.write_text(out, "[1]", parameter="out")
    assert out.stat().st_mode & 0o777 == 0o640 and out.read_text(encoding="utf-8") == "[1]"


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_demo_never_deletes_a_real_warehouse_or_another_file(db: Path, tmp_path: Path) -> None:
    before = _snapshot(db)
    result = runner.invoke(app, ["-w", str(db), "demo"])
    assert result.exit_code == 2, result.output
    assert "--warehouse" in result.output and "non-synthetic" in result.output
    assert _snapshot(db) == before and rows_in(db) == 2
    notes = write(tmp_path / "notes.csv", "precious\n")
    result = runner.invoke(app, ["-w", str(notes), "demo"])
    assert result.exit_code == 2 and "not a DuckDB warehouse" in result.output
    assert notes.read_text(encoding="utf-8") == "precious\n"


def test_warehouse_option_after_the_command(db: Path, tmp_path: Path) -> None:
    # `transship flows -w FILE` reads the same warehouse as `transship -w FILE flows`
    # and protects it the same way
    before = runner.invoke(app, ["-w", str(db), "flows", "--format", "csv"])
    after = runner.invoke(app, ["flows", "-w", str(db), "--format", "csv"])
    assert before.exit_code == 0 and after.exit_code == 0, after.output
    assert after.stdout == before.stdout and after.stdout.count("\n") >= 2
    decl = write(tmp_path / "decl.csv", DECLS)
    result = runner.invoke(app, ["screen", str(decl), "--warehouse", str(db), "--out", str(db)])
    assert result.exit_code == 2 and "--out" in result.output, result.output
    assert rows_in(db) == 2
