"""CEPII BACI: reconciled bilateral trade at HS6, one file per year and HS revision.

Format (BACI documentation, CEPII): columns t (year), i (exporter), j (importer),
k (HS6 product), v (value, thousand USD, FOB), q (quantity, metric tons; may be NA).
Country codes are BACI's own (UN Comtrade numerics: 842 USA, 251 France, 490 Other Asia nes).
"""

from __future__ import annotations

import re
from pathlib import Path

from transship.errors import UsageError
from transship.schema import HS_REVISIONS
from transship.sources.tablespec import TableSpec
from transship.sources.tabular import TabularFile

HEADER = ("t", "i", "j", "k", "v", "q")
_DATA_FILE = re.compile(r"^BACI_HS\d{2}_Y\d{4}_V\d+\.csv$", re.IGNORECASE)
_REVISION = re.compile(r"HS(\d{2})(?!\d)", re.IGNORECASE)


def revision_from_name(name: str) -> str | None:
    """`BACI_HS17_V202401.zip` -> HS2017."""
    m = _REVISION.search(Path(name).name)
    if not m:
        return None
    two = m.group(1)
    rev = f"HS{'19' if two in ('92', '96') else '20'}{two}"
    return rev if rev in HS_REVISIONS else None


def baci_file(
    path: str | Path,
    *,
    hs_rev: str | None = None,
    reject_file: str | Path | None = None,
    block_mb: int = 4,
) -> TabularFile:
    """A BACI csv, or a BACI zip (its BACI_HSxx_Yyyyy_Vxxx.csv members), as a batch source."""
    rev = hs_rev or revision_from_name(str(path))
    if rev is None:
        raise UsageError(
            f"cannot tell the HS revision from the file name {Path(path).name!r} "
            "(BACI names carry HS92..HS22); give {hs_rev}",
            params=("hs_rev",),
        )
    if rev not in HS_REVISIONS:
        raise UsageError(f"unknown HS revision {rev!r}; expected one of {HS_REVISIONS}")
    spec = TableSpec(
        source="baci",
        columns={
            "period": "t",
            "reporter": "i",
            "partner": "j",
            "hs": "k",
            "value_usd": "v",
            "net_kg": "q",
        },
        constants={"flow": "export", "valuation": "FOB", "hs_rev": rev},
        country_scheme="baci",
        period_format="year",
        zero_pad_hs=True,  # k is numeric in BACI csv: 10121 is 010121
        value_scale=1000.0,  # thousand USD -> USD
        net_kg_scale=1000.0,  # metric tons -> kg
        exact_header=HEADER,
        order_key=(
            "t",
            "i",
            "j",
            "k",
        ),  # BACI files are sorted by year, exporter, importer, product
    )
    return TabularFile(
        path,
        spec,
        delimiter=",",
        encoding="utf-8",
        reject_file=reject_file,
        block_mb=block_mb,
        members=lambda name: bool(_DATA_FILE.match(name)),
        parameters={"hs_rev": rev},
    )
