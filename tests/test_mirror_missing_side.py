"""Mirror with a missing side: Russia reports nothing from 2022 in the synthetic world.

TUR -> RUS must come out month by month with Russia's side marked missing (never a silent
switch to annual, never no rows), and every chart of it must have a sane size (an empty
Vega chart sizes itself to 1.8e308 px; the bug drew a 33-million-pixel page).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from transship.sources.synthetic import SyntheticTrade
from transship.warehouse import Warehouse

MAX_PX = 4000


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    w = Warehouse(tmp_path_factory.mktemp("mirror") / "m.duckdb")
    w.ingest(SyntheticTrade(seed=2, start="2021-01", end="2023-12", min_usd=500_000.0))
    yield w
    w.close()


def _size(spec: dict[str, Any]) -> tuple[float, float]:
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    m = re.search(r'width="([^"]+)" height="([^"]+)"', svg)
    assert m, svg[:200]
    return float(m.group(1)), float(m.group(2))


@pytest.mark.slow
def test_missing_importer_is_reported_month_by_month(synth: Warehouse) -> None:
    from transship.analysis.mirror import mirror

    r = mirror(synth.ibis(), exporters="TUR", importers="RUS", period="2022-01..2023-09",
               window=1)  # fmt: skip
    assert r.freq == "M" and not any("annually" in n for n in r.notes)
    rows = r.to_pyarrow().to_pylist()
    assert [x["period"] for x in rows] == [date(2022 + (m // 12), m % 12 + 1, 1)
                                           for m in range(21)]  # fmt: skip
    assert all(x["m_missing"] and x["m_usd"] is None and x["breach"] is None for x in rows)
    assert all(not x["x_missing"] and x["x_usd"] > 0 for x in rows)
    # whole period and 3-month windows: the same present side, the other missing
    whole = mirror(synth.ibis(), exporters="TUR", importers="RUS", period="2022-01..2023-09",
                   window=None).to_pyarrow().to_pylist()  # fmt: skip
    assert len(whole) == 1 and whole[0]["m_missing"] and whole[0]["gap_usd"] is None
    assert whole[0]["x_usd"] == pytest.approx(sum(x["x_usd"] for x in rows))
    win = mirror(synth.ibis(), exporters="TUR", importers="RUS", period="2022-01..2023-09")
    assert len(win.to_pyarrow()) == 19 and win.freq == "M"


@pytest.mark.slow
def test_mirror_charts_draw_the_missing_side_at_a_sane_size(synth: Warehouse) -> None:
    from transship.report.charts import make_chart, spec

    for target in ("russia", "russia+ft_five"):
        for kind in ("mirror", "mirror_monthly"):
            c = spec(make_chart(synth.ibis(), kind, hub="TUR", target=target,
                                period="2023-01..2023-09"))  # fmt: skip
            w, h = _size(c)
            assert 300 < w < MAX_PX and 50 < h < MAX_PX, (target, kind, w, h)
            assert "not reported" in str(c)  # the band's label


def test_empty_charts_stay_small() -> None:
    from transship.report.charts import compare_bars, hubs_chart, mirror_chart, spec

    for chart in (
        mirror_chart([], title="t", synthetic=False),
        hubs_chart([], synthetic=False),
        compare_bars([], key="partner", labels=("a", "b", "c"), title="t", synthetic=True),
    ):
        w, h = _size(spec(chart))
        assert w < MAX_PX and h < MAX_PX


@pytest.mark.slow
def test_report_and_dashboard_mirror_page(synth: Warehouse) -> None:
    from fastapi.testclient import TestClient

    from transship.report.charts import spec, story_charts
    from transship.report.story import hub_story
    from transship.settings import get_settings
    from transship.web.app import create_app

    story = hub_story(synth.ibis(), hub="TUR", target="russia", period="2023-01..2023-09",
                      baseline="2021..2021")  # fmt: skip
    assert len(story.mirror_monthly) == 9 and all(m["m_missing"] for m in story.mirror_monthly)
    for kind, chart in story_charts(story).items():
        w, h = _size(spec(chart))
        assert w < MAX_PX and h < MAX_PX, (kind, w, h)
    settings = get_settings().model_copy(update={"warehouse": synth.path})
    synth.close()
    with TestClient(create_app(settings)) as client:
        r = client.get("/mirror?hub=TUR&target=russia&period=2023-01..2023-09")
        assert r.status_code == 200, r.text[:500]
        assert "not reported" in r.text and "SYNTHETIC" in r.text
