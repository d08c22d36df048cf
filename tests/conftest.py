from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from transship.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRANSSHIP_SHARED_DATA", REPO.parent / "shared" / "data"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the Spark session or the browser is a `spark` / `browser` test, and
    slow (a JVM or Chromium start); a test that uses the full demo warehouse is slow too.
    Marking by fixture keeps the markers true when tests move between files."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "spark_session" in names:
            item.add_marker(pytest.mark.spark)
            item.add_marker(pytest.mark.slow)
        if "browser" in names:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
        if "demo_run" in names or "small_synthetic" in names:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip(
            f"real public data not found at {SHARED} (../shared/data); set TRANSSHIP_SHARED_DATA"
        )
    return SHARED


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    w = Warehouse(tmp_path / "t.duckdb")
    yield w
    w.close()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="session")
def cmp_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A warehouse of test_flows' CMP_ROWS (TUR to KAZ and RUS, 2019-2023), built once for
    the CLI tests that only read it. Returns its path as the `-w` argument."""
    from tests._engines import MAP
    from tests.test_flows import CMP_ROWS  # imported here: test_flows imports this module
    from transship.sources.csvfile import csv_file

    tmp = tmp_path_factory.mktemp("cmp")
    path = tmp / "w.duckdb"
    with Warehouse(path) as w:
        w.ingest(csv_file(write(tmp / "c.csv", CMP_ROWS), source="hand", mapping=MAP))
    return str(path)


# -- synthetic warehouses built once per test session ------------------------------------
# Building the full demo (~8.9M rows) takes tens of seconds; several files need it, so it is
# built once, by the real `transship demo` command, and shared. Tests must not write to a
# shared warehouse: open it read-only, or take a private copy with `copy_warehouse`.
@dataclass(frozen=True)
class DemoRun:
    path: Path  # the demo's warehouse file (read-only for tests)
    output: str  # what `transship demo` printed
    exit_code: int
    seconds: float


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    from typer.testing import CliRunner

    from transship.cli import app

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    start = time.perf_counter()
    result = CliRunner().invoke(app, ["-w", str(path), "demo"])
    return DemoRun(path, result.output, result.exit_code, time.perf_counter() - start)


@pytest.fixture(scope="session")
def small_synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small labelled SYNTHETIC warehouse (2019-2023, series over $500k a month): the
    Turkey story in ~1/20 of the demo's rows. Read-only for tests; see `copy_warehouse`."""
    from transship.sources.synthetic import SyntheticTrade

    path = tmp_path_factory.mktemp("small") / "small.duckdb"
    with Warehouse(path) as w:
        w.ingest(SyntheticTrade(start="2019-01", end="2023-12", min_usd=500_000.0))
    return path


def copy_warehouse(path: Path, to: Path) -> Path:
    """A private, writable copy of a shared warehouse file (closed, so no .wal to carry)."""
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, to)
    return to


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the packaged reference data, to corrupt."""
    from transship import reference

    return Path(shutil.copytree(reference.DATA_DIR, tmp_path / "data"))


def replace_once(path: Path, old: str, new: str) -> None:
    """Edit a data file in place; the text to replace must be there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
