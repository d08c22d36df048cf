"""TurkStat (TÜİK) foreign-trade raw web tables: Turkey's exports and imports by 12-digit GTIP.

The format assumed (a raw table as exported from TurkStat's foreign-trade web query; tests
use a fixture written in this shape, not a downloaded file):

    Dönem;Ticaret Türü;Ülke;GTİP;Kg;Miktar;Ölçü Birimi;Dolar
    2023/01;İhracat;KZ;8542.31.00.00.11;1.250,5;3.000;Adet;1.564.432,75

- `;`-delimited, Windows-1254 (Turkish) or UTF-8 text, one header line;
- `Dönem`: year/month `YYYY/MM`; `Ticaret Türü`: `İhracat` (export) or `İthalat` (import);
- `Ülke`: partner as an ISO 3166 alpha-2 code (or an English name);
- `GTİP`: the 12-digit Turkish code, with or without dots; summed to HS6 in the batch (the
  codes kept in hs_national with `keep_national`);
- numbers with Turkish separators: `.` for thousands, `,` for decimals; `Dolar` in US
  dollars (exports FOB, imports CIF, as TurkStat publishes them).
The reporter is always Turkey (TUR).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from transship.errors import InputError
from transship.sources.registry import Connector, Param, register

COLUMNS = {
    "period": "Dönem",
    "flow": "Ticaret Türü",
    "partner": "Ülke",
    "hs": "GTİP",
    "net_kg": "Kg",
    "qty": "Miktar",
    "qty_unit": "Ölçü Birimi",
    "value_usd": "Dolar",
}
if TYPE_CHECKING:
    from transship.sources.tabular import TabularFile

FLOWS = {"İhracat": "export", "İthalat": "import", "IHRACAT": "export", "ITHALAT": "import"}


def turkstat_file(path: str | Path, *, keep_national: bool = False) -> TabularFile:
    """A TurkStat raw web table (format in the module docstring) as a batch source."""
    from transship.sources.tablespec import TableSpec
    from transship.sources.tabular import TabularFile  # pyarrow: not for --help

    spec = TableSpec(
        source="turkstat",
        columns=COLUMNS,
        constants={"reporter": "TUR"},
        value_maps={"flow": FLOWS},
        national_codes=True,
        thousands=".",
        decimal=",",
    )
    if not Path(path).is_file():
        raise InputError("file not found", file=str(path))
    # Turkish text that is not UTF-8 is Windows-1254: a generic guess may pick 1252 (Ý for İ)
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    try:
        head.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as e:
        encoding = "utf-8" if e.start >= len(head) - 3 else "cp1254"  # cut mid-character
    src = TabularFile(
        path,
        spec,
        delimiter=";",
        encoding=encoding,
        parameters={"keep_national": keep_national, "encoding": encoding},
    )
    src.keep_national = keep_national
    return src


CONNECTOR = register(
    Connector(
        name="turkstat",
        what="TurkStat foreign-trade raw web table (12-digit GTIP, Turkish separators)",
        needs="the exported table; no key",
        command="ingest turkstat",
        capabilities=frozenset({"sums_to_hs6"}),
        open_file=turkstat_file,
        params=(Param("keep_national", bool, False, "Keep the 12-digit codes in hs_national."),),
        file_help="TurkStat raw web table (;-delimited, Dönem;Ticaret Türü;Ülke;GTİP;...).",
    )
)
