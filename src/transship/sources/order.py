"""Unique keys proven while streaming: a file strictly increasing in its key columns.

BACI files are sorted by year, exporter, importer and product; a file whose packed key
(t, i, j, k as one int64) increases from row to row and file to file holds each natural key
once, so the warehouse need not check it with a GROUP BY over the whole batch. Two codes of
the scheme that name one country (BACI 276 and 280 are both DEU) break the proof only if the
file uses both.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from transship import compute as pc
from transship.sources.convert import _country_lookup
from transship.sources.tablespec import TableSpec

# the range of each key column, whose product must fit in an int64
_WIDTHS = {"t": 10_000, "i": 1_000, "j": 1_000, "k": 1_000_000}


class OrderProof:
    """Tracks `spec.order_key` over the batches of one input, in reading order."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.sorted = bool(spec.order_key)  # so far
        self._last: int | None = None
        self._seen_shared: set[int] = set()
        self._shared_iso: dict[int, str] | None = None
        self._is_shared = np.zeros(_WIDTHS["i"], dtype=bool)  # by code

    def _shared(self) -> dict[int, str]:
        """Numeric country codes of the scheme that share their ISO code with another."""
        if self._shared_iso is None:
            by_iso: dict[str, list[int]] = {}
            for code, iso in _country_lookup(self.spec.country_scheme).items():
                if code.isdigit():
                    by_iso.setdefault(iso, []).append(int(code))
            self._shared_iso = {
                c: iso for iso, codes in by_iso.items() if len(codes) > 1 for c in codes
            }
            codes = [c for c in self._shared_iso if 0 <= c < len(self._is_shared)]
            self._is_shared[codes] = True
        return self._shared_iso

    def track(self, raw: pa.RecordBatch, text: Mapping[str, pa.Array], complete: bool) -> None:
        """Pack the key columns of `raw` (their decoded `text` where there is one) into one
        int64 a row and check they increase. `complete`: no row of `raw` was rejected."""
        if not self.sorted:
            return
        if not complete:  # rejected rows: the warehouse checks the keys instead
            self.sorted = False
            return
        packed = np.zeros(raw.num_rows, dtype=np.int64)
        self._shared()
        try:
            by_column = {c: f for f, c in self.spec.columns.items()}
            for name in self.spec.order_key:
                ints = _integers(text.get(by_column.get(name, ""), raw.column(name)))
                width = _WIDTHS[name]
                if ints.min() < 0 or ints.max() >= width:
                    raise ValueError(name)
                if name in ("i", "j"):  # codes naming a country another code also names
                    found = ints[self._is_shared[ints]]
                    if len(found):  # (np.unique would import numpy.ma, 20-40 ms)
                        seen = np.zeros(width, dtype=bool)
                        seen[found] = True
                        self._seen_shared.update(np.flatnonzero(seen).tolist())
                packed *= width
                packed += ints
        except (pa.ArrowInvalid, ValueError, KeyError):
            self.sorted = False
            return
        if (self._last is not None and packed[0] <= self._last) or (
            raw.num_rows > 1 and not bool(np.all(packed[1:] > packed[:-1]))
        ):
            self.sorted = False
        self._last = int(packed[-1].item())

    def proves_unique(self) -> bool:
        """Strictly increasing raw keys are unique keys unless two codes seen in the file
        name one country: then the warehouse checks."""
        if not self.sorted:
            return False
        isos = [self._shared()[c] for c in self._seen_shared]
        return len(isos) == len(set(isos))


def _integers(a: pa.Array) -> np.ndarray:
    """A text column as int64 per row (its distinct values parsed once when encoded)."""
    if isinstance(a, pa.DictionaryArray):
        values = pc.cast(pc.utf8_trim_whitespace(pc.cast(a.dictionary, pa.string())), pa.int64())
        out: np.ndarray = np.take(np.asarray(values.to_numpy()), a.indices.to_numpy())
        return out
    return np.asarray(
        pc.cast(pc.utf8_trim_whitespace(pc.cast(a, pa.string())), pa.int64()).to_numpy()
    )
