"""Facts for reading Eurostat Comext: EUR/USD monthly rates and Comext country labels."""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from transship.reference._load import (
    ReferenceDataError,
    fail,
    read_csv,
    resolve_dir,
    validate,
)
from transship.reference.countries import _name_index

RATES_FILE = "eur_usd_monthly.csv"
NAMES_FILE = "comext_names.csv"


class _Rate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    usd_per_eur: float = Field(gt=0.5, lt=2.0)  # the euro has traded between 0.82 and 1.60
    days: int = Field(ge=1, le=23)


@functools.cache
def _rates(data_dir: Path) -> dict[tuple[int, int], tuple[float, int]]:
    path = data_dir / RATES_FILE
    out: dict[tuple[int, int], tuple[float, int]] = {}
    for line, row in read_csv(path, ("month", "usd_per_eur", "days")):
        r = validate(path, line, _Rate, row)
        key = (int(r.month[:4]), int(r.month[5:]))
        if key in out:
            raise fail(path, line, f"month {r.month} given twice")
        out[key] = (r.usd_per_eur, r.days)
    return out


def usd_per_eur(
    period: dt.date, freq: str = "M", *, data_dir: Path | str | None = None
) -> float | None:
    """US dollars per euro for a month (its ECB monthly average) or a year (the average of
    its daily rates, from the monthly averages weighted by their days); None if unknown."""
    rates = _rates(resolve_dir(data_dir))
    if freq == "M":
        hit = rates.get((period.year, period.month))
        return hit[0] if hit else None
    months = [rates.get((period.year, m)) for m in range(1, 13)]
    if any(m is None for m in months):
        return None
    known = [m for m in months if m is not None]
    return sum(r * d for r, d in known) / sum(d for _, d in known)


def rate_months(*, data_dir: Path | str | None = None) -> tuple[str, str]:
    """First and last month with a rate."""
    keys = sorted(_rates(resolve_dir(data_dir)))
    return f"{keys[0][0]}-{keys[0][1]:02d}", f"{keys[-1][0]}-{keys[-1][1]:02d}"


LabelKind = Literal["country", "unallocated", "aggregate", "skip"]


class ComextLabel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    label: str = Field(min_length=1)
    iso3: str = Field(pattern=r"^([A-Z][A-Z0-9]{2})?$")
    kind: LabelKind
    note: str = ""


@functools.cache
def _labels(data_dir: Path) -> dict[str, ComextLabel]:
    path = data_dir / NAMES_FILE
    index = _name_index(data_dir)
    out: dict[str, ComextLabel] = {}
    for line, row in read_csv(path, ("label", "iso3", "kind", "note")):
        item = validate(path, line, ComextLabel, row)
        if (item.kind in ("country", "unallocated")) != bool(item.iso3):
            raise fail(
                path, line, f"kind {item.kind} {'needs' if not item.iso3 else 'takes no'} iso3"
            )
        if item.iso3 and item.iso3.casefold() not in index:
            raise fail(path, line, f"iso3 {item.iso3!r} is not in countries.csv")
        out[_fold(item.label)] = item
    return out


def _fold(label: str) -> str:
    return " ".join(label.replace("\u2019", "'").split()).casefold()


_NOTE = re.compile(r"^(.*?)\s*\((.*)\)\s*$")
# Eurostat names its country aggregates by these prefixes, with member lists that change.
_AGGREGATE = re.compile(
    r"^(European Union|Euro area|Extra-EU|Intra-EU|Union européenne|Zone euro|Extra-UE|Intra-UE)",
    re.IGNORECASE,
)


@functools.cache
def _resolve(label: str, data_dir: Path) -> tuple[LabelKind, str | None]:
    table = _labels(data_dir)
    hit = table.get(_fold(label))
    if hit is not None:
        return hit.kind, hit.iso3 or None
    if _AGGREGATE.match(label):
        return "aggregate", None
    index = _name_index(data_dir)
    candidates = [label]
    m = _NOTE.match(label)
    if m:  # "France (incl. ...)" -> France; "Belarus (Belorussia)" -> Belarus, then Belorussia
        candidates += [m.group(1), m.group(2)]
    for c in candidates:
        iso = index.get(_fold(c))
        if iso:
            return "country", iso
    return "skip", None


def comext_country(
    label: str, *, data_dir: Path | str | None = None
) -> tuple[LabelKind, str | None]:
    """(kind, ISO alpha-3) of a Comext reporter/partner label or ISO alpha-2 code.

    Raises ReferenceDataError for a label neither countries.csv nor comext_names.csv knows.
    """
    d = resolve_dir(data_dir)
    kind, iso = _resolve(label.strip(), d)
    if kind == "skip" and _fold(label) not in _labels(d):
        raise ReferenceDataError(
            f"unknown Eurostat country label {label!r}; add it to {NAMES_FILE}"
        )
    return kind, iso
