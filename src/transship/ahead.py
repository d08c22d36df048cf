"""Work ahead in a thread: the next items of an iterator produced while the caller uses this one.

Used by the warehouse (the source reads and converts its next batches while DuckDB writes).
Imports nothing of transship, so every layer may use it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from contextlib import suppress
from typing import Any, TypeVar

T = TypeVar("T")


def prefetch(
    batches: Iterator[T], depth: int = 2, name: str = "transship-read"
) -> Generator[T, None, None]:
    """The items of `batches`, each produced in a thread (`name`) while the caller uses the
    one before: pyarrow and DuckDB release the GIL, so the two sides overlap. The bounded
    queue keeps memory at `depth` items. Closing this generator stops the thread and closes
    `batches` there (a reader's files close before this returns)."""
    items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for b in batches:
                while not stop.is_set():
                    try:
                        items.put(("batch", b), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(("end", None))
        except BaseException as e:  # handed to the consumer, which re-raises it
            items.put(("error", e))
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                with suppress(Exception):
                    close()

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while worker.is_alive():  # drain so a blocked producer can see the stop flag
            with suppress(queue.Empty):
                items.get(timeout=0.1)
        worker.join()
