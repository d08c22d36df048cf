"""The alert queue page in Chromium (Playwright, as tests/test_browser.py): BLOCK first and
red, FLAG amber, reasons collapsed, one click to the list entry; desktop and phone widths.
Screenshots: test-artifacts/browser/alerts-*.png and /tmp/transship-alerts-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests._serve import serve
from tests.conftest import write
from tests.test_browser import ARTIFACTS, Watch, browser  # noqa: F401  (the fixture)
from transship.screening import load_lists, screen_file
from transship.settings import get_settings

pytestmark = pytest.mark.browser
HEADER = (
    "id,date,exporter_name,exporter_country,consignee_name,consignee_country,"
    "origin_country,destination_country,hs_code,value,currency\n"
)


@pytest.fixture(scope="module")
def alerts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    d = tmp_path_factory.mktemp("alerts")
    wh = d / "w.duckdb"
    load_lists(wh, "hand", [write(d / "l.csv", "id,name,aliases,country\n"
                                  "e1,ООО Ромашка,Romashka Trading,RU\n")])  # fmt: skip
    # a FLAG first (older), then a BLOCK: the queue still shows the BLOCK first
    flag = HEADER + "F-1,2024-11-05,Anka Elektronik,TR,Step Trade,KZ,DE,KZ,854231,10,USD\n"
    screen_file(write(d / "f.csv", flag), "eu-annex-xl", ["hand"], wh)
    block = HEADER + "B-1,2024-11-05,Anka Elektronik,TR,Romashka OOO,RU,CN,RU,940540,10,USD\n"
    screen_file(write(d / "b.csv", block), "tr-customs-2024", ["hand"], wh)
    settings = get_settings().model_copy(update={"warehouse": wh})
    with serve(settings, check_stopped=False) as (url, _):
        yield url


@pytest.mark.parametrize("width", [1280, 390])
def test_alert_queue(browser: Any, alerts_server: str, width: int) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": width, "height": 800})
    watch = Watch(page, alerts_server)
    page.goto(alerts_server + "/alerts")
    cards = page.locator("article.alert")
    assert cards.count() == 2
    assert [cards.nth(i).get_attribute("data-severity") for i in range(2)] == ["BLOCK", "FLAG"]
    border = [cards.nth(i).evaluate("e => getComputedStyle(e).borderLeftColor") for i in range(2)]
    assert border == ["rgb(198, 40, 40)", "rgb(249, 168, 37)"]  # red, amber
    first = cards.nth(0)
    assert first.locator("details").get_attribute("open") is None  # reasons collapsed
    assert not first.locator("details li").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    shot = f"alerts-{width}.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    page.screenshot(path=f"/tmp/transship-{shot}", full_page=True)
    first.locator("summary").click()
    assert first.locator("details li").first.is_visible()
    assert "hand:e1" in first.locator("details li").first.inner_text()
    # one click to the list entry
    first.locator("a.entry").first.click()
    page.wait_for_url("**/alerts/entry**")
    assert "Romashka Trading" in page.locator("#entry").inner_text()
    page.screenshot(path=f"/tmp/transship-alert-entry-{width}.png", full_page=True)
    assert watch.errors == [] and watch.outside == []
