"""The warehouse as Hive-partitioned Parquet (source=/year=): the hand-off to Spark."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from transship.errors import ParameterError
from transship.safepath import check_target, write_directory
from transship.schema import TRADE_FLOWS

if TYPE_CHECKING:
    from transship.warehouse import Warehouse


def export_parquet(
    wh: Warehouse, directory: str | Path, *, overwrite: bool = False
) -> dict[str, Any]:
    """Hive-partitioned Parquet copy (source=/year=), the hand-off to Spark.

    The directory (and its parents) is created; the copy is written to a temporary
    directory beside it that takes its place when complete, so a failed export leaves
    an earlier one intact. `overwrite` replaces an earlier export, never a directory
    holding other files (nor one holding this warehouse or any protected file).
    """
    out = Path(directory)
    columns = ", ".join(c.name for c in TRADE_FLOWS)
    check_target(out, parameter="directory", directory=True)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ParameterError("directory", f"{out} is not empty; pass overwrite to replace it")

    def write(tmp: Path) -> None:
        wh.con.execute(
            f"COPY (SELECT {columns}, year(period) AS year FROM trade_flows) TO ? "
            "(FORMAT parquet, PARTITION_BY (source, year), OVERWRITE_OR_IGNORE true, "
            "COMPRESSION zstd)",
            [str(tmp)],
        )

    write_directory(out, write, parameter="directory", replace=_is_parquet_export)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.parquet"))
    return {"directory": str(out), "rows": wh.count(), "files": len(files)}


def _is_parquet_export(directory: Path) -> bool:
    """True if `directory` is empty or holds only an earlier export (source=*/ of .parquet),
    so replacing it loses nothing else."""
    for p in directory.rglob("*"):
        rel = p.relative_to(directory)
        if not rel.parts[0].startswith("source="):
            return False
        if p.is_file() and p.suffix != ".parquet":
            return False
    return True
