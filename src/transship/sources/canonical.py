"""One text batch of a tabular file to canonical columns, every bad cell named.

`convert` turns the columns a `TableSpec` maps (as read: text, or typed numbers on the fast
path) into `SOURCE_COLUMNS`; each converter records a check per refused cell, so the first
bad cell is raised with file, line, column and value, or every bad row goes to the reject
file. A fast-path batch with any bad cell raises `Fallback` instead: the reader re-reads it
as text, so what is refused and how it is named never depends on the path taken.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import numpy as np
import pyarrow as pa

from transship import compute as pc
from transship import reference
from transship.errors import InputError, UsageError
from transship.schema import SOURCE_COLUMNS, VALUATION_BY_FLOW
from transship.sources.convert import (
    _add,
    _by_year,
    _Check,
    _const,
    _country_lookup,
    _country_name,
    _decode,
    _empty_to_null,
    _hs,
    _np,
    _number,
    _per_value,
    _period_per_value,
    _remap,
    _vocab,
)
from transship.sources.sniff import _RejectWriter
from transship.sources.tablespec import FLOW_ALIASES, HS_REV_ALIASES, NUMBERS, TableSpec


class Fallback(Exception):
    """A fast-path batch holds a cell the converters refuse: read it again as text."""


class Converter:
    """Converts the batches of one input under `spec` (country lookups kept between them)."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self._lookups: dict[str, dict[str, str]] = {}
        self.rejected = 0  # rows written to the reject file
        # the decoded text of each mapped field in the last batch (the order check reads it)
        self.text: dict[str, pa.Array] = {}

    def convert(
        self,
        raw: pa.RecordBatch,
        label: str,
        lines: np.ndarray | Callable[[], np.ndarray],
        rejects: _RejectWriter | None,
        delimiter: str,
        *,
        fast: bool = False,
    ) -> pa.RecordBatch:
        """`raw`'s rows as canonical columns; `lines` gives each row's line (for errors; a
        function computing them when asked).

        `fast`: number columns arrive typed (float64) and any refused cell raises `Fallback`.
        """
        spec, n = self.spec, raw.num_rows
        checks: list[_Check] = []
        text: dict[str, pa.Array] = {}
        for fld, name in spec.columns.items():

            def decode(a: pa.Array, k: list[_Check], name: str = name) -> pa.Array:
                return _decode(a, name, k)

            column = raw.column(name)
            if pa.types.is_floating(column.type):  # the fast path parsed it already
                text[fld] = column
            elif fld in NUMBERS:  # mostly distinct: decoded row by row
                text[fld] = decode(column, checks)
            else:  # repeating: each distinct value decoded (and converted below) once
                text[fld] = _per_value(column, decode, checks)
            if fld in spec.value_maps:  # values as written -> canonical, others untouched
                text[fld] = _per_value(text[fld], partial(_remap_checked, spec.value_maps[fld]), [])
        self.text = text

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
        arrays = [_no_null_entries(out[c]) for c in SOURCE_COLUMNS]
        if national:  # the code as written and its line, for the warehouse's sums and errors
            names += ["hs_national", "_line"]
            arrays += [full_hs, _np(np.asarray(_lines(lines), dtype=np.int64))]
        batch = pa.RecordBatch.from_arrays(arrays, names=names)
        bad = np.zeros(n, dtype=bool)
        for c in checks:
            bad |= c.bad
        if not bad.any():
            return batch
        if fast:
            raise Fallback
        at = _lines(lines)
        if rejects is None:
            first = min(checks, key=lambda c: int(np.argmax(c.bad)) if c.bad.any() else n)
            i = int(np.argmax(first.bad))
            value = first.raw[i].as_py()
            raise InputError(
                first.reason,
                file=label,
                line=int(at[i]),
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
            rejects.write(int(at[j]), c.column, c.reason, value, delimiter.join(fields))
        self.rejected += int(bad.sum())
        return pc.filter(batch, pa.array(~bad))

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
        distinct value; numbers (`NUMBERS`), mostly distinct, row by row."""
        if fld in text:
            if fld in NUMBERS:
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
        enc = pc.dictionary_encode(s)
        keys = enc.dictionary.to_pylist()
        mapped = pa.array(
            [
                lookup.get(k.lstrip("0") or "0" if k.isdigit() else k)
                or (_country_name(k) if scheme == "auto" else None)
                for k in keys
            ],
            pa.string(),
        )
        # no per-row strings; indices of `keys`, so in range (no bounds check)
        iso = pa.DictionaryArray.from_arrays(enc.indices, mapped, safe=False)
        what = "code or name" if scheme == "auto" else f"code ({scheme} codes)"
        _add(checks, column, pc.is_null(iso), f"unknown country {what}", a)
        return iso


def _remap_checked(mapping: Mapping[str, str], a: pa.Array, checks: list[_Check]) -> pa.Array:
    """`_remap` as a converter (it refuses nothing)."""
    return _remap(a, mapping)


def _lines(lines: np.ndarray | Callable[[], np.ndarray]) -> np.ndarray:
    return lines() if callable(lines) else lines


def _no_null_entries(a: pa.Array) -> pa.Array:
    """A dictionary array whose dictionary holds null (an unknown country, an empty unit) as
    null rows over a dictionary without: Arrow cannot join batches whose dictionaries differ
    and hold nulls (row groups are cut across batches), so a rejected row's unknown country,
    still in its batch's dictionary, stopped the ingest."""
    if not isinstance(a, pa.DictionaryArray) or not a.dictionary.null_count:
        return a
    valid = np.asarray(pc.is_valid(a.dictionary).to_numpy(zero_copy_only=False), dtype=bool)
    position = np.cumsum(valid, dtype=np.int32) - 1
    remap = pa.array(position, pa.int32(), mask=~valid)
    return pa.DictionaryArray.from_arrays(pc.take(remap, a.indices), pc.filter(a.dictionary, valid))
