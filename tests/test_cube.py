"""The dashboard's cube (analysis.cube): its figures are the analyses' figures on the same
filters, figure by figure, note by note, label by label; it is rebuilt when a batch lands;
what it cannot answer goes to the analyses."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import altair as alt
import pytest

from tests.conftest import copy_warehouse, write
from tests.test_analysis_realdata import raw  # noqa: F401  (the real rows: a fixture)
from transship.analysis import cube as C
from transship.analysis.flows import flows
from transship.analysis.hubs import hubs
from transship.analysis.mirror import mirror
from transship.errors import TransshipError
from transship.warehouse import Warehouse
from transship.warehouse.lease import data_version

ANALYSES = {"flows": flows, "mirror": mirror, "hubs": hubs}


def canon(x: Any) -> Any:
    """Floats to 9 significant digits (sums in another order differ in the last bits);
    rows in a canonical order (ties in value may come either way)."""
    if isinstance(x, float):
        return float(f"{x:.9g}") if math.isfinite(x) else x
    if isinstance(x, dict):
        return {k: canon(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        items = [canon(v) for v in x]
        return sorted(items, key=repr) if items and isinstance(items[0], dict) else items
    return x


def outcome(fn: Any, con: Any, kw: dict[str, Any]) -> Any:
    """Everything a result says (or the error it raises), comparable."""
    try:
        r = fn(con, **kw)
        table = r.to_pyarrow()
    except TransshipError as e:
        return ("error", type(e).__name__, str(e))
    return canon(
        {"columns": table.column_names, "rows": table.to_pylist(), "notes": r.notes,
         "synthetic": r.synthetic, "params": r.params, "freq": r.freq}
    )  # fmt: skip


def assert_same(cube: C.Cube, con: Any, name: str, kw: dict[str, Any]) -> None:
    from transship.analysis.cube import flows as cf
    from transship.analysis.cube import hubs as ch
    from transship.analysis.cube import mirror as cm

    fast = {"flows": cf.flows, "mirror": cm.mirror, "hubs": ch.hubs}[name]
    got, want = outcome(fast, cube, kw), outcome(ANALYSES[name], con, kw)
    assert got == want, (name, kw)


def open_cube(path: Path) -> tuple[C.Cube, Warehouse]:
    wh = Warehouse(path)
    cube = C.ensure(wh.con, path, repr(data_version(wh.con)[0]))
    return cube, wh


CMP_CASES: list[tuple[str, dict[str, Any]]] = [
    ("flows", {"reporter": "TUR", "period": "2023-01..2023-02", "by": ["partner"],
               "compare": "prior", "baseline": "2019..2020"}),
    ("flows", {"reporter": "TUR", "partner": "KAZ", "period": "2023-01..2023-02",
               "by": ["period"], "compare": "2022-01..2022-02", "baseline": "2018..2020"}),
    ("flows", {"reporter": "TUR", "by": ["partner", "year", "hs2022", "tier", "hs"]}),
    ("flows", {"reporter": "TUR", "period": "2023", "by": []}),
    ("flows", {"reporter": "TUR", "period": "2023-01..2023-03", "compare": "2022-01..2022-02"}),
    ("flows", {"reporter": "DEU", "period": "2023-01..2023-02", "by": ["partner"]}),
    ("mirror", {"exporters": "TUR", "importers": "KAZ", "window": None}),
    ("mirror", {"exporters": "TUR", "importers": "russia+ft_five", "window": 2,
                "period": "2022-01..2023-12", "by_product": True}),
    ("hubs", {"baseline": "2019..2020"}),
    ("hubs", {"hubs": "TUR", "target": "KAZ", "baseline": "2019..2020"}),
]  # fmt: skip


@pytest.mark.parametrize(
    "cases",
    [pytest.param([CMP_CASES[0], CMP_CASES[6]], id="quick"),
     pytest.param(CMP_CASES[1:6] + CMP_CASES[7:], id="more", marks=pytest.mark.slow)],
)  # fmt: skip
def test_cube_figures_are_the_analyses_figures(
    cmp_db: str, tmp_path: Path, cases: list[tuple[str, dict[str, Any]]]
) -> None:
    cube, wh = open_cube(copy_warehouse(Path(cmp_db), tmp_path / "w.duckdb"))
    try:
        con = wh.ibis()
        for name, kw in cases:
            assert_same(cube, con, name, kw)
        r = C.Queries(con, cube).flows(reporter="TUR", period="2023-01..2023-02", by=["partner"])
        assert {x["partner"]: x["value_usd"] for x in r.to_pyarrow().to_pylist()} == {"KAZ": 80}
    finally:
        cube.close()
        wh.close()


def test_what_the_cube_cannot_answer_goes_to_the_analyses(cmp_db: str, tmp_path: Path) -> None:
    cube, wh = open_cube(copy_warehouse(Path(cmp_db), tmp_path / "w.duckdb"))
    try:
        q = C.Queries(wh.ibis(), cube)
        # live horses are neither CHPL goods nor their controls: the cube holds no rows of them
        q.flows(reporter="TUR", products="0101", by=["partner"])
        q.flows(reporter="TUR", source="hand", by=["partner"])  # the cube sums over sources
        assert (q.answered, q.fell_back) == (0, 2)
        r = q.flows(reporter="TUR", by=["partner"])
        assert (q.answered, q.fell_back) == (1, 2) and r.to_pyarrow().num_rows == 2
        assert q.table("trade_flows").count().execute() == 10  # the rest is the Ibis connection
    finally:
        cube.close()
        wh.close()


def test_a_landing_batch_rebuilds_the_cube(cmp_db: str, tmp_path: Path) -> None:
    from tests._engines import MAP
    from transship.sources.csvfile import csv_file

    path = copy_warehouse(Path(cmp_db), tmp_path / "w.duckdb")
    cube, wh = open_cube(path)
    first = cube.version
    kw = {"reporter": "TUR", "period": "2023-01..2023-02", "by": ["partner"]}
    from transship.analysis.cube import flows as cf

    assert cf.flows(cube, **kw).to_pyarrow().to_pylist()[0]["value_usd"] == 80
    rows = "rep,par,flow,hs,rev,period,usd\nTUR,KAZ,export,854800,HS2022,2023-02,20\n"
    wh.ingest(csv_file(write(tmp_path / "more.csv", rows), source="more", mapping=MAP))
    version = repr(data_version(wh.con)[0])
    assert version != first and C.stored_version(C.cube_path(path)) == first
    cube = C.ensure(wh.con, path, version, cube)
    try:
        assert cube.version == version == C.stored_version(C.cube_path(path))
        assert cf.flows(cube, **kw).to_pyarrow().to_pylist()[0]["value_usd"] == 100
        assert_same(cube, wh.ibis(), "flows", kw)
    finally:
        cube.close()
        wh.close()


# -- pages over richer data (slow: a synthetic world, real Comext rows) ---------------------
PAGE_FILTERS = [
    {"hub": "TUR", "target": "russia+ft_five", "period": "2023-01..2023-09", "products": "chpl",
     "baseline": "2015..2021"},
    {"hub": "KAZ", "target": "russia+ft_five", "period": "2022-04..2022-06",
     "products": "chpl:tier1,tier2", "baseline": "2019..2021"},
    {"hub": "ARM", "target": "RUS", "period": "2022-03..2023-02", "products": "chpl:tier2",
     "baseline": "2019..2021"},
]  # fmt: skip


def page_outcome(name: str, q: Any, filters: dict[str, str]) -> Any:
    from transship.web.dashboard.pages import registry

    page = registry()[name]
    try:
        d = page.compute(q, {k: filters[k] for k in page.fields})
    except TransshipError as e:
        return ("error", str(e))
    tables = {k: (t.title, t.link, t.rows) for k, t in d.tables.items()}
    return canon(
        {"title": d.title, "headlines": d.headlines, "charts": d.charts, "tables": tables,
         "synthetic": d.synthetic, "notes": d.notes}
    )  # fmt: skip


@pytest.fixture(scope="module")
def synthetic_wh(small_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_warehouse(small_synthetic, tmp_path_factory.mktemp("cube") / "s.duckdb")


@pytest.mark.slow
def test_every_page_from_the_cube_equals_the_page_from_the_analyses(synthetic_wh: Path) -> None:
    cube, wh = open_cube(synthetic_wh)
    try:
        con = wh.ibis()
        for name in ("overview", "hub", "product", "mirror"):
            for f in PAGE_FILTERS:
                fast = C.Queries(con, cube)
                got = page_outcome(name, fast, f)
                assert got == page_outcome(name, C.Queries(con, None), f), (name, f)
                assert fast.fell_back == 0, (name, f)  # all of it from the cube
                if name != "mirror" or f["hub"] == "TUR":
                    assert got["synthetic"] is True and "SYNTHETIC" in str(got["charts"])
                for chart in got["charts"].values():  # pages skip validating their specs
                    alt.Root.validate(chart)
    finally:
        cube.close()
        wh.close()


@pytest.fixture(scope="module")
def comext_wh(raw: list[Any], tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """Real Eurostat Comext EU27 exports (test_analysis_realdata's rows: CN8 summed to HS6,
    EUR as value_usd) in a warehouse file."""
    from transship.sources.csvfile import csv_file

    summed: dict[tuple[str, str, str, str], float] = defaultdict(float)
    for r, p, h, per, v in raw:
        summed[r, p, h, per] += v
    d = tmp_path_factory.mktemp("comext")
    lines = ["rep,par,hs,period,value"] + [
        f"{r},{p},{h},{per},{v!r}" for (r, p, h, per), v in sorted(summed.items())
    ]
    write(d / "eu.csv", "\n".join(lines) + "\n")
    with Warehouse(d / "w.duckdb") as wh:
        mapping = ["rep=reporter", "par=partner", "hs=hs", "period=period", "value=value_usd"]
        wh.ingest(csv_file(d / "eu.csv", source="comext", constants=["flow=export"],
                           mapping=mapping))  # fmt: skip
    return d / "w.duckdb"


@pytest.mark.slow
def test_cube_on_real_comext_rows(comext_wh: Path) -> None:
    cube, wh = open_cube(comext_wh)
    try:
        con = wh.ibis()
        cases: list[tuple[str, dict[str, Any]]] = [
            ("flows", {"reporter": "eu27", "partner": "RUS", "by": ["period"]}),
            ("flows", {"reporter": "eu27", "partner": "ARM+KGZ+KAZ", "by": ["reporter"],
                       "period": "2022-03..2022-11", "compare": "prior",
                       "baseline": "2020..2021"}),
            ("flows", {"reporter": "DEU", "partner": "russia+ft_five", "by": ["hs2022", "tier"],
                       "period": "2022-01..2022-06", "concordance": "upper"}),
            ("flows", {"reporter": "eu27", "partner": "RUS", "products": "880730", "by": [],
                       "period": "2021"}),
            ("mirror", {"exporters": "DEU", "importers": "KAZ", "period": "2021-01..2022-06"}),
            ("hubs", {"hubs": "eu27", "baseline": "2020..2021"}),
        ]  # fmt: skip
        for name, kw in cases:
            assert_same(cube, con, name, kw)
        r = C.Queries(con, cube).flows(**cases[0][1])
        assert r.synthetic is False and r.to_pyarrow().num_rows == 35  # 2020-01 .. 2022-11
        for name in ("overview", "product"):
            f = {"hub": "DEU", "target": "russia+ft_five", "period": "2022-01..2022-09",
                 "products": "chpl", "baseline": "2020..2021"}  # fmt: skip
            assert page_outcome(name, C.Queries(con, cube), f) == page_outcome(
                name, C.Queries(con, None), f
            )
    finally:
        cube.close()
        wh.close()
