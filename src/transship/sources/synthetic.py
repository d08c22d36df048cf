"""Seeded SYNTHETIC monthly HS6 trade with injected, labelled evasion scenarios.

Not real data, and every row says so (source = 'synthetic'). The generator:

- trades the CHPL codes and a control basket (every non-CHPL HS2022 subheading of the CHPL
  headings that exists unchanged since HS2012) among ~60 countries, 2015-2025, monthly;
- sizes each exporter->importer->product series by gravity (GDP^a x GDP^b / distance^c, from
  `reference/data/synthetic_world.yaml`) times lognormal product and pair affinities; a
  series expected to move less than `min_usd` a month ships in lumps, only some months
  (realistic zeros, same mean), and one below 1% of `min_usd` never trades;
- gives each month seasonality (per product), a trend (per pair), the 2020 COVID dip and
  lognormal noise;
- writes both sides of every flow: the exporter's FOB export and the importer's CIF import
  (CIF margin growing with distance, reporting noise), each side missing 1% of the time and
  entirely after a reporter `stops_reporting` (Russia, 2022);
- gives each row a net weight at its code's unit value (USD/kg), which differs by pair (the
  goods' grade), drifts a little over the years and is noisy by month; goods a scenario
  declares under another code keep their own weight (`synthetic_rows.year_batch`);
- writes each period in the HS revision then in force (HS2012, HS2017, HS2022), mapping CHPL
  codes to their older codes through the reference concordance;
- applies the scenarios (`transship.sources.scenarios`) and keeps, as `labels`, every cell
  each one changed: the ground truth the warehouse stores in `scenario_labels`.

Randomness is counter-based (a hash of seed, stream and cell), so a cell's baseline value
depends only on the seed and the cell: adding a scenario or a country changes nothing else.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from transship import reference
from transship.sources.scenarios import Scenario, ScenarioSet, load_scenarios, parse_month
from transship.sources.synthetic_random import (
    halves,
    hash64,
    iso_number,
    lognormal,
    month_ordinal,
    month_range,
    normal,
    uniform,
)
from transship.sources.synthetic_rows import (
    Panel,
    RevisionMaps,
    content_hash,
    label_schema,
    year_batch,
)
from transship.sources.synthetic_world import World, load_world, product_universe

SEED = 20231101
START = "2015-01"
END = "2025-12"
MIN_USD = 95_000.0  # a series smaller than this a month trades in lumps, some months only
MIN_CHANCE = 0.01  # series with a smaller monthly chance of trading never trade
NOISE_SIGMA = 0.3  # monthly lognormal noise of a series
MIRROR_SIGMA = 0.05  # importer-vs-exporter reporting noise
MISSING_SIDE = 0.01  # chance that one side of a flow is not reported in a month
GROWTH = 0.04  # mean yearly growth of trade in these goods
COVID = {date(2020, 4, 1): 0.75, date(2020, 5, 1): 0.8, date(2020, 6, 1): 0.9}


class SyntheticTrade:
    """A schema.BatchSource of synthetic trade; deterministic for a seed and scenario set.

    After `batches()` has run, `labels` holds the scenario ground truth (a pyarrow Table with
    `label_schema()`) that the warehouse writes to `scenario_labels` in the same transaction.
    """

    source = "synthetic"

    def __init__(
        self,
        *,
        seed: int = SEED,
        scenarios: str | Path | ScenarioSet | None = "default",
        start: str = START,
        end: str = END,
        min_usd: float = MIN_USD,
        world: World | None = None,
    ) -> None:
        self.seed = int(seed)
        self.world = world or load_world()
        self.products, self.chpl = product_universe()
        self.scenarios = (
            scenarios
            if isinstance(scenarios, ScenarioSet)
            else load_scenarios(scenarios, countries=self.world.codes, products=self.products)
        )
        first, last = parse_month(start), parse_month(end)
        if first.year < 2012 or last < first:
            from transship.errors import UsageError

            raise UsageError(f"synthetic period {start}..{end}: use a range from 2012 on")
        self.months = month_range(first, last)
        self.min_usd = float(min_usd)
        self.input_name = f"synthetic(seed={self.seed}, scenarios={self.scenarios.name})"
        self.parameters: Mapping[str, object] = {
            "seed": self.seed,
            "period": f"{first:%Y-%m}..{last:%Y-%m}",
            "min_usd": self.min_usd,
            "countries": len(self.world.codes),
            "products": len(self.products),
            "scenarios": self.scenarios.name,
            "scenarios_sha256": self.scenarios.sha256,
            "scenario_ids": [s.id for s in self.scenarios.scenarios],
            "synthetic": True,
        }
        self.rows_read = 0
        self.rows_rejected = 0
        self.bytes_done = 0
        self.bytes_total: int | None = None
        self.sha256: str | None = self.scenarios.sha256  # the input: the scenario file
        self.keys_unique = True  # every key is generated once
        self.labels: Any = None  # pyarrow.Table, set by batches()
        # scenarios that changed no cell (their flows never trade for this seed): silent
        # otherwise, and an evaluation would count a scheme that is not in the data
        self.inert: list[str] = []

    # -- generation ---------------------------------------------------------------------
    def _plan(self) -> tuple[np.ndarray, np.ndarray]:
        """(monthly trade chance of every exporter x importer x product, scenario-touched)."""
        if not hasattr(self, "_planned"):
            n = len(self.world.codes)
            base = self._gravity()
            forced = np.zeros(base.shape, dtype=bool)
            for sc in self.scenarios.scenarios:
                for i, j, p in self._touched(sc):
                    forced[i, j, p] = True
            forced[np.arange(n), np.arange(n), :] = False
            self._base = base
            self._planned = (np.minimum(base / self.min_usd, 1.0), forced)
        return self._planned

    def baseline(
        self, si: np.ndarray, sj: np.ndarray, sp: np.ndarray, months: Sequence[date]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Exports (FOB), the importer's CIF factor, and which side reports, per cell.

        A pure function of the seed and the cell: the same series and month always give the
        same values, whichever other series or months are generated with it.
        """
        w = self.world
        chance, _ = self._plan()
        q = chance[si, sj, sp]
        t_ord = np.array([month_ordinal(d) for d in months], dtype=np.int64)
        iso = np.array([iso_number(c) for c in w.codes], dtype=np.int64)
        hs = np.array([int(c) for c in self.products], dtype=np.int64)
        series_key = (iso[si] * 17576 + iso[sj]) * 1_000_000 + hs[sp]
        cell = (series_key[:, None] * 4096 + (t_ord - 2000 * 12)[None, :]).astype(np.uint64)
        # seasonality per product, trend per pair, COVID dip, noise per cell
        amp = 0.05 + 0.2 * uniform(self.seed, 11, hs)
        phase = 12.0 * uniform(self.seed, 12, hs)
        moy = np.array([d.month for d in months], dtype=np.float64)
        season = 1.0 + amp[:, None] * np.sin(2 * np.pi * (moy[None, :] - phase[:, None]) / 12)
        growth = GROWTH + 0.03 * normal(self.seed, 13, iso[si] * 17576 + iso[sj])
        years = (t_ord - month_ordinal(date(2019, 7, 1))) / 12.0
        covid = np.array([COVID.get(d, 1.0) for d in months])
        # Small series ship now and then, in lumps: a series expected to move v < min_usd a
        # month trades with chance v / min_usd, min_usd at a time, so its mean stays v.
        chance_u, side_u = halves(hash64(self.seed, 15, cell))
        trades = (chance_u < q[:, None]) & (q >= MIN_CHANCE)[:, None]
        r, c = np.nonzero(trades)
        traded = cell[r, c]
        value = self._base[si, sj, sp][r] / np.maximum(q[r], MIN_CHANCE)
        value *= season[sp[r], c] * np.exp(growth[r] * years[c]) * covid[c]
        value *= lognormal(self.seed, 14, traded, NOISE_SIGMA)
        x = np.zeros(cell.shape)
        x[r, c] = value
        dist = self._distance()[si, sj]
        cif = 1.02 + 0.06 * np.minimum(dist / 10_000.0, 1.0)
        mirror = np.repeat(cif[:, None], len(months), axis=1)  # plain margin where no trade
        mirror[r, c] *= lognormal(self.seed, 16, traded, MIRROR_SIGMA)
        export_seen = side_u >= MISSING_SIDE  # each side misses 1%, never both at once
        import_seen = (side_u < MISSING_SIDE) | (side_u >= 2 * MISSING_SIDE)
        for code, stop in w.stops_reporting.items():
            k = w.codes.index(code)
            late = t_ord >= month_ordinal(stop)
            export_seen[np.ix_(si == k, late)] = False
            import_seen[np.ix_(sj == k, late)] = False
        return x, mirror, export_seen, import_seen

    def generate(self) -> Panel:
        """The scenario-touched series over all months, after the scenarios, with labels."""
        _, forced = self._plan()
        si, sj, sp = np.nonzero(forced)
        x, mirror, export_seen, import_seen = self.baseline(si, sj, sp, self.months)
        panel = Panel(
            countries=self.world.codes,
            products=self.products,
            months=self.months,
            si=si,
            sj=sj,
            sp=sp,
            exports=x,
            imports=x * mirror,
            export_seen=export_seen,
            import_seen=import_seen,
        )
        panel.index = {
            (int(a), int(b), int(c)): k for k, (a, b, c) in enumerate(zip(si, sj, sp, strict=True))
        }
        self._mirror = mirror
        for sc in self.scenarios.scenarios:
            self._apply(panel, sc)
        return panel

    def _distance(self) -> np.ndarray:
        w = self.world
        lat, lon = np.radians(w.lat), np.radians(w.lon)
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        h = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
        )
        km: np.ndarray = np.maximum(2 * 6371.0 * np.arcsin(np.sqrt(h)), 500.0)  # floor 500
        return km

    def _gravity(self) -> np.ndarray:
        """Expected monthly USD of every exporter x importer x product."""
        w = self.world
        n, m = len(w.codes), len(self.products)
        iso = np.array([iso_number(c) for c in w.codes], dtype=np.int64)
        hs = np.array([int(c) for c in self.products], dtype=np.int64)
        pair = (
            (w.gdp[:, None] ** w.a) * (w.gdp[None, :] ** w.b) / (self._distance() / 1000.0) ** w.c
        )
        pair *= w.scale * w.tech[:, None]
        share = lognormal(self.seed, 1, hs, 0.8)  # products differ in size
        ep = (iso[:, None] * 1_000_000 + hs[None, :]).astype(np.uint64)
        exporter_fit = lognormal(self.seed, 2, ep, 1.0)  # what each country makes
        ijp = (iso[:, None, None] * 17576 + iso[None, :, None]) * 1_000_000 + hs[None, None, :]
        pair_fit = lognormal(self.seed, 3, ijp.astype(np.uint64), 0.7)
        base: np.ndarray = (
            pair[:, :, None] * share[None, None, :] * exporter_fit[:, None, :] * pair_fit
        )
        base[np.arange(n), np.arange(n), :] = 0.0
        assert base.shape == (n, n, m)
        return base

    def _countries(self, expr: str) -> list[int]:
        members = reference.parse_countries(expr)
        return [k for k, c in enumerate(self.world.codes) if c in members]

    def _product_indices(self, expr: str) -> list[int]:
        codes = reference.parse_products(expr).codes
        return [k for k, c in enumerate(self.products) if c in codes]

    def _touched(self, sc: Scenario) -> Iterator[tuple[int, int, int]]:
        """Every series a scenario may change (so it exists even without baseline trade)."""
        return sc.touched(self)

    # -- scenarios ----------------------------------------------------------------------
    def _apply(self, panel: Panel, sc: Scenario) -> None:
        roles: dict[int, str] = {}
        # snapshot only the series this scenario may change, to find the cells it did change
        rows = sorted({panel.index[k] for k in self._touched(sc) if k in panel.index})
        at = {s: k for k, s in enumerate(rows)}
        before_x, before_m = panel.exports[rows], panel.imports[rows]
        x, mm = panel.exports, panel.imports
        sc.apply(self, panel, roles)
        hub = sc.label_hub()
        n_labels = len(panel.labels)
        for s, role in sorted(roles.items()):
            for side, now, then, seen in (
                ("export", x[s], before_x[at[s]], panel.export_seen[s]),
                ("import", mm[s], before_m[at[s]], panel.import_seen[s]),
            ):
                changed = (np.round(now) != np.round(then)) & seen
                if not changed.any():
                    continue
                ts = np.nonzero(changed)[0]
                panel.labels.append(
                    {
                        "scenario": sc.id,
                        "kind": sc.kind,
                        "role": role,
                        "hub": hub,
                        "exporter": panel.countries[panel.si[s]],
                        "importer": panel.countries[panel.sj[s]],
                        "hs2022": panel.products[panel.sp[s]],
                        "side": side,
                        "period_start": panel.months[ts[0]],
                        "period_end": panel.months[ts[-1]],
                        "cells": len(ts),
                    }
                )
        if len(panel.labels) == n_labels:
            self.inert.append(sc.id)
            after = sc.start > self.months[-1]
            why = (
                f"it starts ({sc.start:%Y-%m}) after the generated months end "
                f"({self.months[-1]:%Y-%m})"
                if after
                else "the flows it acts on never trade in this world (pick other countries or "
                "products, or a scenario that creates the trade first)"
            )
            warnings.warn(
                f"synthetic scenario {sc.id!r} changes no trade for seed {self.seed}: {why}",
                stacklevel=2,
            )

    def _window(self, start: date, end: date | None) -> np.ndarray:
        stop = end or date.max
        return np.array([1.0 if start <= d <= stop else 0.0 for d in self.months])

    # -- output -------------------------------------------------------------------------
    def batches(self) -> Iterator[Any]:
        import pyarrow as pa

        panel = self.generate()
        self.labels = pa.Table.from_pylist(panel.labels, schema=label_schema())
        chance, forced = self._plan()
        # every other series that ever trades, generated a year at a time
        ui, uj, up = np.nonzero((chance >= MIN_CHANCE) & ~forced)
        maps = RevisionMaps(self.products, self.world)
        for year in sorted({d.year for d in panel.months}):
            cols = [k for k, d in enumerate(panel.months) if d.year == year]
            months = [panel.months[k] for k in cols]
            x, mirror, xs, ms = self.baseline(ui, uj, up, months)
            part = Panel(
                countries=panel.countries,
                products=panel.products,
                months=months,
                si=np.concatenate([ui, panel.si]),
                sj=np.concatenate([uj, panel.sj]),
                sp=np.concatenate([up, panel.sp]),
                exports=np.concatenate([x, panel.exports[:, cols]]),
                imports=np.concatenate([x * mirror, panel.imports[:, cols]]),
                export_seen=np.concatenate([xs, panel.export_seen[:, cols]]),
                import_seen=np.concatenate([ms, panel.import_seen[:, cols]]),
                moved={k: v[cols] for k, v in panel.moved.items()},
            )
            batch = year_batch(part, maps, reference.hs_revision_in_force(year), self.seed)
            self.rows_read += batch.num_rows
            yield batch


__all__ = [
    "SEED",
    "Panel",
    "SyntheticTrade",
    "World",
    "content_hash",
    "label_schema",
    "load_world",
    "product_universe",
]
