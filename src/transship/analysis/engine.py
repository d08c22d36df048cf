"""Engines: the same Ibis expressions on DuckDB (the warehouse file) or Spark.

Spark reads the warehouse's Hive-partitioned Parquet export (`Warehouse.export_parquet`),
registered as `trade_flows` through Ibis' pyspark backend. Without `parquet_dir`, the export
goes to a temporary directory that is removed when the connection is garbage-collected or the
process exits. The SparkSession is shared in a process (`spark_session()`).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, Literal

from transship.errors import UsageError

EngineName = Literal["duckdb", "spark"]


def connect(
    warehouse_path: str | Path,
    engine: EngineName | str = "duckdb",
    *,
    parquet_dir: str | Path | None = None,
) -> Any:
    """An Ibis backend with a `trade_flows` table over the warehouse, on `engine`."""
    from transship.settings import get_settings
    from transship.warehouse import Warehouse, open_warehouse

    if engine == "duckdb":
        import ibis

        s = get_settings()
        wh = Warehouse(warehouse_path, read_only=True, memory_limit=s.memory_limit,
                       threads=s.threads)  # fmt: skip
        con = ibis.duckdb.from_connection(wh.con)
        con._transship_warehouse = wh  # the backend owns it; disconnect() closes its connection
        return con
    if engine != "spark":
        raise UsageError(f"engine {engine!r}: use duckdb or spark")
    tmp = None
    if parquet_dir is None:
        tmp = tempfile.mkdtemp(prefix="transship-spark-")
        parquet_dir = Path(tmp) / "trade_flows"
    with open_warehouse(warehouse_path, read_only=True) as wh:
        wh.export_parquet(parquet_dir, overwrite=True)
    con = spark_backend(parquet_dir)
    if tmp is not None:
        con._transship_cleanup = [weakref.finalize(con, shutil.rmtree, tmp, True)]
    return con


def close(con: Any) -> None:
    """Release a connection from `connect`: DuckDB closes; Spark keeps its shared session
    (stopping it would break later connections in this process) and drops the export."""
    if getattr(con, "name", "") == "pyspark":
        con._session.catalog.dropTempView("trade_flows")
        for fin in getattr(con, "_transship_cleanup", ()):
            fin()
    else:
        con.disconnect()


def spark_backend(parquet_dir: str | Path, session: Any = None) -> Any:
    """An Ibis pyspark backend with `trade_flows` read from a Parquet export."""
    import ibis

    con = ibis.pyspark.from_connection(session or spark_session())
    df = con._session.read.parquet(str(parquet_dir))
    df.createOrReplaceTempView("trade_flows")
    return con


def spark_session(cores: int | None = None) -> Any:
    """A local SparkSession (created once per process): no UI, few shuffle partitions."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise UsageError(
            "{engine} spark needs pyspark (pip install pyspark) and Java", params=("engine",)
        ) from e
    if shutil.which("java") is None and not _java_home():
        raise UsageError(
            "{engine} spark needs Java (e.g. apt-get install default-jre-headless)",
            params=("engine",),
        )
    import os

    master = f"local[{cores}]" if cores else "local[*]"
    shuffle = str(cores or os.cpu_count() or 1)  # one shuffle partition per core
    return (
        SparkSession.builder.master(master)
        .appName("transship")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", shuffle)
        .config("spark.sql.session.timeZone", "UTC")
        # partition values (source=...) stay text: a source named "2023" is not a number
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


def _java_home() -> bool:
    import os

    return bool(os.environ.get("JAVA_HOME"))
