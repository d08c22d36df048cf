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
from transship.sources.synthetic_random import uniform
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

    def series(self, i: int, j: int, p: int) -> int | None:
        return self.index.get((i, j, p))


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


def year_batch(panel: Panel, maps: RevisionMaps, rev: str) -> Any:
    """One year's rows, both sides, codes in `rev` (summed where codes merge)."""
    import pyarrow as pa

    n = len(panel.countries)
    rows_p, rows_c, rows_w = maps.rows(rev)
    ncodes = len(maps.codes)
    per_product = np.bincount(rows_p, minlength=len(panel.products))
    offsets = np.cumsum(per_product) - per_product  # rows_p is sorted by product
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
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
        parts.append((uniq, total, np.full(len(uniq), flow, dtype=np.int8)))
    key = np.concatenate([p[0] for p in parts])
    value = np.concatenate([p[1] for p in parts])
    flow_idx = np.concatenate([p[2] for p in parts])
    month = key % 12
    rest = key // 12
    code = rest % ncodes
    rest //= ncodes
    partner = rest % n
    reporter = rest // n
    days = np.array([(d - date(1970, 1, 1)).days for d in panel.months], dtype=np.int32)
    unit_value = 40.0 * np.exp(1.5 * uniform(7, 21, np.array([int(c) for c in maps.codes])))
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
            "net_kg": pa.array(np.round(value / unit_value[code], 1)),
            "qty": pa.nulls(nrows, pa.float64()),
            "qty_unit": pa.nulls(nrows, pa.string()),
            "valuation": dictionary(flow_idx, pa.array(["FOB", "CIF"])),
        }
    )


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
