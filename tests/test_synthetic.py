"""The synthetic generator: determinism, realism checks, scenario labels, the FT story."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute
import pytest

from tests.conftest import DemoRun
from transship import reference
from transship.errors import InputError
from transship.sources.scenarios import ScenarioSet, load_scenarios
from transship.sources.synthetic import SyntheticTrade, content_hash, product_universe
from transship.warehouse import Warehouse

SMALL = {"start": "2021-01", "end": "2024-12"}


def table_of(src: SyntheticTrade) -> pa.Table:
    return pa.Table.from_batches(list(src.batches())).select(
        ["reporter", "partner", "flow", "hs", "period", "value_usd"]
    )


def default_set() -> ScenarioSet:
    products, _ = product_universe()
    world = SyntheticTrade(scenarios="none").world
    return load_scenarios("default", countries=world.codes, products=products)


# -- determinism -------------------------------------------------------------------------------
@pytest.mark.slow
def test_same_seed_same_warehouse_content(tmp_path: Path) -> None:
    hashes = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        with Warehouse(tmp_path / f"{name}.duckdb") as wh:
            src = SyntheticTrade(seed=seed, start="2022-01", end="2023-12", min_usd=500_000.0)
            wh.ingest(src)
            hashes.append(content_hash(wh.con))
            labels = wh.con.execute(
                "SELECT scenario, exporter, importer, hs2022, side, period_start, cells "
                "FROM scenario_labels ORDER BY ALL"
            ).fetchall()
            hashes.append(str(hash(tuple(labels))))
    assert hashes[0] == hashes[2] and hashes[1] == hashes[3]  # same seed: same rows, labels
    assert hashes[0] != hashes[4]  # another seed: other rows


# -- realism of the baseline -------------------------------------------------------------------
@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    w = Warehouse(tmp_path_factory.mktemp("base") / "b.duckdb")
    w.ingest(SyntheticTrade(seed=3, scenarios="none", min_usd=300_000.0))
    yield w.con
    w.close()


@pytest.mark.slow
def test_both_sides_of_every_flow_with_cif_margin(base: duckdb.DuckDBPyConnection) -> None:
    pairs = base.execute(
        "SELECT x.value_usd AS x, m.value_usd AS m, x.reporter, x.partner, x.period "
        "FROM (SELECT * FROM trade_flows WHERE flow = 'export') x "
        "LEFT JOIN (SELECT * FROM trade_flows WHERE flow = 'import') m "
        "ON x.reporter = m.partner AND x.partner = m.reporter AND x.hs = m.hs "
        "AND x.period = m.period"
    ).fetchall()
    ratios = [m / x for x, m, *_ in pairs if m is not None]
    one_sided = sum(1 for p in pairs if p[1] is None)
    # importers record CIF: a 2-8% margin over FOB, with reporting noise around it
    assert 1.02 < statistics.median(ratios) < 1.08
    deciles = statistics.quantiles(ratios, n=10)
    assert deciles[0] > 0.95 and deciles[-1] < 1.15
    # each side is missing 1% of the time, and Russia's side stops in 2022
    assert 0.005 < one_sided / len(pairs) < 0.2
    rus = base.execute(
        "SELECT count(*) FILTER (period >= DATE '2022-01-01'), count(*) FROM trade_flows "
        "WHERE reporter = 'RUS'"
    ).fetchone()
    assert rus is not None and rus[0] == 0 and rus[1] > 0


@pytest.mark.slow
def test_codes_follow_the_revision_in_force(base: duckdb.DuckDBPyConnection) -> None:
    seen: dict[int, set[str]] = {}
    for year, rev, hs in base.execute(
        "SELECT DISTINCT year(period), hs_rev::VARCHAR, hs FROM trade_flows"
    ).fetchall():
        assert rev == reference.hs_revision_in_force(year)
        seen.setdefault(year, set()).add(hs)
    for year, codes in seen.items():
        rev = reference.hs_revision_in_force(year)
        assert all(reference.hs6_exists(c, rev) for c in codes), year
    # new in HS2022: 854151 exists only from 2022; before, its goods sit in 854140
    assert "854151" in seen[2022] and "854151" not in seen[2021]
    assert "854140" in seen[2021] and "854140" not in seen[2022]
    assert "854890" in seen[2016] and "854800" in seen[2023]  # 854800 <- 854890


@pytest.mark.slow
def test_seasonality_trend_and_realistic_zeros(base: duckdb.DuckDBPyConnection) -> None:
    by_year = dict(
        base.execute(
            "SELECT year(period), sum(value_usd) FROM trade_flows WHERE flow = 'export' GROUP BY 1"
        ).fetchall()
    )
    assert by_year[2024] > by_year[2016] * 1.15  # trade grows ~4% a year
    assert by_year[2020] < (by_year[2019] + by_year[2021]) / 2  # the COVID dip
    series = base.execute(
        "SELECT count(*) AS months, median(value_usd) FROM trade_flows WHERE flow = 'export' "
        "AND year(period) = 2023 GROUP BY reporter, partner, hs"
    ).fetchall()
    gappy = [v for n, v in series if n < 12]
    full = [v for n, v in series if n == 12]
    assert 0.05 < len(gappy) / len(series) < 0.99
    # series below min_usd a month ship some months only, ~min_usd at a time (same mean)
    assert 0.5 * 300_000 < statistics.median(gappy) < 2 * 300_000
    assert statistics.median(full) > 300_000


# -- scenarios change exactly the labelled cells -----------------------------------------------
class Prefixes:
    """Tables after the first k default scenarios (scenarios apply in order)."""

    def __init__(self) -> None:
        self.scenarios = default_set().scenarios
        self.cache: dict[int, tuple[pa.Table, Any]] = {}

    def __call__(self, k: int) -> tuple[pa.Table, Any]:
        if k not in self.cache:
            some = ScenarioSet(self.scenarios[:k], "test", None)
            src = SyntheticTrade(seed=5, scenarios=some, **SMALL)  # type: ignore[arg-type]
            self.cache[k] = (table_of(src), src.labels)
        return self.cache[k]


@pytest.fixture(scope="module")
def prefixes() -> Prefixes:
    return Prefixes()


@pytest.mark.parametrize(
    "k", range(len(default_set())), ids=[s.id for s in default_set().scenarios]
)
@pytest.mark.slow
def test_scenario_changes_exactly_the_labelled_cells(k: int, prefixes: Prefixes) -> None:
    scenario = prefixes.scenarios[k]
    before, _ = prefixes(k)
    after, labels = prefixes(k + 1)
    labels = labels.filter(pa.compute.equal(labels.column("scenario"), scenario.id))
    con = duckdb.connect()
    con.register("before", before)
    con.register("after", after)
    con.register("labels", labels)
    con.execute(
        "CREATE TABLE changed AS SELECT reporter, partner, flow, hs, period FROM before "
        "FULL OUTER JOIN after USING (reporter, partner, flow, hs, period) "
        "WHERE before.value_usd IS DISTINCT FROM after.value_usd"
    )
    # each changed cell lies in exactly one label (same exporter, importer, code, side, months)
    hits = con.execute(
        "SELECT c.*, count(l.scenario) AS n FROM changed c LEFT JOIN labels l ON l.side = c.flow "
        "AND l.hs2022 = c.hs AND c.period BETWEEN l.period_start AND l.period_end "
        "AND (l.exporter, l.importer) = CASE WHEN c.flow = 'export' THEN (c.reporter, c.partner) "
        "ELSE (c.partner, c.reporter) END GROUP BY ALL"
    ).fetchall()
    assert hits and all(h[-1] == 1 for h in hits), [h for h in hits if h[-1] != 1][:3]
    assert all(h[4] >= scenario.start for h in hits)
    # and each label counts exactly the cells that changed
    counts = con.execute(
        "SELECT l.cells, count(c.hs) FROM labels l LEFT JOIN changed c ON l.side = c.flow "
        "AND l.hs2022 = c.hs AND c.period BETWEEN l.period_start AND l.period_end "
        "AND (l.exporter, l.importer) = CASE WHEN c.flow = 'export' THEN (c.reporter, c.partner) "
        "ELSE (c.partner, c.reporter) END GROUP BY l.scenario, l.exporter, l.importer, l.hs2022, "
        "l.side, l.cells"
    ).fetchall()
    assert counts and all(a == b for a, b in counts)
    assert {k for (k,) in con.execute("SELECT DISTINCT kind FROM labels").fetchall()} == {
        scenario.kind
    }


@pytest.mark.slow
def test_labels_stored_with_the_batch_and_replaced(wh: Warehouse) -> None:
    first = wh.ingest(SyntheticTrade(seed=1, min_usd=500_000.0, **SMALL))  # type: ignore[arg-type]
    n1 = wh.con.execute("SELECT count(*), min(batch_id) FROM scenario_labels").fetchone()
    assert n1 is not None and n1[0] > 0 and n1[1] == first.batch_id
    second = wh.ingest(SyntheticTrade(seed=1, min_usd=500_000.0, **SMALL))  # type: ignore[arg-type]
    n2 = wh.con.execute("SELECT count(*), min(batch_id), max(batch_id) FROM scenario_labels")
    row = n2.fetchone()
    assert row == (n1[0], second.batch_id, second.batch_id)
    assert second.rows_replaced == first.rows_written  # same keys replaced, not duplicated
    kinds = {r[0] for r in wh.con.execute("SELECT DISTINCT kind FROM scenario_labels").fetchall()}
    assert kinds == {"reroute", "phantom_exports", "misdeclare", "block"}


# -- scenario files are validated with file, line and field ------------------------------------
def _load(tmp_path: Path, text: str) -> ScenarioSet:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    products, _ = product_universe()
    world = SyntheticTrade(scenarios="none").world
    return load_scenarios(path, countries=world.codes, products=products)


GOOD = """scenarios:
  - id: one
    kind: reroute
    hub: KAZ
    origins: DEU
    start: 2022-04
    share: 0.5
"""


def test_scenario_file_errors_name_line_and_field(tmp_path: Path) -> None:
    assert len(_load(tmp_path, GOOD)) == 1
    cases = [
        (GOOD.replace("share: 0.5", "share: 1.5"), 7, "share", "share must be in"),
        (GOOD.replace("origins: DEU", "origins: XXX"), 5, "origins", "XXX"),
        (GOOD.replace("hub: KAZ", "hub: PRK"), 4, "hub", "PRK: not in the synthetic world"),
        (GOOD.replace("2022-04", "2021-04"), 6, "start", "HS2022 era"),
        (GOOD.replace("kind: reroute", "kind: teleport"), 3, "kind", "teleport"),
        (GOOD.replace("    share: 0.5\n", ""), 2, "share", "Field required"),
        (GOOD + "    lag: 40\n", 8, "lag", "less than or equal to 12"),
        (GOOD.replace("hub: KAZ", "hub: DEU"), 4, "hub", "may not be among"),
    ]
    for text, line, field, message in cases:
        with pytest.raises(InputError) as err:
            _load(tmp_path, text)
        e = err.value
        assert (e.line, e.column) == (line, field), str(e)
        assert message in str(e) and "s.yaml" in str(e)
    misdeclared = GOOD.replace("kind: reroute", "kind: misdeclare").replace(
        "    hub: KAZ\n    origins: DEU\n",
        '    exporters: DEU\n    importers: KAZ\n    codes: {"854231": "851762"}\n',
    )
    with pytest.raises(InputError, match="same heading"):
        _load(tmp_path, misdeclared)
    with pytest.raises(InputError, match="invalid YAML") as err:
        _load(tmp_path, GOOD + "  - id: [unclosed\n")
    assert err.value.line == 9


# -- the default set tells the FT's story ------------------------------------------------------
@pytest.fixture(scope="module")
def story(demo_run: DemoRun) -> Iterator[Warehouse]:
    # the demo's warehouse is SyntheticTrade() with its defaults: the default scenarios
    assert demo_run.exit_code == 0, demo_run.output
    w = Warehouse(demo_run.path, read_only=True)
    yield w
    w.close()


def _sum(wh: Warehouse, reporter: str, partner: str, period: str, flow: str = "export") -> float:
    from transship.analysis.flows import flows

    r = flows(wh.ibis(), reporter=reporter, partner=partner, period=period, flow=flow, by=[])
    return float(r.to_pyarrow().column("value_usd")[0].as_py())


def test_default_scenarios_tell_the_ft_story(story: Warehouse) -> None:
    dest = "russia+ft_five"
    y23 = _sum(story, "TUR", dest, "2023-01..2023-09")
    y22 = _sum(story, "TUR", dest, "2022-01..2022-09")
    pre = statistics.mean(_sum(story, "TUR", dest, f"{y}-01..{y}-09") for y in range(2015, 2022))
    assert 2.6 < y23 / y22 < 3.4  # "three times the same period of 2022"
    assert y23 / pre > 5  # "far above the 2015-2021 average"
    assert 20e6 < pre < 40e6  # calibrated to the FT's $28M
    from transship.analysis.flows import flows

    monthly = flows(story.ibis(), reporter="TUR", partner=dest, period="2022-01..2023-12",
                    by=["period"]).to_pyarrow().to_pylist()  # fmt: skip
    peak = max(monthly, key=lambda r: r["value_usd"])
    assert peak["period"] == date(2022, 12, 1)
    x = _sum(story, "TUR", "KAZ", "2023-01..2023-09")
    m = _sum(story, "KAZ", "TUR", "2023-01..2023-09", flow="import")
    assert 7 < x / m < 12  # Turkey reports ~9x what Kazakhstan records
    g7 = _sum(story, "g7", "TUR", "2023-01..2023-09") / _sum(story, "g7", "TUR", "2021-01..2021-09")
    assert g7 > 1.6
    rus23, rus24 = _sum(story, "TUR", "RUS", "2023"), _sum(story, "TUR", "RUS", "2024")
    nb23, nb24 = (_sum(story, "TUR", "GEO+AZE+KAZ+ARM", y) for y in ("2023", "2024"))
    on23, on24 = (_sum(story, "GEO+AZE+KAZ+ARM", "RUS", y) for y in ("2023", "2024"))
    # the 2024 block: direct exports collapse, the neighbours take them and pass them on
    assert rus24 < 0.4 * rus23
    assert rus24 / (rus24 + nb24) < 0.5 * rus23 / (rus23 + nb23)
    assert on24 > 2 * on23
    n = story.count()
    assert 6_000_000 < n < 10_000_000  # the documented ~8M rows
    src = story.con.execute("SELECT DISTINCT source FROM trade_flows").fetchall()
    assert src == [("synthetic",)]


@pytest.mark.slow  # builds a 30-month world, ~1.4 s
def test_a_scenario_after_the_generated_months_is_reported_inert() -> None:
    """A scenario that changes no cell is listed in `inert` and warned about, with the reason:
    tur-block starts in 2024-01, after a world that ends in 2023-06."""
    block = next(s for s in default_set().scenarios if s.id == "tur-block")
    reroute = next(s for s in default_set().scenarios if s.id == "tur-roundabout")
    src = SyntheticTrade(
        seed=5, scenarios=ScenarioSet([reroute, block], "test", None), start="2021-01",
        end="2023-06",
    )  # fmt: skip
    with pytest.warns(UserWarning, match=r"'tur-block'.*starts \(2024-01\) after the generated"):
        table_of(src)
    assert src.inert == ["tur-block"]
    assert set(src.labels.column("scenario").to_pylist()) == {"tur-roundabout"}


MISDECLARED = """\
scenarios:
  - id: kor-chn-both
    kind: misdeclare
    exporters: KOR
    importers: CHN
    codes: {"854239": "854290"}
    start: 2023-01
    side: both
    share: 0.5
"""


@pytest.mark.slow  # two years of trade, ~1.5 s
def test_misdeclared_goods_keep_their_weight(tmp_path: Path) -> None:
    """Goods declared under the neighbouring code weigh what they weigh: the declared_to
    code's USD/kg moves toward the declared_from code's (it stayed at the neighbour's own,
    hiding the misdeclaration from a unit-value detector), on each declaring side; the
    declared_from code keeps its unit value, and an untouched pair's moves by noise only."""
    (tmp_path / "m.yaml").write_text(MISDECLARED, encoding="utf-8")
    src = SyntheticTrade(seed=2, start="2022-01", end="2023-12", min_usd=300_000.0,
                         scenarios=tmp_path / "m.yaml")  # fmt: skip
    con = duckdb.connect()
    con.register("t", pa.Table.from_batches(list(src.batches())))
    uv = {
        (f, r, p, c, y): v
        for f, r, p, c, y, v in con.execute(
            "SELECT flow, reporter, partner, CAST(hs AS VARCHAR), year(period), "
            "sum(value_usd) / sum(net_kg) FROM t WHERE CAST(hs AS VARCHAR) IN "
            "('854239', '854290') GROUP BY ALL"
        ).fetchall()
    }
    for flow, rep, par in (("export", "KOR", "CHN"), ("import", "CHN", "KOR")):
        before_to, after_to = uv[flow, rep, par, "854290", 2022], uv[flow, rep, par, "854290", 2023]
        uv_from = uv[flow, rep, par, "854239", 2022]
        assert abs(uv[flow, rep, par, "854239", 2023] / uv_from - 1) < 0.1
        gap_before, gap_after = (
            abs(math.log(before_to / uv_from)),
            abs(math.log(after_to / uv_from)),
        )
        assert gap_after < 0.5 * gap_before, (flow, before_to, after_to, uv_from)
    # the same code between other countries: its unit value moves by noise only
    others = [(k, v) for k, v in uv.items() if k[3] == "854290" and k[4] == 2022
              and (k[0], k[1], k[2]) not in (("export", "KOR", "CHN"), ("import", "CHN", "KOR"))
              and (k[0], k[1], k[2], k[3], 2023) in uv]  # fmt: skip
    moves = [abs(math.log(uv[(*k[:4], 2023)] / v)) for k, v in others]
    assert len(moves) > 20 and statistics.median(moves) < 0.2
