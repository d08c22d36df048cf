"""Eurostat Comext (EU member states' trade, CN8, EUR) into the canonical schema (HS6, USD).

Formats read (the kind is told by the file, not its name):
- web "relational view" CSV: REPORTER, PARTNER, PRODUCT, FLOW, STAT_PROCEDURE, PERIOD,
  VALUE_IN_EUR, in its two real variants: quoted codes with labels (`"2-EXPORT"`,
  `"TOTAL-Total"`, `"202208-Aug. 2022"`, `"201952-Jan.-Dec. 2019"`) or labels alone (`EXPORT`,
  `Total`, `Aug. 2024`);
- web xlsx workbooks: one sheet per product ("PRODUCT [PRODUCT]" ... "[2106]"), periods across,
  REPORTER x PARTNER down, `:` for no data;
- bulk files (`full_YYYYMM.dat`, csv): DECLARANT_ISO, PARTNER_ISO, PRODUCT_NC, FLOW (1 import,
  2 export), PERIOD (YYYYMM, YYYY52 annual), VALUE_IN_EUROS, QUANTITY_IN_KG, one row per
  statistical regime (summed);
- long CSV: product_code, reporter, partner, period, value_eur (+ flow, or `--flow`).

Rules: CN8 codes are summed to their HS6 (the first six digits; CN of year Y is built on the HS
revision in force in Y). A six-digit row, where a file has one, is Eurostat's own total and is
used instead of its CN8 children, never added to them. Headings, chapters and TOTAL are
aggregates: left out (counted), or with `all_levels` stored under their own code, never summed
into HS6 rows. Values in EUR become USD at the ECB monthly average rate (reference data
eur_usd_monthly.csv); a period without a rate stops the ingest with the file and line.
Exports are FOB, imports CIF (Eurostat's valuation).
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from transship import reference
from transship.errors import InputError, UsageError
from transship.reference.eurostat import LabelKind, comext_country, usd_per_eur
from transship.schema import SOURCE_COLUMNS
from transship.sources.records import RowsSource

RELATIONAL = ("REPORTER", "PARTNER", "PRODUCT", "FLOW", "PERIOD", "VALUE_IN_EUR")
BULK = ("DECLARANT_ISO", "PARTNER_ISO", "PRODUCT_NC", "FLOW", "PERIOD", "VALUE_IN_EUROS")
LONG = ("product_code", "reporter", "partner", "period", "value_eur")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_FLOWS = {
    "1": "import",
    "import": "import",
    "importation": "import",
    "imports": "import",
    "2": "export",
    "export": "export",
    "exportation": "export",
    "exports": "export",
}
_TOTAL_PROCEDURE = {"t", "total"}


@dataclass
class Raw:
    """One value as read, before aggregation."""

    where: tuple[str, int, str]  # file, line (or row), column to blame
    reporter: str
    partner: str
    product: str  # CN8, HS6, HS4, HS2 or TOTAL
    flow: str
    period: date
    freq: str
    value_eur: float
    net_kg: float | None = None
    qty: float | None = None
    part: str = ""  # statistical regime: rows of one key and different parts are summed


@dataclass
class ComextSummary:
    files: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    cn8_rows: int = 0
    hs6_rows: int = 0

    def notes(self) -> list[str]:
        out = [f"{n:,} {what}" for what, n in sorted(self.skipped.items())]
        if self.cn8_rows:
            out.append(f"{self.cn8_rows:,} CN8 values summed to HS6")
        return out


# -- field parsing -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=65536)
def _code(text: str) -> str:
    """`TOTAL-Total` / `Total` -> TOTAL; `85423190-Electronic ...` -> 85423190; `[2106]` label."""
    t = text.strip()
    m = re.search(r"\[(\w+)\]\s*$", t)
    if m:
        t = m.group(1)
    head = t.split("-", 1)[0].strip()
    if head.upper() == "TOTAL":
        return "TOTAL"
    return head


@functools.lru_cache(maxsize=65536)
def _flow(text: str) -> str | None:
    t = text.strip().lower()
    return _FLOWS.get(t) or _FLOWS.get(t.split("-", 1)[-1].strip()) or _FLOWS.get(t.split("-")[0])


@functools.lru_cache(maxsize=65536)
def _period(text: str) -> tuple[date, str] | None:
    """`202208-Aug. 2022`, `Aug. 2024`, `2020-02`, `202001`, `201952-Jan.-Dec. 2019`, `2019`."""
    t = text.strip()
    m = re.match(r"^(\d{4})-?(\d{2})(?:\b|-|$)", t)
    if m:
        y, mm = int(m.group(1)), int(m.group(2))
        if mm == 52:
            return date(y, 1, 1), "A"
        if 1 <= mm <= 12:
            return date(y, mm, 1), "M"
        return None
    m = re.match(r"^jan\.?-dec\.?\s+(\d{4})$", t, re.IGNORECASE)
    if m:
        return date(int(m.group(1)), 1, 1), "A"
    m = re.match(r"^([A-Za-z]{3})[a-z]*\.?\s+(\d{4})$", t)
    if m and m.group(1).lower() in _MONTHS:
        return date(int(m.group(2)), _MONTHS[m.group(1).lower()], 1), "M"
    if re.match(r"^\d{4}$", t):
        return date(int(t), 1, 1), "A"
    return None


def _number(text: Any) -> float | None:
    if text is None:
        return None
    if isinstance(text, int | float):
        return float(text)
    t = str(text).strip().replace(" ", "")
    if t in ("", ":", "-", "NA"):
        return None  # Eurostat's "not available"
    return float(t)


# -- readers ------------------------------------------------------------------------------------
def _open_text(path: Path) -> io.TextIOBase:
    raw = path.read_bytes()[:4]
    if raw[:2] == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _csv_rows(path: Path, flow: str | None) -> Iterator[Raw]:
    with _open_text(path) as fh:
        first = fh.readline()
        delim = max((",", ";", "\t", "|"), key=first.count)
        header = [h.strip() for h in next(csv.reader([first], delimiter=delim))]
        reader = csv.reader(fh, delimiter=delim)
        name = str(path)
        if all(c in header for c in RELATIONAL):
            yield from _relational(reader, header, name)
        elif all(c in header for c in BULK):
            yield from _bulk(reader, header, name)
        elif all(c in header for c in LONG):
            yield from _long(reader, header, name, flow)
        else:
            raise InputError(
                "not a Comext file: expected the relational-view columns "
                f"({', '.join(RELATIONAL)}), the bulk columns ({', '.join(BULK)}) or "
                f"{', '.join(LONG)}; the header has {', '.join(header)}",
                file=name,
                line=1,
            )


def _fields(
    reader: Iterator[list[str]], header: list[str], name: str
) -> Iterator[tuple[int, dict[str, str]]]:
    for i, row in enumerate(reader, start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(f"expected {len(header)} fields, found {len(row)}", file=name, line=i)
        yield i, dict(zip(header, row, strict=True))


def _required(name: str, line: int, column: str, value: str, parsed: Any, what: str) -> Any:
    if parsed is None:
        raise InputError(f"not {what}", file=name, line=line, column=column, value=value)
    return parsed


def _value(name: str, line: int, column: str, value: str) -> float | None:
    try:
        v = _number(value)
    except ValueError:
        raise InputError("not a number", file=name, line=line, column=column, value=value) from None
    if v is not None and v < 0:
        raise InputError("negative value", file=name, line=line, column=column, value=value)
    return v


def _relational(reader: Iterator[list[str]], header: list[str], name: str) -> Iterator[Raw]:
    for line, r in _fields(reader, header, name):
        proc = _code(r.get("STAT_PROCEDURE", "T")).lower()
        if proc not in _TOTAL_PROCEDURE:
            continue  # a procedure breakdown: its total row carries the value
        value = _value(name, line, "VALUE_IN_EUR", r["VALUE_IN_EUR"])
        if value is None:
            continue
        period, freq = _required(
            name, line, "PERIOD", r["PERIOD"], _period(r["PERIOD"]), "a period"
        )
        yield Raw(
            (name, line, "REPORTER"),
            r["REPORTER"],
            r["PARTNER"],
            _code(r["PRODUCT"]),
            _required(name, line, "FLOW", r["FLOW"], _flow(r["FLOW"]), "a flow (IMPORT/EXPORT)"),
            period,
            freq,
            value,
        )


def _bulk(reader: Iterator[list[str]], header: list[str], name: str) -> Iterator[Raw]:
    for line, r in _fields(reader, header, name):
        value = _value(name, line, "VALUE_IN_EUROS", r["VALUE_IN_EUROS"])
        if value is None:
            continue
        period, freq = _required(
            name, line, "PERIOD", r["PERIOD"], _period(r["PERIOD"]), "a period"
        )
        yield Raw(
            (name, line, "DECLARANT_ISO"),
            r["DECLARANT_ISO"],
            r["PARTNER_ISO"],
            _code(r["PRODUCT_NC"]),
            _required(name, line, "FLOW", r["FLOW"], _flow(r["FLOW"]), "a flow (1 or 2)"),
            period,
            freq,
            value,
            net_kg=_value(name, line, "QUANTITY_IN_KG", r.get("QUANTITY_IN_KG", "")),
            part=r.get("STAT_REGIME", ""),
        )


def _long(
    reader: Iterator[list[str]], header: list[str], name: str, flow: str | None
) -> Iterator[Raw]:
    if "flow" not in header and flow is None:
        raise UsageError(f"{name} has no flow column: give --flow export or --flow import")
    for line, r in _fields(reader, header, name):
        value = _value(name, line, "value_eur", r["value_eur"])
        if value is None:
            continue
        f = _flow(r["flow"]) if "flow" in header else flow
        period, freq = _required(
            name, line, "period", r["period"], _period(r["period"]), "a period"
        )
        yield Raw(
            (name, line, "reporter"),
            r["reporter"],
            r["partner"],
            _code(r["product_code"]),
            _required(name, line, "flow", r.get("flow", ""), f, "a flow"),
            period,
            freq,
            value,
        )


def _xlsx_rows(path: Path) -> Iterator[Raw]:
    import warnings

    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency
        raise UsageError("reading xlsx needs openpyxl: pip install openpyxl") from None
    name = str(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Workbook contains no default style"
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            if ws.title in ("Summary", "Structure"):
                continue
            ws.reset_dimensions()  # Comext workbooks declare a wrong used range
            yield from _sheet(ws.iter_rows(values_only=True), f"{name} [{ws.title}]")
    finally:
        wb.close()


def _sheet(rows: Iterator[tuple[Any, ...]], name: str) -> Iterator[Raw]:
    product = flow = None
    periods: list[tuple[int, date, str]] = []
    data = False
    for line, row in enumerate(rows, start=1):
        cells = ["" if c is None else c for c in row]
        head = str(cells[0]).strip() if cells else ""
        if not data:
            if head.startswith("PRODUCT") and len(cells) > 2:
                product = _code(str(cells[2]))
            elif head == "FLOW" and len(cells) > 2:
                flow = _flow(str(cells[2]))
            elif head == "INDICATORS" and len(cells) > 2 and "EURO" not in str(cells[2]).upper():
                raise InputError(
                    "only VALUE_IN_EUROS sheets are read", file=name, line=line, value=str(cells[2])
                )
            elif head == "TIME":
                periods = []
                for j, c in enumerate(cells[2:], start=2):
                    p = _period(str(c)) if c != "" else None
                    if p:
                        periods.append((j, *p))
            elif head.startswith("REPORTER"):
                if product is None or flow is None or not periods:
                    raise InputError(
                        "sheet lacks its PRODUCT, FLOW or TIME rows", file=name, line=line
                    )
                data = True
            continue
        if head == "" or len(cells) < 2 or str(cells[1]).strip() == "":
            break  # the data block ends at the first blank row (footnotes follow)
        for j, period, freq in periods:
            raw = cells[j] if j < len(cells) else ""
            try:
                v = _number(raw)
            except ValueError:
                raise InputError(
                    "not a number", file=name, line=line, column=f"col {j + 1}", value=str(raw)
                ) from None
            if v is None:
                continue
            assert product is not None and flow is not None
            yield Raw((name, line, "REPORTER"), head, str(cells[1]), product, flow, period, freq, v)


def read_raw(path: str | Path, *, flow: str | None = None) -> Iterator[Raw]:
    """Every value of a Comext file as read (no aggregation, EUR)."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"no such file: {p}")
    if p.read_bytes()[:2] == b"PK":
        if p.suffix.lower() not in (".xlsx", ".xlsm"):
            raise InputError("zip archives are not read; unpack the Comext file first", file=str(p))
        return _xlsx_rows(p)
    return _csv_rows(p, flow)


# -- aggregation --------------------------------------------------------------------------------
def comext_source(
    paths: Sequence[str | Path],
    *,
    flow: str | None = None,
    all_levels: bool = False,
) -> tuple[RowsSource, ComextSummary]:
    """All `paths` as one canonical batch source (HS6, USD), and what was left out."""
    if flow is not None and flow not in ("export", "import"):
        raise UsageError(f"--flow {flow!r}: expected export or import")
    summary = ComextSummary()
    digest = hashlib.sha256()
    Key = tuple[str, str, str, str, date, str]  # reporter, partner, flow, hs, period, freq
    hs6: dict[Key, list[Any]] = {}
    cn8: dict[Key, list[Any]] = {}
    other: dict[Key, list[Any]] = {}
    seen: set[int] = set()  # hashes of what was read: one extract given twice is refused
    places: dict[str, tuple[LabelKind, str | None]] = {}
    read = 0
    for path in paths:
        summary.files.append(str(path))
        digest.update(Path(path).read_bytes())
        for raw in read_raw(path, flow=flow):
            read += 1
            file, line, column = raw.where
            dup = hash(
                (raw.reporter, raw.partner, raw.product, raw.flow, raw.period, raw.freq, raw.part)
            )
            if dup in seen:
                raise InputError(
                    "the same reporter, partner, product, flow and period were read before "
                    "(in this or an earlier file); give each Comext extract once",
                    file=file,
                    line=line,
                )
            seen.add(dup)
            kinds = []
            for label, col in ((raw.reporter, column), (raw.partner, "PARTNER")):
                if label not in places:
                    try:
                        places[label] = comext_country(label)
                    except reference.ReferenceDataError as e:
                        raise InputError(
                            str(e), file=file, line=line, column=col, value=label
                        ) from None
                kinds.append(places[label])
            if any(k == "aggregate" for k, _ in kinds):
                summary.skipped[
                    "rows of country aggregates (EU, euro area, extra-EU) left out"
                ] += 1
                continue
            if any(iso is None for _, iso in kinds):
                summary.skipped["rows of partners without an ISO code left out"] += 1
                continue
            rep, par = kinds[0][1], kinds[1][1]
            assert rep is not None and par is not None
            code = raw.product
            if len(code) == 8 and code.isdigit():
                target, hs = cn8, code[:6]
                summary.cn8_rows += 1
            elif len(code) == 6 and code.isdigit():
                target, hs = hs6, code
                summary.hs6_rows += 1
            elif code == "TOTAL" or (len(code) in (2, 4) and code.isdigit()):
                if not all_levels:
                    level = "TOTAL" if code == "TOTAL" else f"{len(code)}-digit"
                    summary.skipped[f"aggregate product rows ({level}) left out"] += 1
                    continue
                target, hs = other, code
            else:
                raise InputError(
                    "not a CN8, HS6, heading or TOTAL code",
                    file=file,
                    line=line,
                    column="PRODUCT",
                    value=code,
                )
            key = (rep, par, raw.flow, hs, raw.period, raw.freq)
            acc = target.setdefault(key, [0.0, None, raw.where])
            acc[0] += raw.value_eur
            if raw.net_kg is not None:
                acc[1] = (acc[1] or 0.0) + raw.net_kg
    overridden = sum(1 for k in cn8 if k in hs6)
    if overridden:
        summary.skipped["HS6 sums of CN8 rows replaced by the file's own HS6 row (not added)"] += (
            overridden
        )
    merged = {**cn8, **hs6, **other}
    del seen, cn8, hs6, other
    cols: dict[str, list[Any]] = {c: [] for c in SOURCE_COLUMNS}
    rates: dict[tuple[date, str], float] = {}
    for (rep, par, fl, hs, period, freq), (eur, kg, where) in merged.items():
        rate = rates.get((period, freq))
        if rate is None:
            found = usd_per_eur(period, freq)
            if found is None:
                raise InputError(
                    f"no EUR/USD rate for {period:%Y-%m}{' (a full year)' if freq == 'A' else ''}"
                    " in the shipped ECB table (reference/data/eur_usd_monthly.csv)",
                    file=where[0],
                    line=where[1],
                    column="PERIOD",
                    value=f"{period:%Y-%m}",
                )
            rate = rates[(period, freq)] = found
        for c, v in (
            ("reporter", rep),
            ("partner", par),
            ("flow", fl),
            ("hs", hs),
            ("hs_rev", reference.hs_revision_in_force(period.year)),
            ("period", period),
            ("freq", freq),
            ("value_usd", eur * rate),
            ("net_kg", kg),
            ("valuation", "FOB" if fl == "export" else "CIF"),
        ):
            cols[c].append(v)
    n = len(merged)
    cols["source"] = ["comext"] * n
    cols["qty"] = [None] * n
    cols["qty_unit"] = [None] * n
    names = [Path(p).name for p in paths]
    label = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    src = RowsSource(
        "comext",
        label,
        columns=cols,
        parameters={
            "files": [str(p) for p in paths],
            "flow": flow,
            "all_levels": all_levels,
            "currency": "EUR -> USD at ECB monthly averages (eur_usd_monthly.csv)",
            "skipped": dict(summary.skipped),
        },
        sha256=digest.hexdigest(),
        rows_read=read,
        keys_unique=True,  # built from dicts keyed by the natural key
    )
    return src, summary


__all__ = ["ComextSummary", "Raw", "comext_source", "read_raw"]
