"""Sniffing (encoding, header, delimiter) and the reject file of the streaming reader."""

from __future__ import annotations

import codecs
import contextlib
import csv
from pathlib import Path

from transship.errors import InputError
from transship.safepath import AtomicFile, safe_row


# -- sniffing -------------------------------------------------------------------------------
def _detect_encoding(sample: bytes, label: str) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    with contextlib.suppress(UnicodeDecodeError):  # not UTF-8: guess a code page below
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    from charset_normalizer import from_bytes

    # Trade files that are not UTF-8 are nearly always a Windows code page.
    best = from_bytes(
        sample, cp_isolation=["cp1252", "cp1254", "cp1251", "cp1250", "utf_16"]
    ).best()
    if best is None:
        raise InputError("cannot detect the text encoding; give --encoding", file=label)
    return str(best.encoding)


def _read_header(
    sample: bytes, encoding: str, delimiter: str | None, label: str
) -> tuple[list[str], str]:
    first = sample.split(b"\n", 1)[0].rstrip(b"\r")
    if first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8) :]
    try:
        line = first.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        raise InputError(f"header is not readable as {encoding}: {e}", file=label, line=1) from e
    if not line.strip():
        raise InputError("missing header: the first line is empty", file=label, line=1)
    if delimiter is None:
        counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
        delimiter = max(counts, key=lambda d: counts[d])
    header = next(csv.reader([line], delimiter=delimiter))
    header = [h.strip() for h in header]
    if any(not h for h in header):
        raise InputError("missing header: a column has no name", file=label, line=1)
    return header, delimiter


class _RejectWriter:
    """Rejected rows, one per line: where, why, and the row as read.

    Written to a temporary file that replaces the reject file only when the whole input was
    read; cells that a spreadsheet would run as a formula are neutralised."""

    def __init__(self, path: Path, source: Path) -> None:
        self._f = AtomicFile(path, parameter="reject_file", inputs=[source], newline="")
        self._w = csv.writer(self._f.file)
        self._w.writerow(["line", "column", "reason", "value", "row"])

    def write(self, line: int | None, column: str, reason: str, value: object, row: str) -> None:
        self._w.writerow(safe_row([line, column, reason, value, row]))

    def close(self, *, commit: bool) -> None:
        if commit:
            self._f.commit()
        else:
            self._f.discard()


class _HeldRejects(_RejectWriter):
    """A block's rejects held back, then written in line order (`flush_to`): the converter's
    bad cells and the parser's unsplittable lines of one block are found apart."""

    def __init__(self) -> None:  # no file of its own
        self.rows: list[tuple[int | None, str, str, object, str]] = []

    def write(self, line: int | None, column: str, reason: str, value: object, row: str) -> None:
        self.rows.append((line, column, reason, value, row))

    def flush_to(self, out: _RejectWriter) -> None:
        for r in sorted(self.rows, key=lambda r: (r[0] is None, r[0] or 0)):
            out.write(*r)
        self.rows.clear()
