"""Ingest commands and `screen` run without pandas and without OpenBLAS's threads.

pyarrow imports pandas (0.13 CPU s idle, 0.25-0.9 s wall on a loaded machine) the first time it
converts a Python value (`pa.array` of a list, a Python scalar given to a compute function,
`to_numpy`), only to ask whether the value is a pandas object; then never again. No ingest
uses pandas, nor does `screen` of a file, so a `transship ingest ...` or `screen` process
(`standalone`: started by `main()`, which exits after the command) lets that first look
find none. pyarrow's pandas functions
(`to_pandas`, `from_pandas`) import it as usual when called; what a process that looked
without pandas loses is pyarrow's recognising pandas objects (a Series given to `pa.array`,
`pd.NA`), which is why nothing else does this: not the Python API, not tests in-process
(Typer's runner calls the app, not `main()`).

numpy's import starts OpenBLAS's worker threads and runs a BLAS call on them, after which
they spin (0.06 CPU s a process, on the core the reader and DuckDB need); no ingest uses
BLAS (nor the matcher: its numpy is sums and sorts), so such a process asks for one thread
unless OPENBLAS_NUM_THREADS says otherwise.

Such a process also starts without garbage collection (`starting`): the collections during
its imports (~130 of them before an ingest reads a row, ~70M instructions of a 1-row ingest)
look for cycles among objects that live as long as the process. Collection is back on
(`started`) when the command runs, or for an ingest once its imports are done (before a
source that reads its input as it is built, as Comext's), with every object so far frozen,
so the collections during a long ingest no longer go over them.
"""

from __future__ import annotations

import gc
import os
import sys
from importlib.abc import MetaPathFinder
from typing import Any

standalone = False  # set by transship.cli.main()


class _NoPandas(MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == "pandas":
            raise ImportError("pandas is not used while ingesting")


def starting() -> None:
    """A standalone process starts: no garbage collection until `started`."""
    if standalone:
        gc.disable()


def started() -> None:
    """The process has started (its libraries imported): collection on again, with the
    objects so far frozen (kept, never looked at by a collection)."""
    if standalone and not gc.isenabled():
        gc.freeze()
        gc.enable()


def lean_ingest() -> None:
    """In a standalone process, before numpy is imported and before the ingest's first
    Arrow conversion: one BLAS thread, and pyarrow looks for pandas now, finds none and
    does not look again on its own. The ingest's imports follow: no garbage collection
    until it calls `started`."""
    if not standalone:
        return
    gc.disable()
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array(["x"])  # the look: pyarrow's Python shim and its C++ conversion, once each
    finally:
        sys.meta_path.remove(finder)
