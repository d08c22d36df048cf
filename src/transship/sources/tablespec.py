"""How the columns of one delimited, Parquet or spreadsheet file become canonical fields.

A `TableSpec` says which input column (or constant) feeds each canonical field and how its
values are written; the readers (tabular.py) and converters (canonical.py) follow it.
Kept free of pyarrow, so the CLI can build a spec without loading it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from transship.errors import UsageError
from transship.schema import FLOWS, HS_REVISIONS, SOURCE_COLUMNS

CountryScheme = Literal["auto", "iso3", "iso2", "m49", "comtrade", "baci"]
PeriodFormat = Literal["auto", "year"]

# Canonical fields a file column can be mapped onto (everything but source and batch_id).
FIELDS = tuple(c for c in SOURCE_COLUMNS if c != "source")
# Fields whose values are mostly distinct: converted row by row, not per distinct value.
NUMBERS = ("value_usd", "net_kg", "qty")

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
