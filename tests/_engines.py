"""Fixtures that run the same analysis tests on DuckDB and on Spark (one local session)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse

MAP = ["rep=reporter", "par=partner", "flow=flow", "hs=hs", "rev=hs_rev", "period=period",
       "usd=value_usd"]  # fmt: skip
# The Spark leg starts a JVM and runs each query through Spark: seconds per test, so `slow`.
ENGINES = ["duckdb", pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])]


def _unavailable(reason: str) -> None:
    # CI sets TRANSSHIP_REQUIRE_SPARK=1 so that a missing Spark fails instead of skipping
    if os.environ.get("TRANSSHIP_REQUIRE_SPARK") == "1":
        pytest.fail(f"TRANSSHIP_REQUIRE_SPARK=1 but {reason}")
    pytest.skip(f"Spark leg skipped: {reason}")


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _unavailable("pyspark is not installed (pip install pyspark)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _unavailable("no Java runtime (apt-get install default-jre-headless)")
    from transship.analysis.engine import spark_session as make

    session = make(cores=1)
    yield session
    session.stop()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_con(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """make_con(csv_text, source='hand') -> an Ibis backend over those rows, on `engine`."""
    opened: list[Warehouse] = []

    def make(text: str, source: str = "hand", name: str = "rows") -> Any:
        wh = Warehouse(tmp_path / f"{name}.duckdb")
        opened.append(wh)
        wh.ingest(csv_file(write(tmp_path / f"{name}.csv", text), source=source, mapping=MAP))
        if engine == "duckdb":
            return wh.ibis()
        from transship.analysis.engine import spark_backend

        session = request.getfixturevalue("spark_session")
        wh.export_parquet(tmp_path / f"{name}-parquet")
        return spark_backend(tmp_path / f"{name}-parquet", session)

    yield make
    for wh in opened:
        wh.close()


def rows(result: Any) -> list[dict[str, Any]]:
    return result.to_pyarrow().to_pylist()  # type: ignore[no-any-return]
