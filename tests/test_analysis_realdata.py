"""End to end on real data: Eurostat Comext monthly EU27 exports (EUR) of sanctioned goods to
Russia and its neighbours, 2020-01..2022-11 (../shared/data). CN8 rows are summed to HS6 and
ingested with the `ingest csv` machinery; 2020-2021 rows are HS2017, 2022 rows HS2022.
Values stay in EUR (loaded as value_usd): the checks are sums, ratios and scores, and each
expected number is recomputed here from the raw file.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._engines import spark_session  # noqa: F401
from transship import reference
from transship.analysis.anomalies import anomalies, event_study
from transship.analysis.flows import flows
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse

# Reading and summing the real file takes ~3 s of setup: the full run's, not the quick loop's.
pytestmark = pytest.mark.slow
FILE = "eurostat-eu27-cn8-exports-2020-2022/eu27_exports_cn8_monthly_2020_2022.csv.gz"
# CHPL codes found in the file whose HS2017 code is the same six digits (no concordance
# needed, so the expected sums below are plain prefix sums of the raw CN8 rows)
SAME = ["847150", "847180", "848220", "851762", "851769", "852691", "852910", "854110",
        "854121", "854129", "854231", "854232", "854233", "854239", "901310", "901380"]  # fmt: skip


def _iso3(name: str) -> str:
    return reference.country(name.split(" (")[0]).iso3


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str, str, float]]:
    from tests.conftest import SHARED

    path = SHARED / FILE
    if not path.exists():
        pytest.skip(f"real public data not found at {path} (../shared/data)")
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    t = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
        column_types={"product_code": pa.string()}))  # fmt: skip
    t = t.filter(pc.equal(pc.utf8_length(t["product_code"]), 8))  # CN8 rows, not HS4 headings
    hs6 = pc.utf8_slice_codeunits(t["product_code"], 0, 6)
    wanted = set(SAME) | {"880330", "880730", "854151", "854159"}
    t = t.append_column("hs", hs6).filter(pc.is_in(hs6, pa.array(sorted(wanted))))
    names = {n: _iso3(n) for n in pc.unique(t["reporter"]).to_pylist()}
    names |= {n: _iso3(n) for n in pc.unique(t["partner"]).to_pylist()}
    cols = [t[c].to_pylist() for c in ("reporter", "partner", "hs", "period", "value_eur")]
    return [(names[r], names[p], h, per, v) for r, p, h, per, v in zip(*cols, strict=True)]


@pytest.fixture(scope="module")
def con(raw: list[Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    summed: dict[tuple[str, str, str, str], float] = defaultdict(float)
    for r, p, h, per, v in raw:
        summed[r, p, h, per] += v
    d = tmp_path_factory.mktemp("eurostat")
    lines = ["rep,par,hs,period,value"] + [
        f"{r},{p},{h},{per},{v!r}" for (r, p, h, per), v in sorted(summed.items())
    ]
    (d / "eu.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    wh = Warehouse(d / "w.duckdb")
    wh.ingest(csv_file(d / "eu.csv", source="comext", constants=["flow=export"], mapping=[
        "rep=reporter", "par=partner", "hs=hs", "period=period", "value=value_usd"]))  # fmt: skip
    yield wh.ibis()
    wh.close()


def monthly(raw: list[Any], partners: set[str], codes: set[str]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for _, p, h, per, v in raw:
        if p in partners and h in codes:
            out[per] += v
    return out


def test_monthly_flows_equal_raw_sums(con: Any, raw: list[Any]) -> None:
    r = flows(con, reporter="eu27", partner="RUS", products=",".join(SAME), by=["period"])
    got = {f"{row['period']:%Y-%m}": row["value_usd"] for row in r.to_pyarrow().to_pylist()}
    want = monthly(raw, {"RUS"}, set(SAME))
    assert got.keys() == want.keys() and len(got) == 35  # 2020-01 .. 2022-11
    assert all(got[k] == pytest.approx(want[k]) for k in want)


def test_concordance_follows_880330_into_880730(con: Any, raw: list[Any]) -> None:
    r = flows(con, reporter="eu27", products="880730", period="2021", by=[])
    assert r.to_pyarrow().to_pylist()[0]["value_usd"] == pytest.approx(
        sum(v for _, _, h, per, v in raw if h == "880330" and per.startswith("2021"))
    )


def test_invasion_collapse_to_russia_and_roundabout(con: Any, raw: list[Any]) -> None:
    """EU exports of these goods to Russia collapse after Feb 2022; to Armenia and
    Kyrgyzstan they jump (the EBRD 'Eurasian roundabout')."""
    codes = set(SAME)
    for partner, check in (("RUS", lambda x: x < 0.5), ("ARM+KGZ", lambda x: x > 2)):
        r = event_study(con, event="invasion", reporter="eu27", partner=partner,
                        products=",".join(SAME), before=12, after=9)  # fmt: skip
        series = r.to_pyarrow().to_pylist()
        want = monthly(raw, set(partner.split("+")), codes)
        pre = [want.get(f"{row['period']:%Y-%m}", 0.0) for row in series if row["rel_month"] < 0]
        assert series[0]["pre_mean_usd"] == pytest.approx(sum(pre) / 12)
        after = [row["index"] for row in series if row["rel_month"] >= 2]  # Apr-Nov 2022
        assert check(sum(after) / len(after)), (partner, after)


def test_anomaly_score_recomputed_from_raw(con: Any, raw: list[Any]) -> None:
    r = anomalies(con, reporter="eu27", partner="KGZ+ARM+KAZ", products=",".join(SAME),
                  pre="2020-01..2021-12", post="2022-03..2022-11", min_pre_months=12)  # fmt: skip
    top = r.to_pyarrow().to_pylist()[0]
    assert top["rank"] == 1 and top["score"] > 3.5
    series: dict[str, float] = defaultdict(float)
    for rep, p, h, per, v in raw:
        if (rep, p, h) == (top["reporter"], top["partner"], top["hs2022"]):
            series[per] += v
    pre = [math.log(v) for k, v in series.items() if "2020-01" <= k <= "2021-12" and v > 0]
    med = statistics.median(pre)
    mad = statistics.median(abs(y - med) for y in pre)
    post = sum(v for k, v in series.items() if "2022-03" <= k <= "2022-11") / 9
    assert top["pre_mad"] == pytest.approx(mad)
    assert top["score"] == pytest.approx((math.log(post) - med) / max(1.4826 * mad, 0.1))


def test_spark_gives_the_same_series(con: Any, tmp_path: Path, spark_session: Any) -> None:  # noqa: F811
    from transship.analysis.engine import spark_backend

    wh_con = con.con  # the DuckDB connection under the Ibis backend
    out = tmp_path / "pq"
    wh_con.execute(f"COPY trade_flows TO '{out}' (FORMAT parquet, PARTITION_BY (source))")
    s = spark_backend(out, spark_session)
    kw: dict[str, Any] = {
        "reporter": "eu27",
        "partner": "RUS",
        "products": "chpl",
        "by": ["period"],
        "period": "2022-01..2022-11",
        "compare": "prior",
    }
    a = flows(con, **kw).to_pyarrow().to_pylist()
    b = flows(s, **kw).to_pyarrow().to_pylist()
    assert len(a) == len(b) == 11
    for x, y in zip(a, b, strict=True):
        assert x["period"] == y["period"]
        assert x["value_usd"] == pytest.approx(y["value_usd"])
        assert x["compare_usd"] == pytest.approx(y["compare_usd"])
