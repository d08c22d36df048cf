"""Generic files (CSV, TSV, Parquet, xlsx/xls): any columns mapped onto the canonical fields.

Columns named like a field (`period`, `flow`, `hs` ...) are mapped onto it unless `--map` or
`--set` says otherwise; `--map-value flow:ИМ=export` (or a YAML mapping file) rewrites values
before they are checked; national codes of 6-12 digits are summed to their HS6 within the
batch (by the warehouse, which notes how many were summed and can keep them in hs_national).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from transship.errors import InputError, ParameterError, UsageError
from transship.sources.tablespec import FIELDS, CountryScheme, TableSpec
from transship.sources.tabular import TabularFile


def parse_pairs(pairs: Iterable[str], option: str) -> dict[str, str]:
    """['Reporter=reporter', ...] -> {'Reporter': 'reporter'}; names the bad pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        left, sep, right = pair.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise UsageError(f"{option} {pair!r}: expected NAME=VALUE")
        out[left.strip()] = right.strip()
    return out


def parse_value_maps(pairs: Iterable[str]) -> dict[str, dict[str, str]]:
    """['flow:ИМ=export', ...] -> {'flow': {'ИМ': 'export'}}; names the bad pair."""
    out: dict[str, dict[str, str]] = {}
    for pair in pairs:
        fld, sep, rest = pair.partition(":")
        raw, sep2, value = rest.partition("=")
        if not sep or not sep2 or not fld.strip() or not raw.strip() or not value.strip():
            raise ParameterError("map_value", f"{pair!r}: expected FIELD:VALUE=CANONICAL")
        if fld.strip() not in FIELDS:
            raise ParameterError(
                "map_value", f"{pair!r}: unknown field; fields are {', '.join(FIELDS)}"
            )
        out.setdefault(fld.strip(), {})[raw.strip()] = value.strip()
    return out


def read_mapping_file(path: str | Path) -> dict[str, Any]:
    """A YAML mapping file: `map: {Column: field}`, `values: {field: {raw: canonical}}`,
    `set: {field: value}`, each optional. Errors name the file and the key."""
    import yaml

    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise InputError(f"cannot read the mapping file: {e}", file=str(p)) from None
    if not isinstance(doc, dict) or set(doc) - {"map", "values", "set"}:
        raise InputError("expected keys map, values and set (each optional)", file=str(p))
    out: dict[str, Any] = {}
    for key in ("map", "values", "set"):
        part = doc.get(key) or {}
        if not isinstance(part, dict):
            raise InputError(f"{key!r} must be a mapping", file=str(p))
        if key == "values":
            for fld, values in part.items():
                if fld not in FIELDS or not isinstance(values, dict):
                    raise InputError(
                        f"values: {fld!r} must be a field with a mapping of values", file=str(p)
                    )
            out[key] = {str(f): {str(k): str(v) for k, v in m.items()} for f, m in part.items()}
        else:
            out[key] = {str(k): str(v) for k, v in part.items()}
    return out


def csv_file(
    path: str | Path,
    *,
    source: str,
    mapping: Iterable[str],
    constants: Iterable[str] = (),
    country_codes: CountryScheme = "auto",
    delimiter: str | None = None,
    encoding: str | None = None,
    value_scale: float = 1.0,
    zero_pad_hs: bool = False,
    reject_file: str | Path | None = None,
    block_mb: int = 4,
    value_maps: Iterable[str] = (),
    mapping_file: str | Path | None = None,
    auto_map: bool = True,
    thousands: str | None = None,
    decimal: str = ".",
    input_format: str | None = None,
    keep_national: bool = False,
) -> TabularFile:
    """A file whose columns `--map column=field` onto the canonical schema.

    Columns named like a field are mapped onto it (`auto_map`); explicit `mapping` wins.
    Unmapped fields come from `--set field=value`, or default: hs_rev is the revision in
    force in the period's year, freq follows the period (YYYY annual, else monthly),
    valuation is FOB for exports and CIF for imports. HS codes may have 6-12 digits
    (national codes): the rows of one HS6 key are summed; `keep_national` also keeps each
    code in the hs_national table.
    """
    if not source or not source.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"--source {source!r}: use letters, digits, - and _")
    from_file = read_mapping_file(mapping_file) if mapping_file else {}
    pairs = {**from_file.get("map", {}), **parse_pairs(mapping, "--map")}
    columns = {field: column for column, field in pairs.items()}
    if len(columns) != len(pairs):
        raise UsageError("--map: two columns mapped onto the same field")
    constants = {**from_file.get("set", {}), **parse_pairs(constants, "--set")}
    vmaps: dict[str, dict[str, str]] = {f: dict(m) for f, m in from_file.get("values", {}).items()}
    for f, m in parse_value_maps(value_maps).items():
        vmaps.setdefault(f, {}).update(m)
    for field in columns:
        if field not in FIELDS:
            raise UsageError(f"--map ...={field}: unknown field; fields are {', '.join(FIELDS)}")
    spec = TableSpec(
        source=source,
        columns=columns,
        constants=constants,
        country_scheme=country_codes,
        zero_pad_hs=zero_pad_hs,
        value_scale=value_scale,
        auto_map=auto_map,
        value_maps=vmaps,
        national_codes=True,
        thousands=thousands,
        decimal=decimal,
    )
    src = TabularFile(
        path,
        spec,
        delimiter=delimiter,
        encoding=encoding,
        reject_file=reject_file,
        block_mb=block_mb,
        input_format=input_format,
        parameters={
            "map": columns,
            "set": dict(spec.constants),
            "map_value": vmaps,
            "country_codes": country_codes,
            "value_scale": value_scale,
            "zero_pad_hs": zero_pad_hs,
            "thousands": thousands,
            "decimal": decimal,
            "input_format": input_format,
            "mapping_file": str(mapping_file) if mapping_file else None,
            # they change what is read (mojibake, fields): part of the input's identity, so a
            # re-run with the right one is read again, not skipped. Only when given: batches
            # stored before keep theirs.
            **({"encoding": encoding} if encoding is not None else {}),
            **({"delimiter": delimiter} if delimiter is not None else {}),
        },
    )
    src.keep_national = keep_national
    return src
