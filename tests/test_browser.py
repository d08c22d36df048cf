"""The dashboard and the report in a real browser: Playwright driving Chromium (headless, no
sandbox, no background networking). The server runs on a free loopback port; any request
to another host is refused and fails the test. Screenshots go to test-artifacts/browser/.

Skips, with the reason, only when Playwright or Chromium is missing (.ci/run installs both).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._serve import serve
from tests.conftest import REPO, copy_warehouse
from transship.settings import get_settings
from transship.warehouse import Warehouse, open_warehouse

ARTIFACTS = REPO / "test-artifacts" / "browser"
PAGES = ("/", "/hub", "/product", "/mirror")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    chromium = get_settings().chromium
    if chromium is None or not Path(chromium).exists():
        pytest.skip("no chromium found (apt-get install chromium, or set TRANSSHIP_CHROMIUM)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(chromium),
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory, small_synthetic: Path) -> Path:
    from transship.screening.lists import load_list

    # the server writes audit records: a private copy of the session's small warehouse
    path = copy_warehouse(small_synthetic, tmp_path_factory.mktemp("browser") / "demo.duckdb")
    names = path.with_name("list.csv")
    names.write_text("id,name,country\ne1,OOO Romashka,RU\n", encoding="utf-8")
    with Warehouse(path) as wh:
        load_list(wh.con, "hand", [names])  # screening refuses to run without a list
    return path


@pytest.fixture(scope="module")
def server(demo_db: Path) -> Iterator[str]:
    settings = get_settings().model_copy(update={"warehouse": demo_db})
    with serve(settings, check_stopped=False) as (url, _):
        yield url


class Watch:
    """Console errors, page errors and any request that leaves the allowed origin."""

    def __init__(self, page: Any, origin: str) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r: Any) -> None:
            if r.request.url.startswith(origin) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        page.route("**/*", route)


def charts_drawn(page: Any) -> int:
    """Wait until every .chart holds an SVG; return how many."""
    page.wait_for_function(
        "document.querySelectorAll('.chart').length > 0 && "
        "document.querySelectorAll('.chart').length === "
        "document.querySelectorAll('.chart svg, .chart canvas').length",
        timeout=15000,
    )
    return int(page.locator(".chart svg").count())


def new_page(browser: Any, origin: str, width: int = 1366) -> tuple[Any, Watch]:
    page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    return page, Watch(page, origin)


@pytest.mark.parametrize("path", ["/", "/hub", "/mirror"])
def test_phone_width_charts_fit_and_nav_wraps(browser: Any, server: str, path: str) -> None:
    page, watch = new_page(browser, server, width=390)
    page.goto(server + path)
    assert charts_drawn(page) >= 1
    # nothing wider than the phone: the page does not scroll sideways, each chart fits
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    widths = page.evaluate(
        "Array.from(document.querySelectorAll('.chart svg'))"
        ".map(s => s.getBoundingClientRect().right)"
    )
    assert widths and max(widths) <= 390, widths
    nav = page.evaluate("document.querySelector('nav').getBoundingClientRect().height")
    assert nav > 40  # the links wrapped onto a second line instead of running off the screen
    name = path.strip("/") or "overview"
    page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=False)
    assert watch.errors == [] and watch.outside == []
    page.close()


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_charts(browser: Any, server: str, path: str) -> None:
    page, watch = new_page(browser, server)
    page.goto(server + path)
    assert charts_drawn(page) >= 1
    assert page.locator("#synthetic-banner").is_visible()  # the sample is synthetic
    assert page.locator("table tbody tr").count() > 0
    name = path.strip("/") or "overview"
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert watch.errors == [] and watch.outside == []
    page.close()


def test_filter_changes_the_data(browser: Any, server: str) -> None:
    page, watch = new_page(browser, server)
    page.goto(server + "/hub")
    charts_drawn(page)
    before = page.locator("#headlines li").first.inner_text()
    assert "Jan\u2013Sep 2023" in before
    page.fill("input[name=period]", "2022-01..2022-09")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r"period=2022-01\.\.2022-09"))
    charts_drawn(page)
    after = page.locator("#headlines li").first.inner_text()
    assert "Jan\u2013Sep 2022" in after and after != before
    # the sample's 2022 level is below 2023's: the total in the first sentence changed
    money = re.compile(r"exported \$([\d.]+)M")
    m1, m2 = money.search(before), money.search(after)
    assert m1 and m2 and float(m2.group(1)) < float(m1.group(1))
    page.screenshot(path=str(ARTIFACTS / "hub-2022.png"), full_page=True)
    # a hub link on the overview keeps the filters and opens that hub
    page.goto(server + "/?period=2022-01..2022-09")
    page.click("#table-hubs a >> text=TUR")
    page.wait_for_url(lambda u: "/hub?" in u and "hub=TUR" in u and "period=2022-01..2022-09" in u)
    charts_drawn(page)
    assert "Jan\u2013Sep 2022" in page.locator("#headlines li").first.inner_text()
    assert watch.errors == [] and watch.outside == []
    page.close()


def test_tables_download_as_csv(browser: Any, server: str) -> None:
    page, _ = new_page(browser, server)
    page.goto(server + "/mirror")
    with page.expect_download() as dl:
        page.click("#table-pairs a.csv")
    d = dl.value
    assert d.suggested_filename == "SYNTHETIC-mirror-pairs.csv"
    text = Path(d.path()).read_text(encoding="utf-8")
    assert text.startswith("data,exporter,importer,")
    rows = text.strip().splitlines()[1:]
    assert rows and all(r.startswith("SYNTHETIC,TUR,") for r in rows)
    page.close()


def test_bad_filter_shows_the_error(browser: Any, server: str) -> None:
    page, _ = new_page(browser, server)
    resp = page.goto(server + "/hub?hub=NARNIA")
    assert resp is not None and resp.status == 400
    assert "NARNIA" in page.locator("#error").inner_text()
    page.close()


def test_report_renders_offline(browser: Any, demo_db: Path, tmp_path: Path) -> None:
    from transship.report import build_report
    from transship.report.html import html_to_pdf

    # the server in this process holds the file: open it with the same configuration
    with open_warehouse(demo_db) as wh:
        r = build_report(wh.ibis(), hub="TUR", period="2023-01..2023-09", out=tmp_path / "r.html")
    page, watch = new_page(browser, "file://")
    page.goto(r.out.as_uri())
    # monthly, compare, mirror, mirror month by month, tiers, products (story_charts)
    assert charts_drawn(page) == 6
    assert page.locator(".watermark").inner_text() == "SYNTHETIC"
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=False)
    assert watch.errors == [] and watch.outside == []
    # no sideways scroll: long paths and hashes wrap; on a phone a wide chart or table
    # scrolls in its own box
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.close()
    page, _ = new_page(browser, "file://", width=390)
    page.goto(r.out.as_uri())
    assert charts_drawn(page) == 6
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()
    # html_to_pdf starts its own Playwright; this thread already runs one, so use another
    worker = threading.Thread(target=html_to_pdf, args=(r.out, tmp_path / "r.pdf"))
    worker.start()
    worker.join(60)
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"


def test_screening_upload_shows_decisions(browser: Any, server: str, tmp_path: Path) -> None:
    decl = tmp_path / "declarations.csv"
    decl.write_text(
        "id,date,origin_country,destination_country,hs_code,exporter_name,consignee_name\n"
        "D1,2024-11-05,USA,RUS,8542310010,Acme Elektronik,OOO Romashka\n"
        "D2,2024-11-05,TUR,DEU,030389,Balik AS,Fisch GmbH\n",
        encoding="utf-8",
    )
    page, watch = new_page(browser, server)
    page.goto(server + "/screening")
    page.set_input_files("#upload input[type=file]", str(decl))
    page.select_option("#upload select[name=policy]", "tr-customs-2024")
    page.click("#upload button[type=submit]")
    page.wait_for_url(re.compile(r"/screening\?result="))
    rows = page.locator("#table-decisions tbody tr")
    assert rows.count() == 2
    text = page.locator("#table-decisions").inner_text()
    assert "BLOCK" in text and "tr-us-chpl-russia" in text and "ALLOW" in text
    page.screenshot(path=str(ARTIFACTS / "screening.png"), full_page=True)
    assert watch.errors == [] and watch.outside == []
    page.close()
