"""A small, seeded, SYNTHETIC trade sample for the offline demo and tests.

Not real data, and every row says so (source = 'synthetic'). It tells the story the
analyses look for, with known answers: Turkey's monthly CHPL exports to Russia and the
FT's five jump after the invasion (2022-02-24) and peak in December 2022; Kazakhstan
records only part of what Turkey reports sending (a mirror gap); G7 exports to Turkey
rise in step. The synthetic-scenarios issue replaces this with a full generator.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date

import numpy as np
import pyarrow as pa

from transship import reference
from transship.schema import SOURCE_COLUMNS

HUB = "TUR"
PARTNERS = ("RUS", "AZE", "GEO", "KAZ", "KGZ", "UZB")
SUPPLIERS = ("DEU", "USA", "JPN", "FRA", "ITA")
INVASION = date(2022, 3, 1)  # first full month after 2022-02-24
PEAK = date(2022, 12, 1)
KAZ_RECORDED_SHARE = 0.15  # Kazakhstan records ~15% of what Turkey reports (phantom exports)
CIF_MARGIN = 1.06


class SyntheticSample:
    """Implements schema.BatchSource. Deterministic for a given seed."""

    source = "synthetic"

    def __init__(self, seed: int = 20231101, start_year: int = 2015, end_year: int = 2024) -> None:
        self.seed = seed
        self.years = range(start_year, end_year + 1)
        self.input_name = f"synthetic-sample(seed={seed})"
        self.parameters: Mapping[str, object] = {
            "seed": seed,
            "years": f"{start_year}..{end_year}",
            "hub": HUB,
            "partners": list(PARTNERS),
            "suppliers": list(SUPPLIERS),
            "synthetic": True,
        }
        self.rows_read = 0
        self.rows_rejected = 0
        self.bytes_done = 0
        self.bytes_total: int | None = None
        self.sha256: str | None = None
        self.keys_unique = True  # generated once per key

    def batches(self) -> Iterator[pa.RecordBatch]:
        rng = np.random.default_rng(self.seed)
        chpl = reference.parse_products("chpl")
        for year in self.years:
            rev = reference.hs_revision_in_force(year)
            codes = sorted({codes[0] for codes in chpl.in_revision(rev).codes.values() if codes})
            rows: dict[str, list[object]] = {c: [] for c in SOURCE_COLUMNS}
            for month in range(1, 13):
                period = date(year, month, 1)
                surge = _surge(period)
                for hs in codes:
                    base = float(rng.lognormal(mean=9.5, sigma=1.0))  # ~ $13k a month
                    for partner in PARTNERS:
                        weight = 3.0 if partner == "RUS" else 1.0
                        x = base * weight * surge * float(rng.lognormal(0, 0.25))
                        _add(rows, HUB, partner, "export", hs, rev, period, x)
                        recorded = (
                            KAZ_RECORDED_SHARE if partner == "KAZ" and period >= INVASION else 0.95
                        )
                        m = x * recorded * CIF_MARGIN * float(rng.lognormal(0, 0.1))
                        _add(rows, partner, HUB, "import", hs, rev, period, m)
                    for supplier in SUPPLIERS:
                        lift = 1.0 + 0.6 * (period >= INVASION)  # G7 exports to the hub rise ~60%
                        x = base * 2.0 * lift * float(rng.lognormal(0, 0.2))
                        _add(rows, supplier, HUB, "export", hs, rev, period, x)
            batch = pa.RecordBatch.from_pydict(rows)
            self.rows_read += batch.num_rows
            yield batch


def _surge(period: date) -> float:
    """Multiple of the pre-war level: 1 before the invasion, ~3x after, ~6x in Dec 2022."""
    if period < INVASION:
        return 1.0
    return 6.0 if period == PEAK else 3.0


def _add(
    rows: dict[str, list[object]],
    reporter: str,
    partner: str,
    flow: str,
    hs: str,
    rev: str,
    period: date,
    value: float,
) -> None:
    for key, val in (
        ("source", "synthetic"),
        ("reporter", reporter),
        ("partner", partner),
        ("flow", flow),
        ("hs", hs),
        ("hs_rev", rev),
        ("period", period),
        ("freq", "M"),
        ("value_usd", round(value, 2)),
        ("net_kg", round(value / 180.0, 1)),
        ("qty", None),
        ("qty_unit", None),
        ("valuation", "FOB" if flow == "export" else "CIF"),
    ):
        rows[key].append(val)
