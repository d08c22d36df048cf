"""Countries and trade areas (ISO, M49, Comtrade, BACI codes) and country groups."""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from transship.reference._load import (
    ReferenceDataError,
    fail,
    read_csv,
    read_yaml,
    resolve_dir,
    split_list,
    unknown,
    validate,
)

Scheme = Literal["iso3", "iso2", "m49", "comtrade", "baci"]
_NUMERIC = re.compile(r"^(0|[1-9][0-9]*)$")  # numeric codes without leading zeros
_COLUMNS = (
    "iso3",
    "iso2",
    "name",
    "kind",
    "iso3_origin",
    "m49",
    "comtrade",
    "comtrade_alt",
    "baci",
    "baci_alt",
    "aliases",
    "notes",
)


class Country(BaseModel):
    """A country (ISO 3166-1) or a trade area that occurs in Comtrade/BACI data."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    iso3: str = Field(pattern=r"^[A-Z][A-Z0-9]{2}$")
    iso2: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    name: str = Field(min_length=1)
    kind: Literal["country", "area"]
    iso3_origin: Literal["iso3166-1", "iso3166-3", "comtrade", "design", "transship"]
    m49: str | None = None
    comtrade: str | None = None
    comtrade_alt: tuple[str, ...] = ()
    baci: str | None = None
    baci_alt: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    notes: str = ""

    @field_validator("m49", "comtrade", "baci")
    @classmethod
    def _numeric(cls, v: str | None) -> str | None:
        if v is not None and not _NUMERIC.match(v):
            raise ValueError(f"numeric code {v!r} must be digits without leading zeros")
        return v

    @field_validator("comtrade_alt", "baci_alt")
    @classmethod
    def _numerics(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for code in v:
            cls._numeric(code)
        return v


class Group(BaseModel):
    """A named set of countries; members are ISO alpha-3 codes or other group names."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=1)
    source: str = Field(min_length=1)
    source_date: dt.date | None = None
    members: tuple[str, ...] = Field(min_length=1)
    countries: frozenset[str] = frozenset()  # resolved ISO alpha-3 codes, filled at load


@functools.cache
def _countries(data_dir: Path) -> tuple[Country, ...]:
    path = data_dir / "countries.csv"
    out: list[Country] = []
    seen: dict[tuple[str, str], str] = {}
    for line, row in read_csv(path, _COLUMNS):
        data: dict[str, object] = {k: (v or None) for k, v in row.items()}
        for k in ("comtrade_alt", "baci_alt", "aliases"):
            data[k] = split_list(row[k])
        data["notes"] = row["notes"]
        c = validate(path, line, Country, data)
        for scheme, codes in (
            ("iso3", [c.iso3]),
            ("iso2", [c.iso2] if c.iso2 else []),
            ("m49", [c.m49] if c.m49 else []),
            ("comtrade", [x for x in (c.comtrade, *c.comtrade_alt) if x]),
            ("baci", [x for x in (c.baci, *c.baci_alt) if x]),
        ):
            for code in codes:
                if (scheme, code) in seen:
                    raise fail(
                        path, line, f"{scheme} code {code} already used by {seen[scheme, code]}"
                    )
                seen[scheme, code] = c.iso3
        out.append(c)
    return tuple(out)


def countries(*, data_dir: Path | str | None = None) -> list[Country]:
    """Every country and trade area, in iso3 order of the data file."""
    return list(_countries(resolve_dir(data_dir)))


@functools.cache
def _name_index(data_dir: Path) -> dict[str, str]:
    index: dict[str, str] = {}
    for c in _countries(data_dir):
        for key in (c.iso3, c.iso2, c.name, *c.aliases):
            if key:
                index.setdefault(key.casefold(), c.iso3)
    return index


def country(code: str, *, data_dir: Path | str | None = None) -> Country:
    """Look a country up by ISO alpha-3, alpha-2 or name (case-insensitive)."""
    d = resolve_dir(data_dir)
    iso3 = _name_index(d).get(code.strip().casefold())
    if iso3 is None:
        names = [c.iso3 for c in _countries(d)] + [c.name for c in _countries(d)]
        raise ReferenceDataError(unknown("country", code, names))
    return next(c for c in _countries(d) if c.iso3 == iso3)


@functools.cache
def _lookup(data_dir: Path, scheme: Scheme) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in _countries(data_dir):
        if scheme == "iso3":
            out[c.iso3] = c.iso3
        elif scheme == "iso2":
            if c.iso2:
                out[c.iso2] = c.iso3
        elif scheme == "m49":
            if c.m49:
                out[c.m49] = c.iso3
        else:
            primary = c.comtrade if scheme == "comtrade" else c.baci
            alts = c.comtrade_alt if scheme == "comtrade" else c.baci_alt
            for code in (primary, *alts):
                if code:
                    out[code] = c.iso3
    return out


def country_lookup(scheme: Scheme, *, data_dir: Path | str | None = None) -> dict[str, str]:
    """Map a code scheme to ISO alpha-3; numeric codes are strings without leading zeros.

    Alternative (legacy) codes are included, e.g. comtrade "381" (old Italy) -> "ITA".
    """
    if scheme not in ("iso3", "iso2", "m49", "comtrade", "baci"):
        raise ReferenceDataError(
            unknown("code scheme", scheme, ["iso3", "iso2", "m49", "comtrade", "baci"])
        )
    return dict(_lookup(resolve_dir(data_dir), scheme))


@functools.cache
def _groups(data_dir: Path) -> dict[str, Group]:
    path = data_dir / "groups.yaml"
    raw = read_yaml(path).get("groups")
    if not isinstance(raw, dict) or not raw:
        raise fail(path, None, "expected a non-empty 'groups' mapping")
    iso = {c.iso3 for c in _countries(data_dir)}
    parsed: dict[str, Group] = {}
    for name, body in raw.items():
        if not isinstance(body, dict):
            raise fail(path, None, f"group {name!r}: expected a mapping")
        g = validate(path, None, Group, {"name": name, **body})
        if name.upper() in iso:
            raise fail(path, None, f"group {name!r} clashes with a country code")
        for m in g.members:
            if m not in iso and m not in raw:
                raise fail(path, None, f"group {name!r}: {unknown('member', m, [*iso, *raw])}")
        parsed[name] = g

    resolved: dict[str, frozenset[str]] = {}

    def resolve(name: str, stack: tuple[str, ...]) -> frozenset[str]:
        if name in stack:
            cycle = " -> ".join((*stack[stack.index(name) :], name))
            raise fail(path, None, f"group cycle: {cycle}")
        if name not in resolved:
            codes: set[str] = set()
            for m in parsed[name].members:
                codes |= resolve(m, (*stack, name)) if m in parsed else {m}
            resolved[name] = frozenset(codes)
        return resolved[name]

    return {n: g.model_copy(update={"countries": resolve(n, ())}) for n, g in parsed.items()}


def groups(*, data_dir: Path | str | None = None) -> dict[str, Group]:
    """Country groups by name, each with its resolved ISO alpha-3 `countries`."""
    return dict(_groups(resolve_dir(data_dir)))


_TOKEN = re.compile(r"\s*([+,-])\s*")


def parse_countries(expr: str, *, data_dir: Path | str | None = None) -> frozenset[str]:
    """Evaluate a country expression left to right into ISO alpha-3 codes.

    Terms are group names or countries (ISO alpha-3/alpha-2/name, any case); `+` or `,`
    adds, `-` removes: `russia+ft_five`, `g7-JPN`, `tur`, `russia,belarus`. Names that
    contain `-` or `,` (Guinea-Bissau, "Korea, Republic of") must be given by ISO code.
    """
    d = resolve_dir(data_dir)
    parts = _TOKEN.split(expr.strip())
    if parts and parts[0] == "" and len(parts) > 1:
        raise ReferenceDataError(f"country expression {expr!r} starts with an operator")
    gs = _groups(d)
    by_lower = {n.lower(): g for n, g in gs.items()}
    index = _name_index(d)
    result: set[str] = set()
    op = "+"
    for i, part in enumerate(parts):
        if i % 2:
            op = part
            continue
        token = part.strip()
        if not token:
            raise ReferenceDataError(f"empty term in country expression {expr!r}")
        if token.lower() in by_lower:
            codes: frozenset[str] = by_lower[token.lower()].countries
        elif token.casefold() in index:
            codes = frozenset({index[token.casefold()]})
        else:
            names = [*gs, *(c.iso3 for c in _countries(d))]
            raise ReferenceDataError(unknown("country or group", token, names, expr))
        result = result - codes if op == "-" else result | codes
    return frozenset(result)
