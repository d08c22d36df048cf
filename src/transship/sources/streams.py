"""Input streams of the tabular reader: archive checks, a counting, paced byte reader, parsed
blocks with their skipped rows, line numbers, file hashes.

`_CountingReader` counts and hashes the bytes pyarrow pulls (progress and sha256 at no extra
pass) and keeps pyarrow's background read-ahead to a few blocks, so ingest memory does not
grow with the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa

from transship.errors import InputError


def _check_archive(path: Path) -> None:
    """A zip whose central directory is gone (a cut download) is refused, not read as text."""
    with open(path, "rb") as f:
        head = f.read(4)
    office = path.suffix.lower() in (".xlsx", ".xlsm", ".ods")
    if head == b"PK\x03\x04" and not office and not zipfile.is_zipfile(path):
        raise InputError(
            "zip archive is truncated or corrupt (no central directory); download it again",
            file=str(path),
        )


@contextlib.contextmanager
def _archive_errors(label: str) -> Iterator[None]:
    """A member that ends early or fails its CRC stops the ingest (nothing is kept)."""
    try:
        yield
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as e:
        raise InputError(
            f"compressed input is truncated or corrupt ({e}); nothing was stored", file=label
        ) from None


class _CountingReader(io.RawIOBase):
    """Counts and hashes the bytes pyarrow pulls, so progress and sha256 cost no extra pass.

    pyarrow's CSV stream reads up to 32 blocks ahead of its parser in a background thread
    (hundreds of MB at the default block size, growing with the file up to that cap), so
    with `ahead` the reader waits while it is that many bytes past what was parsed; the
    parser reports each block (`parsed`). A wait never lasts past `_WAIT_S`: a wrong guess
    costs memory, never a stall.
    """

    _WAIT_S = 2.0

    def __init__(self, raw: IO[bytes], hasher: Any | None, ahead: int | None = None) -> None:
        self._raw = raw
        self._hasher = hasher
        self.count = 0
        self._allowed = ahead
        self._more = threading.Condition()

    def parsed(self, nbytes: int) -> None:
        """The parser took a block of about `nbytes`: the reader may read that much more."""
        with self._more:
            if self._allowed is not None:
                self._allowed += nbytes
            self._more.notify_all()

    def unbound(self) -> None:
        """Read freely from now on: blocks are not input bytes (a transcoded encoding), or
        the parser is done with this input."""
        with self._more:
            self._allowed = None
            self._more.notify_all()

    def readable(self) -> bool:
        return True

    def _may_read(self) -> bool:
        # None: unbound; read at once (`or 0` made it "never", so a waiting read sat out
        # the whole _WAIT_S after `unbound`)
        return self._allowed is None or self.count < self._allowed

    def readinto(self, buffer: Any) -> int:
        if self._allowed is not None:
            with self._more:
                self._more.wait_for(self._may_read, self._WAIT_S)
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self.count += n
            if self._hasher is not None:
                self._hasher.update(memoryview(buffer)[:n])
        return int(n or 0)


@dataclass
class _Member:
    label: str
    open: Callable[[], IO[bytes]]
    size: int


def _blocks(
    reader: Any, pending: list[tuple[int, str]], pace: _CountingReader | None, block_bytes: int
) -> Generator[tuple[pa.RecordBatch | None, list[tuple[int, str]]], None, None]:
    """Each parsed block with the rows the parser skipped while parsing it (`pending`, which
    the parser's invalid-row handler fills in the thread calling this); None for the block
    after the last, if the end held skipped rows only."""
    while True:
        try:
            raw = reader.read_next_batch()
        except StopIteration:
            if pending:
                yield None, pending[:]
            return
        if pace is not None:
            pace.parsed(block_bytes)
        invalid = pending[:]
        pending.clear()
        yield raw, invalid


def _line_numbers(first: int, n: int, skipped: tuple[int, ...]) -> Callable[[], np.ndarray]:
    """The file line of each of `n` rows starting at parsed row `first` (the header is line
    1), past the lines the parser skipped; computed only when asked (errors, national codes)."""

    def lines() -> np.ndarray:
        shift = np.asarray(skipped, dtype=np.int64) - np.arange(len(skipped))
        base = first + 2 + np.arange(n, dtype=np.int64)
        out: np.ndarray = base + np.searchsorted(shift, base, side="right")
        return out

    return lines


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
