"""Work ahead in a thread: the next items of an iterator produced while the caller uses this one.

Used by the warehouse (the source reads and converts its next batches while DuckDB writes)
and by the CLI, which starts reading an input as soon as its source is built (`ReadAhead`),
so the first batches are read while the process is still importing DuckDB and opening the
warehouse. Imports nothing of transship, so every layer may use it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Any, Generic, TypeVar

T = TypeVar("T")
CLOSE_WAIT_S = 5.0  # how long close() waits for a stopped producer to finish its read


class Prefetch(Iterator[T], Generic[T]):
    """The items of `items`, each produced in a thread (`name`) while the caller uses the one
    before: pyarrow and DuckDB release the GIL, so the two sides overlap. The thread starts
    at once; the bounded queue keeps memory at `depth` items. An error of the producer is
    raised where its item would have come. `close()` stops the thread and closes `items`
    there (a reader's files close before it returns)."""

    def __init__(self, items: Iterator[T], depth: int = 2, name: str = "transship-read") -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self._worker = threading.Thread(target=self._produce, args=(items,), name=name, daemon=True)
        self._worker.start()

    def _produce(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                while not self._stop.is_set():
                    try:
                        self._queue.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._queue.put(("end", None))
        except BaseException as e:  # handed to the consumer, which re-raises it
            self._queue.put(("error", e))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                with suppress(Exception):
                    close()

    def __iter__(self) -> Prefetch[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == "item":
            return value  # type: ignore[no-any-return]
        self.close()
        if kind == "error":
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop the producer (if still running) and wait for it, at most `CLOSE_WAIT_S` once
        stopped; idempotent. A producer blocked inside a read (a pipe that stalls) cannot see
        the stop flag: it is left behind (a daemon thread that holds only its input), so an
        error raised meanwhile (a warehouse that failed to open) still reaches the caller."""
        self._finished = True
        self._stop.set()
        deadline = time.monotonic() + CLOSE_WAIT_S
        while self._worker.is_alive() and time.monotonic() < deadline:
            with suppress(queue.Empty):  # drain so a producer blocked on a full queue sees it
                self._queue.get(timeout=0.1)


def prefetch(items: Iterator[T], depth: int = 2, name: str = "transship-read") -> Prefetch[T]:
    """`Prefetch` of `items`; items already produced ahead (a `Prefetch`) are returned as
    they are."""
    if isinstance(items, Prefetch):
        return items
    return Prefetch(items, depth, name)


class ReadAhead:
    """A batch source (`transship.schema.BatchSource`) whose reading has started: its
    batches are read in a thread from now on (`depth` of them ahead, as the warehouse
    reads them: no more memory), while the caller goes on (the CLI imports DuckDB and
    opens the warehouse meanwhile). Everything else is the source's own: attributes are
    read from and written to it; errors of reading come where their batch would have. A
    source that writes a file as it is read (a reject file, which replaces the earlier one
    when the read completes) is read only when its batches are asked for, as without
    reading ahead: a small input would be read whole before the warehouse is opened, and a
    failed open must leave that file as it was. Use as a context manager: leaving it stops
    the reading whether or not the batches were used."""

    def __init__(self, src: Any, depth: int = 2) -> None:
        writes = getattr(src, "reject_file", None) is not None
        object.__setattr__(self, "_src", src)
        object.__setattr__(self, "_ahead", None if writes else Prefetch(iter(src.batches()), depth))
        object.__setattr__(self, "_taken", False)

    @property
    def reading(self) -> bool:
        """Whether the batches are being read ahead."""
        return self._ahead is not None

    def batches(self) -> Iterator[Any]:
        if self._taken:
            raise RuntimeError("the batches of a read-ahead source are read once")
        object.__setattr__(self, "_taken", True)
        return self._ahead if self._ahead is not None else iter(self._src.batches())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._src, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._src, name, value)

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.close()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
