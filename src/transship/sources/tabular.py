"""Streaming reader for delimited trade files: canonical Arrow batches, every bad cell named.

Generic CSV and CEPII BACI share this reader; they differ only in their `TableSpec`.
Memory is bounded by one parsed block (TRANSSHIP_READ_BLOCK_MB), whatever the file size.
Bad input raises `InputError` naming file, line and column, unless a reject file is given,
in which case every rejected row is written there with its reason and reading goes on.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from transship import reference
from transship.errors import InputError, UsageError
from transship.safepath import check_target, protect
from transship.schema import FLOWS, HS_REVISIONS, SOURCE_COLUMNS, VALUATION_BY_FLOW
from transship.sources.convert import (
    CountryScheme,
    PeriodFormat,
    _add,
    _by_year,
    _Check,
    _const,
    _country_lookup,
    _country_name,
    _decode,
    _empty_to_null,
    _hs,
    _number,
    _per_value,
    _period_per_value,
    _remap,
    _vocab,
)
from transship.sources.sniff import (
    _detect_encoding,
    _read_header,
    _RejectWriter,
)
from transship.sources.streams import _archive_errors, _check_archive, _CountingReader, _Member

# Canonical fields a file column can be mapped onto (everything but source and batch_id).
FIELDS = tuple(c for c in SOURCE_COLUMNS if c != "source")
# Fields whose values are mostly distinct: converted row by row, not per distinct value.
_NUMBERS = ("value_usd", "net_kg", "qty")

FLOW_ALIASES = {
    **{f: f for f in FLOWS},
    "x": "export",
    "exports": "export",
    "m": "import",
    "imports": "import",
    "rx": "re-export",
    "reexport": "re-export",
    "re-exports": "re-export",
    "rm": "re-import",
    "reimport": "re-import",
    "re-imports": "re-import",
}
# Comtrade classification codes H0..H6 and short forms (HS17) name the same revisions.
HS_REV_ALIASES = {
    alias.lower(): rev
    for i, rev in enumerate(HS_REVISIONS)
    for alias in (rev, rev[2:], f"HS{rev[4:]}", f"H{i}")
}
INPUT_FORMATS = ("csv", "tsv", "parquet", "xlsx")
_SUFFIX_FORMATS = {".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet",
                   ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xlsx", ".ods": "xlsx"}  # fmt: skip


def format_of(path: Path) -> str:
    """The input format a file name says (`.tsv`, `.parquet`, `.xlsx`/`.xls`), else csv."""
    suffixes = [x.lower() for x in path.suffixes]
    for suffix in reversed(suffixes):
        if suffix in _SUFFIX_FORMATS:
            return _SUFFIX_FORMATS[suffix]
    return "csv"


@dataclass(frozen=True)
class TableSpec:
    """How the columns of one file become canonical fields."""

    source: str
    columns: Mapping[str, str]  # canonical field -> input column
    constants: Mapping[str, str] = field(default_factory=dict)  # canonical field -> value
    country_scheme: CountryScheme = "auto"
    period_format: PeriodFormat = "auto"
    zero_pad_hs: bool = False
    value_scale: float = 1.0
    net_kg_scale: float = 1.0
    exact_header: tuple[str, ...] | None = None  # header must be exactly this (case-insensitive)
    # Integer input columns that, read in order, identify a row's natural key (BACI: t,i,j,k).
    # A file strictly increasing in them has unique keys, proven while streaming.
    order_key: tuple[str, ...] = ()
    # Columns named like a canonical field (case-insensitive) are mapped onto it unless the
    # field is mapped or set explicitly.
    auto_map: bool = False
    # field -> {value as written -> canonical value}, applied before conversion (--map-value).
    value_maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Accept national codes of 6-12 digits (CN8, TN VED 10, GTIP 12): each row keeps its
    # code in `hs_national` and the warehouse sums the rows of one HS6 key in the batch.
    national_codes: bool = False
    thousands: str | None = None  # thousands separator of numbers ("," or "." or " ")
    decimal: str = "."  # decimal separator of numbers

    def validate(self) -> None:
        for f in (*self.columns, *self.constants):
            if f not in FIELDS:
                raise UsageError(f"unknown field {f!r}; fields are: {', '.join(FIELDS)}")
        for f in self.value_maps:
            if f not in FIELDS:
                raise UsageError(
                    f"--map-value {f}:...: unknown field; fields are {', '.join(FIELDS)}"
                )
        if self.thousands is not None and self.thousands == self.decimal:
            raise UsageError(f"--thousands and --decimal are both {self.decimal!r}")
        both = set(self.columns) & set(self.constants)
        if both:
            raise UsageError(f"field(s) {sorted(both)} given both as a column and a constant")
        for required in ("reporter", "partner", "hs", "period", "value_usd", "flow"):
            if required not in self.columns and required not in self.constants:
                raise UsageError(
                    f"no column or constant for required field {required!r} "
                    f"(use --map COLUMN={required} or --set {required}=VALUE)"
                )


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
        self._lookups: dict[str, dict[str, str]] = {}
        # True once every batch was read in strictly increasing `spec.order_key` order.
        self.keys_unique = False
        self._last_key: int | None = None
        # Members are read in order and _last_key carries over, so a zip of yearly files
        # in year order is proven as one stream.
        self._sorted = bool(spec.order_key)
        self._shared_seen: set[int] = set()
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

    def batches(self) -> Iterator[pa.RecordBatch]:
        # Compressed inputs are read decompressed: hash the file itself instead.
        whole_file_hash = self._is_zip or self.path.suffix == ".gz"
        hasher = hashlib.sha256()
        if whole_file_hash:
            with open(self.path, "rb") as f:
                self.sha256 = hashlib.file_digest(f, "sha256").hexdigest()
        rejects = _RejectWriter(self.reject_file, self.path) if self.reject_file else None
        completed = False
        try:
            done_before = 0
            if self.input_format in ("parquet", "xlsx"):
                from transship.sources.formats import read_parquet, read_xlsx

                with open(self.path, "rb") as f:
                    self.sha256 = hashlib.file_digest(f, "sha256").hexdigest()
                read = read_parquet if self.input_format == "parquet" else read_xlsx
                for header, raw, lines in read(self.path, self._wanted):
                    self._check_header(header, str(self.path))
                    self.rows_read += raw.num_rows
                    batch = self._convert(raw, str(self.path), lines, rejects, ",")
                    self.bytes_done = self.bytes_total or 0
                    if batch.num_rows:
                        yield batch
                return
            for member in self._members:
                with _archive_errors(member.label), member.open() as raw:
                    counter = _CountingReader(
                        raw, None if whole_file_hash else hasher, ahead=3 * self.block_bytes
                    )
                    stream = io.BufferedReader(cast(Any, counter), buffer_size=1 << 20)
                    try:
                        for batch in self._read_member(member.label, stream, rejects, counter):
                            self.bytes_done = done_before + counter.count
                            yield batch
                    finally:
                        counter.unbound()  # a reader thread still waiting goes on (and ends)
                    self.bytes_done = done_before + counter.count
                done_before += member.size
            if not whole_file_hash:
                self.sha256 = hasher.hexdigest()
            self.keys_unique = self._order_proves_unique()
            completed = True
        finally:
            if rejects:  # a read that failed or stopped leaves the old reject file as it was
                rejects.close(commit=completed)

    # -- one CSV stream ----------------------------------------------------------------
    def _read_member(
        self,
        label: str,
        stream: io.BufferedReader,
        rejects: _RejectWriter | None,
        pace: _CountingReader | None = None,
    ) -> Iterator[pa.RecordBatch]:
        sample = stream.peek(1 << 16)[: 1 << 16]
        encoding = self.encoding or _detect_encoding(sample, label)
        utf8 = encoding.lower().replace("-", "").replace("_", "") in ("utf8", "ascii")
        if pace is not None and not utf8:  # transcoded: a block is not block_bytes of input
            pace.unbound()
        header, delimiter = _read_header(sample, encoding, self.delimiter, label)
        self._check_header(header, label)
        want = self._wanted(header)
        skipped: list[int] = []  # physical line numbers of rows the parser could not split
        parse_errors: list[tuple[int | None, str]] = []

        def on_invalid(row: Any) -> str:
            skipped.append(row.number)
            parse_errors.append(
                (row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}")
            )
            return "skip"

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
                column_types={c: pa.binary() for c in header},
                include_columns=want,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        emitted = 0

        def report_parse_errors() -> None:
            for line, reason in parse_errors:
                if rejects is None:
                    raise InputError(reason, file=label, line=line)
                rejects.write(line, "", reason, "", "")
                self.rows_rejected += 1
            self.rows_read += len(parse_errors)
            parse_errors.clear()

        for raw in reader:
            if pace is not None:
                pace.parsed(self.block_bytes)
            report_parse_errors()
            self.rows_read += raw.num_rows
            # Line of each emitted row: its index + header, shifted past skipped lines.
            shift = np.asarray(skipped, dtype=np.int64) - np.arange(len(skipped))
            base = emitted + 2 + np.arange(raw.num_rows, dtype=np.int64)
            lines = base + np.searchsorted(shift, base, side="right")
            emitted += raw.num_rows
            if not raw.num_rows:
                continue
            batch = self._convert(raw, label, lines, rejects, delimiter)
            if self._sorted:
                self._track_order(batch, raw)
            if batch.num_rows:
                yield batch
        report_parse_errors()

    def _shared_codes(self) -> np.ndarray:
        """Numeric country codes of the scheme that share their ISO code with another."""
        if not hasattr(self, "_shared"):
            by_iso: dict[str, list[int]] = {}
            for code, iso in _country_lookup(self.spec.country_scheme).items():
                if code.isdigit():
                    by_iso.setdefault(iso, []).append(int(code))
            self._shared_iso = {
                c: iso for iso, codes in by_iso.items() if len(codes) > 1 for c in codes
            }
            self._shared = np.array(sorted(self._shared_iso), dtype=np.int64)
        return self._shared

    def _track_order(self, batch: pa.RecordBatch, raw: pa.RecordBatch) -> None:
        """Pack the order-key columns into one int64 per row and check they increase."""
        if batch.num_rows != raw.num_rows:  # rejected rows: fall back to the warehouse check
            self._sorted = False
            return
        packed = np.zeros(raw.num_rows, dtype=np.int64)
        widths = {"t": 10_000, "i": 1_000, "j": 1_000, "k": 1_000_000}
        try:
            by_column = {c: f for f, c in self.spec.columns.items()}
            for name in self.spec.order_key:
                ints = _integers(self._text.get(by_column.get(name, ""), raw.column(name)))
                width = widths[name]
                if name in ("i", "j"):  # codes naming a country another code also names
                    shared = ints[np.isin(ints, self._shared_codes())]
                    if len(shared):
                        self._shared_seen.update(int(c) for c in np.unique(shared))
                if ints.min() < 0 or ints.max() >= width:
                    raise ValueError(name)
                packed = packed * width + ints
        except (pa.ArrowInvalid, ValueError, KeyError):
            self._sorted = False
            return
        if (self._last_key is not None and packed[0] <= self._last_key) or (
            raw.num_rows > 1 and not bool(np.all(packed[1:] > packed[:-1]))
        ):
            self._sorted = False
        self._last_key = int(packed[-1].item())

    def _order_proves_unique(self) -> bool:
        """Strictly increasing raw keys are unique keys unless two codes seen in the file
        name one country (BACI 276 and 280 are both DEU): then the warehouse checks."""
        if not self._sorted:
            return False
        isos = [self._shared_iso[c] for c in self._shared_seen]
        return len(isos) == len(set(isos))

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

    # -- conversion ----------------------------------------------------------------------
    def _convert(
        self,
        raw: pa.RecordBatch,
        label: str,
        lines: np.ndarray,
        rejects: _RejectWriter | None,
        delimiter: str,
    ) -> pa.RecordBatch:
        spec, n = self.spec, raw.num_rows
        checks: list[_Check] = []
        text: dict[str, pa.Array] = {}
        for fld, name in spec.columns.items():

            def decode(a: pa.Array, k: list[_Check], name: str = name) -> pa.Array:
                return _decode(a, name, k)

            if fld in _NUMBERS:  # mostly distinct: decoded row by row
                text[fld] = decode(raw.column(name), checks)
            else:  # repeating: each distinct value decoded (and converted below) once
                text[fld] = _per_value(raw.column(name), decode, checks)
            if fld in spec.value_maps:  # values as written -> canonical, others untouched
                text[fld] = _per_value(text[fld], partial(_remap_checked, spec.value_maps[fld]), [])
        self._text = text  # for _track_order, which reads the key columns' distinct values

        def col(fld: str) -> str:
            return spec.columns.get(fld, f"<{fld}>")

        out: dict[str, pa.Array] = {}
        seps = (spec.thousands, spec.decimal)
        out["source"] = _const(spec.source, n)
        field = self._field
        for fld in ("reporter", "partner"):
            label_ = col(fld)

            def country(a: pa.Array, k: list[_Check], label_: str = label_) -> pa.Array:
                return self._country(a, label_, k)

            out[fld] = field(fld, text, n, checks, country)
        national = spec.national_codes
        full_hs = field(
            "hs", text, n, checks, lambda a, k: _hs(a, col("hs"), spec.zero_pad_hs, k, national)
        )
        if national:
            out["hs"] = _per_value(full_hs, lambda a, k: pc.utf8_slice_codeunits(a, 0, 6), [])
        else:
            out["hs"] = full_hs
        period, inferred_freq, years = _period_per_value(
            text.get("period"),
            spec.constants.get("period"),
            n,
            col("period"),
            spec.period_format,
            checks,
        )
        out["period"] = period
        out["flow"] = field(
            "flow", text, n, checks, lambda a, k: _vocab(a, FLOW_ALIASES, col("flow"), "flow", k)
        )
        if self._given("hs_rev"):
            out["hs_rev"] = field(
                "hs_rev",
                text,
                n,
                checks,
                lambda a, k: _vocab(a, HS_REV_ALIASES, col("hs_rev"), "HS revision", k),
            )
        else:  # the revision in force in the period's year
            out["hs_rev"] = _by_year(years, reference.hs_revision_in_force)
        if self._given("freq"):
            out["freq"] = field(
                "freq",
                text,
                n,
                checks,
                lambda a, k: _vocab(a, {"m": "M", "a": "A"}, col("freq"), "freq", k),
            )
            mismatch = pc.and_(pc.equal(out["freq"], "A"), pc.not_equal(inferred_freq, "A"))
            raw_freq = text.get("freq", text.get("period"))
            _add(checks, col("freq"), mismatch, "annual freq with a monthly period", raw_freq)
        else:
            out["freq"] = inferred_freq
        out["value_usd"] = field(
            "value_usd",
            text,
            n,
            checks,
            lambda a, k: _number(a, col("value_usd"), spec.value_scale, True, k, seps),
        )
        out["net_kg"] = field(
            "net_kg",
            text,
            n,
            checks,
            lambda a, k: _number(a, col("net_kg"), spec.net_kg_scale, False, k, seps),
            pa.float64(),
        )
        out["qty"] = field(
            "qty",
            text,
            n,
            checks,
            lambda a, k: _number(a, col("qty"), 1.0, False, k, seps),
            pa.float64(),
        )
        out["qty_unit"] = field("qty_unit", text, n, checks, lambda a, k: _empty_to_null(a))
        if self._given("valuation"):
            vals = {"fob": "FOB", "cif": "CIF"}
            out["valuation"] = field(
                "valuation",
                text,
                n,
                checks,
                lambda a, k: _vocab(a, vals, col("valuation"), "valuation", k),
            )
        else:  # exporters report FOB, importers CIF
            out["valuation"] = _per_value(
                out["flow"], lambda a, k: _vocab(a, VALUATION_BY_FLOW, col("flow"), "flow", k), []
            )
        names = list(SOURCE_COLUMNS)
        arrays = [out[c] for c in SOURCE_COLUMNS]
        if national:  # the code as written and its line, for the warehouse's sums and errors
            names += ["hs_national", "_line"]
            arrays += [full_hs, pa.array(lines, pa.int64())]
        batch = pa.RecordBatch.from_arrays(arrays, names=names)
        bad = np.zeros(n, dtype=bool)
        for c in checks:
            bad |= c.bad
        if not bad.any():
            return batch
        if rejects is None:
            first = min(checks, key=lambda c: int(np.argmax(c.bad)) if c.bad.any() else n)
            i = int(np.argmax(first.bad))
            value = first.raw[i].as_py()
            raise InputError(
                first.reason,
                file=label,
                line=int(lines[i]),
                column=first.column,
                value=value.decode("utf-8", "replace") if isinstance(value, bytes) else value,
            )
        rows = raw.to_pylist()
        for j in np.flatnonzero(bad):
            c = next(c for c in checks if c.bad[j])
            value = c.raw[int(j)].as_py()
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            fields = (
                v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                for v in rows[j].values()
            )
            rejects.write(int(lines[j]), c.column, c.reason, value, delimiter.join(fields))
        self.rows_rejected += int(bad.sum())
        return batch.filter(pa.array(~bad))

    def _given(self, fld: str) -> bool:
        return fld in self.spec.columns or fld in self.spec.constants

    def _field(
        self,
        fld: str,
        text: dict[str, pa.Array],
        n: int,
        checks: list[_Check],
        convert: Callable[[pa.Array, list[_Check]], pa.Array],
        null_type: pa.DataType | None = None,
    ) -> pa.Array:
        """Convert a mapped column; a constant is converted once and repeated.

        Columns whose values repeat (codes, countries, periods) are converted once per
        distinct value; numbers (`_NUMBERS`), mostly distinct, row by row."""
        if fld in text:
            if fld in _NUMBERS:
                return convert(text[fld], checks)
            return _per_value(text[fld], convert, checks)
        if fld in self.spec.constants:
            value = self.spec.constants[fld]
            problems: list[_Check] = []
            one = convert(pa.array([value], pa.string()), problems)
            if problems or one.null_count:
                reason = problems[0].reason if problems else "empty value"
                raise UsageError(f"--set {fld}={value!r}: {reason}")
            return _const(one[0].as_py(), n)
        return pa.nulls(n, null_type or pa.string())

    def _country(self, a: pa.Array, column: str, checks: list[_Check]) -> pa.Array:
        scheme = self.spec.country_scheme
        if scheme not in self._lookups:
            self._lookups[scheme] = _country_lookup(scheme)
        lookup = self._lookups[scheme]
        s = pc.utf8_upper(pc.utf8_trim_whitespace(a))
        enc = s.dictionary_encode()
        keys = enc.dictionary.to_pylist()
        mapped = pa.array(
            [
                lookup.get(k.lstrip("0") or "0" if k.isdigit() else k)
                or (_country_name(k) if scheme == "auto" else None)
                for k in keys
            ],
            pa.string(),
        )
        iso = pa.DictionaryArray.from_arrays(enc.indices, mapped)  # no per-row strings
        what = "code or name" if scheme == "auto" else f"code ({scheme} codes)"
        _add(checks, column, pc.is_null(iso), f"unknown country {what}", a)
        return iso


def _integers(a: pa.Array) -> np.ndarray:
    """A text column as int64 per row (its distinct values parsed once when encoded)."""
    if isinstance(a, pa.DictionaryArray):
        values = pc.utf8_trim_whitespace(a.dictionary.cast(pa.string())).cast(pa.int64())
        out: np.ndarray = np.asarray(values.to_numpy())[a.indices.to_numpy()]
        return out
    return np.asarray(pc.utf8_trim_whitespace(a.cast(pa.string())).cast(pa.int64()).to_numpy())


def _remap_checked(mapping: Mapping[str, str], a: pa.Array, checks: list[_Check]) -> pa.Array:
    """`_remap` as a converter (it refuses nothing)."""
    return _remap(a, mapping)
