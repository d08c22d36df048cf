"""Generic delimited files: any columns mapped onto the canonical fields."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from transship.errors import UsageError
from transship.sources.tabular import FIELDS, CountryScheme, TableSpec, TabularFile


def parse_pairs(pairs: Iterable[str], option: str) -> dict[str, str]:
    """['Reporter=reporter', ...] -> {'Reporter': 'reporter'}; names the bad pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        left, sep, right = pair.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise UsageError(f"{option} {pair!r}: expected NAME=VALUE")
        out[left.strip()] = right.strip()
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
    block_mb: int = 16,
) -> TabularFile:
    """A delimited file whose columns `--map column=field` onto the canonical schema.

    Unmapped fields come from `--set field=value`, or default: hs_rev is the revision in
    force in the period's year, freq follows the period (YYYY annual, else monthly),
    valuation is FOB for exports and CIF for imports.
    """
    if not source or not source.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"--source {source!r}: use letters, digits, - and _")
    columns = {field: column for column, field in parse_pairs(mapping, "--map").items()}
    for field in columns:
        if field not in FIELDS:
            raise UsageError(f"--map ...={field}: unknown field; fields are {', '.join(FIELDS)}")
    spec = TableSpec(
        source=source,
        columns=columns,
        constants=parse_pairs(constants, "--set"),
        country_scheme=country_codes,
        zero_pad_hs=zero_pad_hs,
        value_scale=value_scale,
    )
    return TabularFile(
        path,
        spec,
        delimiter=delimiter,
        encoding=encoding,
        reject_file=reject_file,
        block_mb=block_mb,
        parameters={
            "map": columns,
            "set": dict(spec.constants),
            "country_codes": country_codes,
            "value_scale": value_scale,
            "zero_pad_hs": zero_pad_hs,
        },
    )
