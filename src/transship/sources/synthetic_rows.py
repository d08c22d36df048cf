"""The SYNTHETIC panel and its rows: generated series x months, written per year in the HS
revision then in force (both sides of every flow), the label schema and a content hash."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from transship import reference
from transship.reference import ReferenceDataError
from transship.sources.synthetic_random import iso_number, month_ordinal, normal, uniform
from transship.sources.synthetic_world import World


@dataclass
class Panel:
    """Generated series (exporter i -> importer j, product p) x months, both sides."""

    countries: tuple[str, ...]
    products: tuple[str, ...]
    months: list[date]
    si: np.ndarray  # exporter index per series
    sj: np.ndarray  # importer index per series
    sp: np.ndarray  # product index per series
    exports: np.ndarray  # exporter-reported FOB, series x months
    imports: np.ndarray  # importer-reported CIF
    export_seen: np.ndarray  # the exporter reports this cell
    import_seen: np.ndarray
    labels: list[dict[str, Any]] = field(default_factory=list)
    index: dict[tuple[int, int, int], int] = field(default_factory=dict)
    # value declared under another product's code, by (flow 0 export / 1 import, exporter,
    # importer, declared product, original product): USD per month, on the months that side
    # reports. The goods keep their physical weight, so `year_batch` writes their net_kg at
    # the original product's unit value, not the declared code's.
    moved: dict[tuple[int, int, int, int, int], np.ndarray] = field(default_factory=dict)

    def series(self, i: int, j: int, p: int) -> int | None:
        return self.index.get((i, j, p))

    def declare_as(self, flow: int, s_from: int, s_to: int, amount: np.ndarray) -> None:
        """Move `amount` (USD per month) of series `s_from`'s goods on one side (flow 0: the
        exporter's record, 1: the importer's) into series `s_to` (same pair, another product),
        remembering the goods' own product for their weight."""
        values = self.exports if flow == 0 else self.imports
        seen = self.export_seen if flow == 0 else self.import_seen
        values[s_from] -= amount
        values[s_to] += amount
        key = (flow, int(self.si[s_to]), int(self.sj[s_to]), int(self.sp[s_to]),
               int(self.sp[s_from]))  # fmt: skip
        kept = np.where(seen[s_to], amount, 0.0)
        self.moved[key] = self.moved.get(key, 0.0) + kept


def label_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("scenario", pa.string()),
            ("kind", pa.string()),
            ("role", pa.string()),
            ("hub", pa.string()),
            ("exporter", pa.string()),
            ("importer", pa.string()),
            ("hs2022", pa.string()),
            ("side", pa.string()),
            ("period_start", pa.date32()),
            ("period_end", pa.date32()),
            ("cells", pa.int32()),
        ]
    )


class RevisionMaps:
    """Per HS revision: product index -> (code index, weight) rows, and the code dictionary."""

    def __init__(self, products: Sequence[str], world: World) -> None:
        self.products = products
        self.world = world
        self.codes: list[str] = []
        self._code_index: dict[str, int] = {}
        self._cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def code(self, c: str) -> int:
        if c not in self._code_index:
            self._code_index[c] = len(self.codes)
            self.codes.append(c)
        return self._code_index[c]

    def rows(self, rev: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(product index, code index, weight) arrays; weights of a product sum to 1."""
        if rev not in self._cache:
            chpl = reference.parse_products("chpl").in_revision(rev)
            ps: list[int] = []
            cs: list[int] = []
            ws: list[float] = []
            for k, code in enumerate(self.products):
                olds: tuple[str, ...] = (code,)
                if rev != "HS2022" and code in chpl.details:
                    olds = chpl.comparable.get(code, ())
                    if not olds:  # not comparable: the same code if it exists, else declared
                        olds = (code,) if reference.hs6_exists(code, rev) else ()
                        olds = olds or (
                            (self.world.older_codes[code],)
                            if code in self.world.older_codes
                            else ()
                        )
                    if not olds:
                        raise ReferenceDataError(
                            f"{code} has no {rev} code; add it to older_codes in "
                            "synthetic_world.yaml"
                        )
                for old in olds:
                    ps.append(k)
                    cs.append(self.code(old))
                    ws.append(1.0 / len(olds))
            self._cache[rev] = (np.array(ps), np.array(cs), np.array(ws))
        return self._cache[rev]


# net weight: a code's unit value (USD/kg) differs by pair (the goods' grade, sigma
# UV_PAIR_SIGMA, drifting UV_DRIFT_SIGMA a year) and month (UV_MONTH_SIGMA), the same goods
# on both sides of a flow, each side's scale off by UV_SIDE_SIGMA
UV_PAIR_SIGMA = 0.3
UV_DRIFT_SIGMA = 0.03
UV_MONTH_SIGMA = 0.15
UV_SIDE_SIGMA = 0.03


def year_batch(panel: Panel, maps: RevisionMaps, rev: str, seed: int = 0) -> Any:
    """One year's rows, both sides, codes in `rev` (summed where codes merge); net weight at
    each code's unit value with pair, drift and month noise (`weight_noise`, `seed`)."""
    import pyarrow as pa

    n = len(panel.countries)
    rows_p, rows_c, rows_w = maps.rows(rev)
    ncodes = len(maps.codes)
    per_product = np.bincount(rows_p, minlength=len(panel.products))
    offsets = np.cumsum(per_product) - per_product  # rows_p is sorted by product
    unit_value = 40.0 * np.exp(1.5 * uniform(7, 21, np.array([int(c) for c in maps.codes])))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for flow, values, seen, rep, par in (
        (0, panel.exports, panel.export_seen, panel.si, panel.sj),
        (1, panel.imports, panel.import_seen, panel.sj, panel.si),
    ):
        v = np.where(seen, values, 0.0)
        # each series becomes one row per code of its product in this revision (weights sum
        # to 1); codes that several products share are summed below
        ss = np.repeat(np.arange(len(panel.sp)), per_product[panel.sp])
        first = np.repeat(np.cumsum(per_product[panel.sp]) - per_product[panel.sp],
                          per_product[panel.sp])  # fmt: skip
        rr = offsets[panel.sp[ss]] + np.arange(len(ss)) - first
        keys = (rep[ss] * n + par[ss]) * ncodes + rows_c[rr]
        key = (keys[:, None] * 12 + np.arange(len(panel.months))[None, :]).ravel()
        val = (v[ss] * rows_w[rr][:, None]).ravel()
        nz = val > 0
        key, val = key[nz], val[nz]
        uniq, inv = np.unique(key, return_inverse=True)
        total = np.round(np.bincount(inv, weights=val))
        keep = total >= 1.0
        uniq, total = uniq[keep], total[keep]
        noise = weight_noise(panel, maps, uniq, flow, seed)
        kg = total / unit_value[(uniq // 12) % ncodes] * noise
        _moved_weight(panel, maps, flow, uniq, total, kg, noise, unit_value, rev, seed)
        parts.append((uniq, total, np.full(len(uniq), flow, dtype=np.int8), kg))
    key = np.concatenate([p[0] for p in parts])
    value = np.concatenate([p[1] for p in parts])
    flow_idx = np.concatenate([p[2] for p in parts])
    net_kg = np.concatenate([p[3] for p in parts])
    month = key % 12
    rest = key // 12
    code = rest % ncodes
    rest //= ncodes
    partner = rest % n
    reporter = rest // n
    days = np.array([(d - date(1970, 1, 1)).days for d in panel.months], dtype=np.int32)
    countries = pa.array(panel.countries)
    nrows = len(key)

    def const(text: str) -> Any:
        return pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(nrows, dtype=np.int8)), pa.array([text])
        )

    def dictionary(indices: np.ndarray, values: Any) -> Any:
        return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), values)

    return pa.RecordBatch.from_pydict(
        {
            "source": const("synthetic"),
            "reporter": dictionary(reporter, countries),
            "partner": dictionary(partner, countries),
            "flow": dictionary(flow_idx, pa.array(["export", "import"])),
            "hs": dictionary(code, pa.array(maps.codes)),
            "hs_rev": const(rev),
            "period": pa.array(days[month], type=pa.date32()),
            "freq": const("M"),
            "value_usd": pa.array(value),
            "net_kg": pa.array(np.round(net_kg, 1)),
            "qty": pa.nulls(nrows, pa.float64()),
            "qty_unit": pa.nulls(nrows, pa.string()),
            "valuation": dictionary(flow_idx, pa.array(["FOB", "CIF"])),
        }
    )


def weight_noise(panel: Panel, maps: RevisionMaps, keys: np.ndarray, flow: int, seed: int,
                 month_stream: int = 33) -> np.ndarray:  # fmt: skip
    """kg factor of each row (`keys` as in `year_batch`): a pure function of the seed, the
    exporter, importer, code and month (the side adds its own small scale error); the month
    noise is drawn from `month_stream` (another shipment of the same goods: another stream)."""
    n, ncodes = len(panel.countries), len(maps.codes)
    month = keys % 12
    rest = keys // 12
    code = rest % ncodes
    rest //= ncodes
    rep, par = rest // n, rest % n
    exp_, imp = (rep, par) if flow == 0 else (par, rep)
    iso = np.array([iso_number(c) for c in panel.countries], dtype=np.int64)
    hs = np.array([int(c) for c in maps.codes], dtype=np.int64)
    t_ord = np.array([month_ordinal(d) for d in panel.months], dtype=np.int64)[month]
    # keys are sorted, a series' months together: draw its own factors once
    sk = keys // 12
    new = np.r_[True, sk[1:] != sk[:-1]] if len(keys) else np.zeros(0, dtype=bool)
    starts, which = np.flatnonzero(new), np.cumsum(new) - 1
    e, i, c = exp_[starts], imp[starts], code[starts]
    series = ((iso[e] * 17576 + iso[i]) * 1_000_000 + hs[c]).astype(np.uint64)
    pair = UV_PAIR_SIGMA * normal(seed, 31, series) + UV_SIDE_SIGMA * normal(
        seed, 34 + flow, series
    )
    drift = UV_DRIFT_SIGMA * normal(seed, 32, series)
    years = (t_ord - month_ordinal(date(2019, 7, 1))) / 12.0
    cell = series[which] * np.uint64(4096) + (t_ord - 2000 * 12).astype(np.uint64)
    log_f = pair[which] + drift[which] * years + UV_MONTH_SIGMA * normal(seed, month_stream, cell)
    out: np.ndarray = np.exp(-log_f)  # a higher unit value: fewer kg for the same USD
    return out


def _moved_weight(
    panel: Panel,
    maps: RevisionMaps,
    flow: int,
    keys: np.ndarray,
    total: np.ndarray,
    kg: np.ndarray,
    noise: np.ndarray,
    unit_value: np.ndarray,
    rev: str,
    seed: int,
) -> None:
    """Correct `kg` (in place) of the rows (`keys`, sorted; `noise` their weight factors)
    holding goods declared under another product's code: those weigh what the same pair's
    goods of their own product weigh per USD (its codes' unit values and pair factors; their
    own shipments' month noise, not the declared part's)."""
    n, ncodes = len(panel.countries), len(maps.codes)
    rows_p, rows_c, rows_w = maps.rows(rev)
    months = np.arange(len(panel.months))
    for (f, i, j, p_to, p_from), amount in panel.moved.items():
        if f != flow:
            continue
        pair = (i * n + j) if flow == 0 else (j * n + i)
        own = [(rows_c[r], rows_w[r]) for r in np.flatnonzero(rows_p == p_from)]
        kg_per_usd = sum(
            w
            / unit_value[c]
            * weight_noise(panel, maps, (pair * ncodes + c) * 12 + months, flow, seed, 36)
            for c, w in own
        )
        for r in np.flatnonzero(rows_p == p_to):
            k = (pair * ncodes + rows_c[r]) * 12 + months
            at = np.minimum(np.searchsorted(keys, k), len(keys) - 1)
            hit = (keys[at] == k) & (amount > 0)
            at = at[hit]
            usd = np.minimum(amount[hit] * rows_w[r], total[at])  # never more than the row
            kg[at] += usd * (kg_per_usd[hit] - noise[at] / unit_value[rows_c[r]])
            kg[at] = np.maximum(kg[at], 0.0)


def content_hash(con: Any, *, exclude: Sequence[str] = ("batch_id",)) -> str:
    """A hash of trade_flows' content in key order (for determinism checks)."""
    from transship.schema import NATURAL_KEY, TRADE_FLOWS

    cols = [c.name for c in TRADE_FLOWS if c.name not in exclude]
    order = ", ".join(NATURAL_KEY)
    row = con.execute(
        f"SELECT md5(string_agg(concat_ws('|', {', '.join(cols)}), chr(10) ORDER BY {order})) "
        "FROM trade_flows"
    ).fetchone()
    return str(row[0])
