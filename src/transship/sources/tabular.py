"""Streaming reader for delimited trade files: canonical Arrow batches, every bad cell named.

Generic CSV and CEPII BACI share this reader; they differ only in their `TableSpec`.
Memory is bounded by one parsed block (TRANSSHIP_READ_BLOCK_MB), whatever the file size.
Bad input raises `InputError` naming file, line and column, unless a reject file is given,
in which case every rejected row is written there with its reason and reading goes on.

Fast path: a UTF-8 CSV is first parsed with its number columns typed (float64), which spares
three passes over every value (text, null tokens, cast). The first block holding anything
the converters refuse (or a number the typed parse cannot read) stops it: the member is
read again as text from its first line, the rows already passed on are skipped, and the
careful path names the cell or rejects the row as always.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import pyarrow as pa
import pyarrow.csv as pacsv

from transship.errors import InputError, UsageError
from transship.safepath import check_target, protect
from transship.sources.canonical import Converter, Fallback
from transship.sources.convert import NULL_TOKENS
from transship.sources.order import OrderProof
from transship.sources.sniff import _detect_encoding, _HeldRejects, _read_header, _RejectWriter
from transship.sources.streams import (
    _archive_errors,
    _blocks,
    _check_archive,
    _CountingReader,
    _file_sha256,
    _line_numbers,
    _Member,
)
from transship.sources.tablespec import FIELDS, INPUT_FORMATS, NUMBERS, TableSpec, format_of


@dataclass
class _Done:
    """What earlier passes over a member passed on: rows, and lines reported as unparsable."""

    rows: int = 0
    lines: set[int | None] = field(default_factory=set)


class TabularFile:
    """One delimited file (or the CSV members of a zip) read as canonical batches.

    Implements `transship.schema.BatchSource`.
    """

    def __init__(
        self,
        path: str | Path,
        spec: TableSpec,
        *,
        delimiter: str | None = None,
        encoding: str | None = None,
        reject_file: str | Path | None = None,
        block_mb: int = 4,
        members: Callable[[str], bool] | None = None,
        parameters: Mapping[str, object] | None = None,
        input_format: str | None = None,
    ) -> None:
        if not spec.auto_map:
            spec.validate()  # else once the header is known
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("file not found", file=str(path))
        protect(self.path)  # no output of this process (a reject file) may overwrite it
        self.spec = spec
        self.source = spec.source
        self.input_name = str(path)
        self.parameters: Mapping[str, object] = dict(parameters or {})
        self.delimiter = delimiter
        self.encoding = encoding
        self.reject_file = Path(reject_file) if reject_file else None
        if self.reject_file is not None:  # refused now, before anything is read or written
            check_target(self.reject_file, parameter="reject_file", inputs=[self.path])
        self.block_bytes = block_mb << 20
        self.rows_read = 0
        self.rows_rejected = 0
        self.bytes_done = 0
        self.sha256: str | None = None
        self.input_format = input_format or format_of(self.path)
        if self.input_format not in INPUT_FORMATS:
            raise UsageError(
                f"--input-format {self.input_format!r}: use one of {', '.join(INPUT_FORMATS)}"
            )
        if self.input_format == "tsv" and delimiter is None:
            self.delimiter = "\t"
        # Capabilities the warehouse reads (the connector contract, schema.BatchSource).
        self.sums_to_hs6 = spec.national_codes
        self.keep_national: bool = False  # set by the caller: also write table hs_national
        _check_archive(self.path)
        self._is_zip = self.input_format == "csv" and zipfile.is_zipfile(self.path)
        self._members = self._list_members(members)
        self.bytes_total: int | None = sum(m.size for m in self._members)
        self._converter = Converter(spec)
        # True once every batch was read in strictly increasing `spec.order_key` order.
        # Members are read in order and the proof carries over, so a zip of yearly files
        # in year order is proven as one stream.
        self.keys_unique = False
        self._order = OrderProof(spec)
        if spec.auto_map and self.input_format != "xlsx":  # xlsx: resolved when read
            self._wanted(self._peek_header())

    def _peek_header(self) -> list[str]:
        """The header of the (first) input, so mapping errors come before any reading."""
        if self.input_format == "parquet":
            import pyarrow.parquet as pq

            try:
                return list(pq.read_schema(self.path).names)
            except (pa.ArrowInvalid, OSError) as e:
                raise InputError(f"not a readable Parquet file: {e}", file=str(self.path)) from None
        member = self._members[0]
        with _archive_errors(member.label), member.open() as raw:
            sample = raw.read(1 << 16)
        encoding = self.encoding or _detect_encoding(sample, member.label)
        return _read_header(sample, encoding, self.delimiter, member.label)[0]

    # -- input files -------------------------------------------------------------------
    def _list_members(self, accept: Callable[[str], bool] | None) -> list[_Member]:
        p = self.path
        if self.input_format in ("parquet", "xlsx"):
            return [_Member(str(p), lambda: open(p, "rb"), p.stat().st_size)]
        if self._is_zip:
            with _archive_errors(str(p)), zipfile.ZipFile(p) as z:
                infos = [
                    i
                    for i in z.infolist()
                    if not i.is_dir()
                    and i.filename.lower().endswith(".csv")
                    and (accept is None or accept(Path(i.filename).name))
                ]
            if not infos:
                raise InputError("zip archive holds no matching .csv file", file=str(p))

            def opener(name: str) -> Callable[[], IO[bytes]]:
                return lambda: zipfile.ZipFile(p).open(name)

            return [_Member(f"{p}!{i.filename}", opener(i.filename), i.file_size) for i in infos]
        if p.suffix == ".gz":
            return [
                _Member(str(p), lambda: cast(IO[bytes], gzip.open(p, "rb")), p.stat().st_size * 4)
            ]
        return [_Member(str(p), lambda: open(p, "rb"), p.stat().st_size)]

    def content_sha256(self) -> str | None:
        """The sha256 `batches` records, computed before reading a row, so the warehouse
        can skip an input it holds already. None when a reject file is asked for: that
        file is an output of reading."""
        return None if self.reject_file is not None else _file_sha256(self.path)

    def batches(self) -> Iterator[pa.RecordBatch]:
        # Compressed inputs are read decompressed: hash the file itself instead.
        whole_file_hash = self._is_zip or self.path.suffix == ".gz"
        self._hasher = None if whole_file_hash else hashlib.sha256()
        if whole_file_hash:
            self.sha256 = _file_sha256(self.path)
        rejects = _RejectWriter(self.reject_file, self.path) if self.reject_file else None
        completed = False
        try:
            if self.input_format in ("parquet", "xlsx"):
                yield from self._read_other(rejects)
            else:
                done_before = 0
                for member in self._members:
                    yield from self._read_csv_member(member, done_before, rejects)
                    done_before += member.size
                if self._hasher is not None:
                    self.sha256 = self._hasher.hexdigest()
                elif not whole_file_hash:  # read twice (the fast path stopped): hashed apart
                    self.sha256 = _file_sha256(self.path)
            self.keys_unique = self._order.proves_unique()
            completed = True
        finally:
            if rejects:  # a read that failed or stopped leaves the old reject file as it was
                rejects.close(commit=completed)

    def _read_other(self, rejects: _RejectWriter | None) -> Iterator[pa.RecordBatch]:
        """Parquet and spreadsheets, read as text batches (sources.formats)."""
        from transship.sources.formats import read_parquet, read_xlsx

        self.sha256 = _file_sha256(self.path)
        read = read_parquet if self.input_format == "parquet" else read_xlsx
        for header, raw, lines in read(self.path, self._wanted):
            self._check_header(header, str(self.path))
            self.rows_read += raw.num_rows
            batch = self._converter.convert(raw, str(self.path), lines, rejects, ",")
            self.rows_rejected += raw.num_rows - batch.num_rows
            self.bytes_done = self.bytes_total or 0
            if batch.num_rows:
                yield batch

    def _read_csv_member(
        self, member: _Member, done_before: int, rejects: _RejectWriter | None
    ) -> Iterator[pa.RecordBatch]:
        """One CSV member: the fast path first, then, if it stops, the text path."""
        done = _Done()
        fast = True
        while True:
            with _archive_errors(member.label), member.open() as raw:
                counter = _CountingReader(raw, self._hasher, ahead=3 * self.block_bytes)
                stream = io.BufferedReader(cast(Any, counter), buffer_size=1 << 20)
                try:
                    for batch in self._read_member(
                        member.label, stream, rejects, counter, fast=fast, done=done
                    ):
                        self.bytes_done = done_before + counter.count
                        yield batch
                    self.bytes_done = done_before + counter.count
                    return
                except Fallback:
                    fast = False
                    self._hasher = None  # it saw part of the bytes: the file is hashed apart
                finally:
                    counter.unbound()  # a reader thread still waiting goes on (and ends)

    # -- one CSV stream ----------------------------------------------------------------
    def _fast_types(self) -> dict[str, pa.DataType] | None:
        """Column types of the fast parse (numbers as float64; other columns stay bytes,
        converted per distinct value); None where the spec's numbers need the text path."""
        spec = self.spec
        if spec.thousands is not None or spec.decimal != ".":
            return None
        numbers = {c for f, c in spec.columns.items() if f in NUMBERS and f not in spec.value_maps}
        others = {c for f, c in spec.columns.items() if f not in NUMBERS}
        if not numbers or numbers & others:
            return None
        return dict.fromkeys(numbers, pa.float64())

    def _read_member(
        self,
        label: str,
        stream: io.BufferedReader,
        rejects: _RejectWriter | None,
        pace: _CountingReader | None = None,
        *,
        fast: bool = False,
        done: _Done | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Canonical batches of one CSV stream. `fast`: try the typed parse (raises
        `Fallback`); `done`: what an earlier pass passed on, skipped here (and updated)."""
        done = done if done is not None else _Done()
        sample = stream.peek(1 << 16)[: 1 << 16]
        encoding = self.encoding or _detect_encoding(sample, label)
        utf8 = encoding.lower().replace("-", "").replace("_", "") in ("utf8", "ascii")
        if pace is not None and not utf8:  # transcoded: a block is not block_bytes of input
            pace.unbound()
        header, delimiter = _read_header(sample, encoding, self.delimiter, label)
        self._check_header(header, label)
        want = self._wanted(header)
        typed = self._fast_types() if fast and utf8 else None
        if typed is None and fast:
            fast = False
        skipped: list[int] = []  # physical line numbers of rows the parser could not split
        parse_errors: list[tuple[int | None, str]] = []
        # rows the parser skipped in the block it is parsing, handed over with that block
        pending: list[tuple[int, str]] = []

        def on_invalid(row: Any) -> str:
            pending.append(
                (row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}")
            )
            return "skip"

        def report_parse_errors(upto: int | None = None, to: _RejectWriter | None = None) -> None:
            """Report the unsplittable lines up to line `upto` (all if None), to `to` (else
            `rejects`): pyarrow may find a block's before handing over the block before it,
            so lines stay in order."""
            fresh: list[tuple[int | None, str]] = []
            later: list[tuple[int | None, str]] = []
            for line, why in parse_errors:
                if line not in done.lines:
                    due = upto is None or line is None or line <= upto
                    (fresh if due else later).append((line, why))
            parse_errors[:] = later
            for line, reason in fresh:
                done.lines.add(line)
                if rejects is None:
                    raise InputError(reason, file=label, line=line)
                (to or rejects).write(line, "", reason, "", "")
                self.rows_rejected += 1
            self.rows_read += len(fresh)

        types: dict[str, pa.DataType] = {c: pa.binary() for c in header}
        types.update(typed or {})
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    block_size=self.block_bytes,
                    use_threads=False,  # serial parsing is as fast here and keeps line numbers
                    encoding=encoding if encoding.lower().replace("-", "") != "utf8" else "utf8",
                    skip_rows=1,
                    column_names=header,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, ignore_empty_lines=False, invalid_row_handler=on_invalid
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=types,
                    include_columns=want,
                    null_values=NULL_TOKENS.to_pylist(),  # typed numbers only: text has none
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid:
            if fast:  # a number in the first block the typed parse cannot read
                raise Fallback from None
            raise
        parsed = 0  # rows the parser gave in this pass
        # Parsing the next block in a thread of its own (transship/ahead.py; fa9399f) gained
        # nothing measurable on 2 shared cores: DuckDB's two threads and this one fill both.
        blocks = _blocks(reader, pending, pace, self.block_bytes)
        try:
            while True:
                try:
                    raw, invalid = next(blocks)
                except StopIteration:
                    break
                except pa.ArrowInvalid:
                    if fast:
                        raise Fallback from None
                    raise
                for line, why in invalid:
                    skipped.append(line)
                    parse_errors.append((line, why))
                if raw is None:
                    break
                first, parsed = parsed, parsed + raw.num_rows
                # the block's last line, also when passed on already (sliced off)
                n = raw.num_rows
                last = int(_line_numbers(first + n - 1, 1, tuple(skipped))()[0]) if n else None
                if done.rows > first:  # passed on by the fast pass before this one
                    raw = raw.slice(min(done.rows - first, raw.num_rows))
                    first = done.rows
                lines = _line_numbers(first, raw.num_rows, tuple(skipped))
                if not raw.num_rows:
                    if not fast:
                        report_parse_errors(last)
                    continue
                if not fast:  # the block's bad cells and unsplittable lines in line order
                    self.rows_read += raw.num_rows
                    held = _HeldRejects() if rejects is not None else None
                    try:
                        batch = self._converter.convert(raw, label, lines, held, delimiter)
                    except InputError as e:  # no reject file: the block's first error
                        if e.line is not None:
                            report_parse_errors(e.line - 1)
                        raise
                    report_parse_errors(last, to=held)
                    if held is not None and rejects is not None:
                        held.flush_to(rejects)
                else:
                    batch = self._converter.convert(
                        raw, label, lines, rejects, delimiter, fast=True
                    )
                if fast:  # the block is taken: its unparsable lines are reported now
                    report_parse_errors(last)
                    self.rows_read += raw.num_rows
                self.rows_rejected += raw.num_rows - batch.num_rows
                self._order.track(raw, self._converter.text, batch.num_rows == raw.num_rows)
                done.rows = first + raw.num_rows
                if batch.num_rows:
                    yield batch
        finally:
            if pace is not None:  # a read-ahead held back must not keep the parser waiting
                pace.unbound()
            blocks.close()  # closes the parser, whatever happened here
        report_parse_errors()

    def _wanted(self, header: list[str]) -> list[str]:
        """Resolve same-named columns (auto_map) against `header`; the columns to read."""
        spec = self.spec
        if spec.auto_map:
            taken = set(spec.columns) | set(spec.constants)
            used = set(spec.columns.values())
            auto = {}
            for name in header:
                fld = name.strip().lower()
                if fld in FIELDS and fld not in taken and name not in used:
                    auto[fld] = name
                    taken.add(fld)
            self.spec = spec = dataclasses.replace(
                spec, columns={**spec.columns, **auto}, auto_map=False
            )
            spec.validate()
            self._converter, self._order = Converter(spec), OrderProof(spec)
            self.parameters = {**self.parameters, "map": dict(spec.columns)}
        missing = [c for c in spec.columns.values() if c not in header]
        if missing:
            return missing  # _check_header names them
        return sorted(set(spec.columns.values()), key=header.index)

    def _check_header(self, header: list[str], label: str) -> None:
        seen: set[str] = set()
        for name in header:
            if name in seen:
                raise InputError(f"duplicate column {name!r} in header", file=label, line=1)
            seen.add(name)
        exact = self.spec.exact_header
        if exact is not None and [h.strip().lower() for h in header] != list(exact):
            raise InputError(
                f"unexpected header {','.join(header)!r}; expected {','.join(exact)!r}",
                file=label,
                line=1,
            )
        missing = [c for c in self.spec.columns.values() if c not in seen]
        if missing:
            raise InputError(
                f"missing column(s) {', '.join(map(repr, missing))}; "
                f"the header has {', '.join(map(repr, header))}",
                file=label,
                line=1,
            )
