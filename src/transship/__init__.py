"""transship: sanctions-relevant dual-use trade through third countries, found and screened.

From Python (see README "Python"):

    import transship
    wh = transship.open("transship.duckdb")        # or engine="spark"
    wh.flows(reporter="TUR", partner="russia+ft_five", by="partner").to_pandas()

Every error transship raises on purpose is a `transship.Error` (= `errors.TransshipError`).
Importing this package imports no heavy library; each call imports what it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from transship.errors import TransshipError

if TYPE_CHECKING:
    from transship.python_api import TradeWarehouse
    from transship.screening.engine import ScreenResult

__version__ = "0.1.0"

Error = TransshipError  # the one base of every transship exception


def open(  # transship.open: the habit of duckdb.connect, xarray.open_dataset
    path: str | Path | None = None,
    *,
    engine: str = "duckdb",
    parquet_dir: str | Path | None = None,
) -> TradeWarehouse:
    """Open a warehouse for analysis from Python; see `transship.python_api`."""
    from transship.python_api import open as _open

    return _open(path, engine=engine, parquet_dir=parquet_dir)


def screen_file(
    declarations: Any,
    policy: str | Path,
    lists: list[str] | None,
    warehouse: str | Path,
    **kw: Any,
) -> ScreenResult:
    """Screen a declarations file (str or Path) or a DataFrame / Arrow table."""
    from transship.screening import screen_file as _screen

    return _screen(declarations, policy, lists, Path(warehouse), **kw)


__all__ = ["Error", "TransshipError", "__version__", "open", "screen_file"]
