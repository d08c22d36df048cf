"""Vectorised converters of the streaming reader: Arrow text columns to canonical values.

Each converter appends a `_Check` (a bool mask per row and a reason) for the cells it refuses,
so the reader can name the first bad cell (file, line, column) or reject the rows.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from transship import compute as pc
from transship import reference
from transship.sources.tablespec import CountryScheme, PeriodFormat

NULL_TOKENS = pa.array(["", "NA", "N/A", "NULL", "null", "NaN", "nan"])
_NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


@dataclass
class _Check:
    column: str
    bad: np.ndarray  # bool per row
    reason: str
    raw: pa.Array


# -- vectorised converters ----------------------------------------------------------------
def _add(
    checks: list[_Check], column: str, mask: pa.Array, reason: str, raw: pa.Array | None
) -> None:
    if raw is None or not pc.any(mask).as_py():  # the common case: no row to name
        return  # (a per-row bool array is made only for a check that found something)
    bad = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
    checks.append(_Check(column, bad, reason, raw))


# Fields whose values repeat (countries, codes, periods, vocabularies): converted once per
# distinct value, not once per row. The converters are elementwise, so the result is the same.
_FEW_DISTINCT = 4  # convert per value when distinct values <= rows / this


def _per_value(
    a: pa.Array,
    convert: Callable[[pa.Array, list[_Check]], pa.Array],
    checks: list[_Check],
) -> pa.Array:
    """`convert(a, checks)`, run on `a`'s distinct values and expanded back to its rows.

    Checks refer to rows (their masks are taken back through the indices) and keep `a` as
    the raw value. A column with nulls or with mostly distinct values is converted directly.
    """
    if isinstance(a, pa.DictionaryArray):
        enc = a
    elif a.null_count or len(a) < 2 * _FEW_DISTINCT:
        return convert(a, checks)
    else:
        enc = pc.dictionary_encode(a)
        if len(enc.dictionary) * _FEW_DISTINCT > len(a):
            return convert(a, checks)
    if enc.indices.null_count:
        return convert(a, checks)
    index = enc.indices.to_numpy()
    found: list[_Check] = []
    values = convert(enc.dictionary, found)
    if len(values) != len(enc.dictionary):  # _expand's indices skip Arrow's bounds check
        raise ValueError(f"a converter gave {len(values)} values for {len(enc.dictionary)}")
    for c in found:  # masks over distinct values -> masks over rows
        checks.append(_Check(c.column, c.bad[index], c.reason, a))
    return _expand(values, enc.indices)


def _expand(values: pa.Array, indices: pa.Array) -> pa.Array:
    """Per-value results back to rows: strings stay dictionary-encoded (no per-row copy).

    Indices come from dictionary encoding and the converters are elementwise, so they are in
    range: the dictionary arrays here skip pyarrow's per-row bounds check (`safe=False`)."""
    if isinstance(values, pa.DictionaryArray):
        return pa.DictionaryArray.from_arrays(
            pc.take(values.indices, indices), values.dictionary, safe=False
        )
    if pa.types.is_string(values.type) or pa.types.is_binary(values.type):
        return pa.DictionaryArray.from_arrays(indices, values, safe=False)
    return pc.take(values, indices)


def _np(a: np.ndarray, type_: pa.DataType | None = None) -> pa.Array:
    """`pa.array(a)` for a 1-d bool or fixed-width number array (`type_`: another type of
    the same width), without pyarrow's look for a numpy masked array, which imports numpy.ma
    (20-40 ms) at the first conversion of a numpy array."""
    if a.dtype == np.bool_:
        bits = np.packbits(a, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(a), [None, pa.py_buffer(bits)])
    a = np.ascontiguousarray(a)
    return pa.Array.from_buffers(
        type_ or pa.from_numpy_dtype(a.dtype), len(a), [None, pa.py_buffer(a)]
    )


def _const(value: object, n: int) -> pa.Array:
    """A constant column as a one-value dictionary array: no per-row strings."""
    return pa.DictionaryArray.from_arrays(
        _np(np.zeros(n, dtype=np.int32)), pa.array([value]), safe=False
    )


def _decode(a: pa.Array, column: str, checks: list[_Check]) -> pa.Array:
    try:
        return pc.cast(a, pa.string())
    except pa.ArrowInvalid:  # find the rows whose bytes are not UTF-8, keep the rest
        values = a.to_pylist()
        bad = np.zeros(len(values), dtype=bool)
        for i, v in enumerate(values):
            try:
                v.decode("utf-8")
            except UnicodeDecodeError:
                bad[i] = True
        checks.append(
            _Check(column, bad, "undecodable bytes (not valid in the file's encoding)", a)
        )
        return pc.cast(pc.if_else(pa.array(bad), pa.scalar(b"", pa.binary()), a), pa.string())


def _empty_to_null(a: pa.Array) -> pa.Array:
    s = pc.utf8_trim_whitespace(a)
    return pc.if_else(pc.is_in(s, value_set=NULL_TOKENS), pa.scalar(None, pa.string()), s)


def _number(
    a: pa.Array,
    column: str,
    scale: float,
    required: bool,
    checks: list[_Check],
    seps: tuple[str | None, str] = (None, "."),
) -> pa.Array:
    thousands, decimal = seps
    if pa.types.is_floating(a.type):  # parsed as numbers by the reader (its fast path)
        return _number_checks(a, a, column, scale, required, checks)
    num = _clean_numbers(a) if thousands is None and decimal == "." else None
    if num is not None:
        return _number_checks(num, a, column, scale, required, checks)
    s = _empty_to_null(a)
    if thousands:  # "1.564.432" / "1,200" / "1 200": digits grouped by three
        grouped = rf"^[+-]?\d{{1,3}}({re.escape(thousands)}\d{{3}})+({re.escape(decimal)}\d*)?$"
        has = pc.fill_null(pc.match_substring(s, thousands), False)
        wrong = pc.and_(has, pc.invert(pc.fill_null(pc.match_substring_regex(s, grouped), False)))
        _add(
            checks,
            column,
            wrong,
            f"thousands separator {thousands!r} not between groups of three digits",
            a,
        )
        s = pc.replace_substring(s, thousands, "")
    if decimal != ".":
        _add(
            checks,
            column,
            pc.match_substring(s, "."),
            f"'.' in a number whose decimal separator is {decimal!r}",
            a,
        )
        s = pc.replace_substring(s, decimal, ".")
    try:
        num = pc.cast(s, pa.float64())
    except pa.ArrowInvalid:
        ok = pc.match_substring_regex(s, _NUMBER_RE)
        not_number = pc.and_(pc.is_valid(s), pc.invert(pc.fill_null(ok, False)))
        _add(checks, column, not_number, "not a number", a)
        num = pc.cast(pc.if_else(not_number, pa.scalar(None, pa.string()), s), pa.float64())
    return _number_checks(num, a, column, scale, required, checks)


def _clean_numbers(a: pa.Array) -> pa.Array | None:
    """`a` as numbers if every cell is a plain number (the common case), else None.

    Arrow's cast refuses blanks, null tokens and surrounding spaces, so a column it accepts
    needs none of `_empty_to_null`'s work; NaN is looked for because "NaN" is a null token.
    """
    if a.null_count:
        return None
    try:
        pc.cast(a[:1024], pa.float64())  # a failed cast costs a whole one: try a sample first
        num = pc.cast(a, pa.float64())
    except pa.ArrowInvalid:
        return None
    return None if pc.any(pc.is_nan(num)).as_py() else num


def _number_checks(
    num: pa.Array, a: pa.Array, column: str, scale: float, required: bool, checks: list[_Check]
) -> pa.Array:
    if scale != 1.0:  # scale first: 1e308 x 1000 is inf, and must be refused as such
        num = pc.multiply(num, scale)
    _add(checks, column, pc.invert(pc.is_finite(num)), "not a finite number", a)
    if required:
        _add(checks, column, pc.is_null(num), "missing value", a)
    _add(checks, column, pc.less(num, 0), "negative value", a)
    return num


def _hs(
    a: pa.Array, column: str, zero_pad: bool, checks: list[_Check], national: bool = False
) -> pa.Array:
    s = pc.utf8_trim_whitespace(a)
    if national:  # national codes are often written with dots or spaces: 8542.31.00.00.00
        s = pc.replace_substring_regex(s, r"[. ]", "")
    if zero_pad:  # numeric exports drop the leading zero of chapters 01-09
        length = pc.utf8_length(s)
        short = pc.and_(pc.greater(length, 0), pc.less(length, 6))
        s = pc.if_else(short, pc.utf8_lpad(s, 6, "0"), s)
    pattern = r"^[0-9]{6,12}$" if national else r"^[0-9]{6}$"
    ok = pc.fill_null(pc.match_substring_regex(s, pattern), False)
    # utf8_is_decimal accepts any script's digits (٨٥٤٢٣١): name them apart, never store them
    foreign = pc.and_(
        pc.fill_null(pc.utf8_is_decimal(s), False),
        pc.fill_null(pc.invert(pc.string_is_ascii(s)), False),
    )
    _add(checks, column, foreign, "HS code has non-ASCII digits", a)
    what = "HS code is not 6-12 digits" if national else "HS code is not 6 digits"
    _add(checks, column, pc.and_(pc.invert(ok), pc.invert(foreign)), what, a)
    return s


def _remap(a: pa.Array, mapping: Mapping[str, str]) -> pa.Array:
    enc = pc.dictionary_encode(pc.utf8_trim_whitespace(a))
    keys = enc.dictionary.to_pylist()
    values = pa.array([mapping.get(k, k) if k is not None else None for k in keys], pa.string())
    return pc.cast(pa.DictionaryArray.from_arrays(enc.indices, values), pa.string())


@functools.lru_cache(maxsize=4096)
def _country_name(text: str) -> str | None:
    """A country's English name or alias, as screening reads them (the shared country index)."""
    try:
        return reference.country(text).iso3
    except reference.ReferenceDataError:
        return None


def _vocab(
    a: pa.Array, aliases: Mapping[str, str], column: str, what: str, checks: list[_Check]
) -> pa.Array:
    enc = pc.dictionary_encode(pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(a, pa.string()))))
    mapped = pa.array([aliases.get(k) for k in enc.dictionary.to_pylist()], pa.string())
    out = pa.DictionaryArray.from_arrays(enc.indices, mapped, safe=False)
    allowed = sorted(set(aliases.values()))
    _add(checks, column, pc.is_null(out), f"unknown {what}; expected one of {allowed}", a)
    return out


def _period(
    a: pa.Array | None,
    constant: str | None,
    n: int,
    column: str,
    fmt: PeriodFormat,
    checks: list[_Check],
) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Periods as first-of-month dates, their inferred freq, and their years."""
    if a is None:
        a = pa.array([constant] * n, pa.string())
    s = pc.utf8_trim_whitespace(a)
    if fmt == "year":
        ok = pc.and_(pc.equal(pc.utf8_length(s), 4), pc.utf8_is_decimal(s))
        digits = s
    else:  # YYYY, YYYYMM, YYYY-MM, YYYY-MM-01
        # YYYY/MM as national tables write it (TurkStat) reads as YYYY-MM
        s = pc.replace_substring_regex(s, r"^(\d{4})/(\d{2})$", r"\1-\2")
        ok = pc.match_substring_regex(s, r"^\d{4}(-?(0[1-9]|1[0-2])(-?01)?)?$")
        digits = pc.replace_substring(s, "-", "")
    ok_np = np.asarray(pc.fill_null(ok, False).to_numpy(zero_copy_only=False), dtype=bool)
    digits = pc.if_else(_np(ok_np), digits, "197001")
    year = pc.cast(pc.utf8_slice_codeunits(digits, 0, 4), pa.int32()).to_numpy()
    length = pc.utf8_length(digits).to_numpy()
    month = np.ones(n, dtype=np.int32)
    if fmt != "year":
        padded = pc.utf8_rpad(digits, 6, "0")  # YYYY -> YYYY00, month taken as 1 below
        parsed = pc.cast(pc.utf8_slice_codeunits(padded, 4, 6), pa.int32()).to_numpy()
        month = np.where(length >= 6, parsed, 1).astype(np.int32)
    year_ok = (year >= 1950) & (year <= 2100)
    bad = ~ok_np | ~year_ok
    if bad.any():
        reason = "not a period (YYYY, YYYYMM, YYYY-MM, YYYY/MM or YYYY-MM-01, 1950-2100)"
        checks.append(_Check(column, bad, reason, a))
    months = ((year.astype(np.int64) - 1970) * 12 + (month - 1)).astype("datetime64[M]")
    dates = _np(months.astype("datetime64[D]").astype(np.int64).astype(np.int32), pa.date32())
    freq = pa.DictionaryArray.from_arrays(
        _np(np.where(length == 4, 1, 0).astype(np.int32)), pa.array(["M", "A"]), safe=False
    )
    return dates, freq, year


def _period_per_value(
    a: pa.Array | None,
    constant: str | None,
    n: int,
    column: str,
    fmt: PeriodFormat,
    checks: list[_Check],
) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """`_period` run on the distinct periods (a file holds a few) and expanded to rows."""
    if a is None:  # a constant period: one value, repeated
        a = pa.DictionaryArray.from_arrays(
            _np(np.zeros(n, dtype=np.int32)), pa.array([constant], pa.string()), safe=False
        )
    if isinstance(a, pa.DictionaryArray):
        enc = a
    elif a.null_count:
        return _period(a, None, n, column, fmt, checks)
    else:
        enc = pc.dictionary_encode(a)
        if len(enc.dictionary) * _FEW_DISTINCT > n:
            return _period(a, None, n, column, fmt, checks)
    if enc.indices.null_count:  # a null index has no distinct value to stand for it
        return _period(pc.take(enc.dictionary, enc.indices), None, n, column, fmt, checks)
    found: list[_Check] = []
    dates, freq, years = _period(enc.dictionary, None, len(enc.dictionary), column, fmt, found)
    index = enc.indices.to_numpy()
    for c in found:
        checks.append(_Check(c.column, c.bad[index], c.reason, a))
    freq_rows = pa.DictionaryArray.from_arrays(
        pc.take(freq.indices, enc.indices), freq.dictionary, safe=False
    )
    return pc.take(dates, enc.indices), freq_rows, years[index]


def _by_year(years: np.ndarray, per_year: Callable[[int], str]) -> pa.Array:
    uniq, inverse = np.unique(years, return_inverse=True)
    values = pa.array([per_year(int(y)) for y in uniq])
    return pa.DictionaryArray.from_arrays(_np(inverse.astype(np.int32)), values, safe=False)


def _country_lookup(scheme: CountryScheme) -> dict[str, str]:
    if scheme != "auto":
        return {k.upper(): v for k, v in reference.country_lookup(scheme).items()}
    # auto: alpha-3 and alpha-2 by their letters, numbers as UN Comtrade codes
    merged = {k.upper(): v for k, v in reference.country_lookup("comtrade").items()}
    merged.update({k.upper(): v for k, v in reference.country_lookup("iso2").items()})
    merged.update({k.upper(): v for k, v in reference.country_lookup("iso3").items()})
    return merged
