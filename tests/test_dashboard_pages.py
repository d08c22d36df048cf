"""The dashboard's page registry: one module per page in web/dashboard/pages, each found,
routed, in the nav and warmed, with nothing else to edit."""

from __future__ import annotations

import pkgutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from transship.settings import Settings
from transship.warehouse import Warehouse
from transship.web.app import create_app
from transship.web.dashboard import pages


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    pages.registry.cache_clear()
    yield
    sys.modules.pop(f"{pages.__name__}.countries", None)
    pages.registry.cache_clear()


def test_registry_has_every_page_module_in_nav_order() -> None:
    modules = {m.name for m in pkgutil.iter_modules(pages.__path__) if not m.name.startswith("_")}
    assert set(pages.registry()) == modules
    assert [label for label, _ in pages.nav()] == [
        "overview", "hub", "product", "mirror", "detect", "screening", "alerts",
    ]  # fmt: skip


def test_every_nav_link_is_served(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(warehouse=tmp_path / "w.duckdb")))
    served = set(client.get("/openapi.json").json()["paths"])  # the pages are in the schema
    assert {href for _, href in pages.nav()} <= served


def test_a_new_page_is_one_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "countries.py").write_text(
        textwrap.dedent(
            """
            from transship.web.dashboard.base import PageData, Table, filter_page

            def compute(con, f):
                n = con.table("trade_flows").count().execute()
                rows = [{"target": f["target"], "rows": int(n)}]
                return PageData(title="Countries", tables={"n": Table(rows, "Rows")})

            PAGE = filter_page("countries", "/countries", order=55, fields=("target",),
                               summary="Rows", compute=compute)
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(pages, "__path__", [*pages.__path__, str(extra)])
    Warehouse(tmp_path / "w.duckdb").close()
    client = TestClient(create_app(Settings(warehouse=tmp_path / "w.duckdb")))  # no warm-up
    page = client.get("/countries?target=KAZ")
    assert page.status_code == 200, page.text
    assert 'href="/countries' in page.text and "KAZ" in page.text  # in the nav, filtered
    csv = client.get("/countries?target=KAZ&download=n")
    assert csv.text.splitlines() == ["target,rows", "KAZ,0"]
    assert 'href="/countries' in client.get("/screening").text  # every page's nav


def test_a_page_that_forgets_the_label_is_labelled_synthetic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    """A page module that never sets PageData.synthetic, over a warehouse with synthetic rows,
    still shows the SYNTHETIC label and names its CSV so; over real rows it does not."""
    from transship.sources.csvfile import csv_file

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "countries.py").write_text(
        textwrap.dedent(
            """
            from transship.web.dashboard.base import PageData, Table, filter_page

            def compute(con, f):
                n = con.table("trade_flows").count().execute()
                return PageData(title="Countries", tables={"n": Table([{"rows": int(n)}], "Rows")})

            PAGE = filter_page("countries", "/countries", order=55, fields=("target",),
                               summary="Rows", compute=compute)
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(pages, "__path__", [*pages.__path__, str(extra)])
    for source, labelled in (("synthetic", True), ("comtrade", False)):
        path = tmp_path / f"{source}.duckdb"
        rows = tmp_path / f"{source}.csv"
        rows.write_text(
            "reporter,partner,flow,hs,period,value_usd\nTUR,RUS,export,854231,2023-01,5\n"
        )
        with Warehouse(path) as wh:
            wh.ingest(csv_file(rows, source=source, mapping=[]))
        client = TestClient(create_app(Settings(warehouse=path)))
        html = client.get("/countries?target=KAZ").text
        csv = client.get("/countries?target=KAZ&download=n")
        assert ("SYNTHETIC" in html) is labelled, source
        assert ("SYNTHETIC" in csv.headers["content-disposition"]) is labelled, source


@pytest.mark.slow  # four uploads screened, ~1 s
def test_upload_names_that_are_no_file_name_are_screened(tmp_path: Path) -> None:
    """An upload named "..", "." or "/" (a directory inside the temporary one) or with a NUL
    byte was a 500 (IsADirectoryError, ValueError); it is screened as declarations.csv."""
    from transship.screening import load_lists, verify_audit
    from transship.web.dashboard.pages.screening import upload_name

    assert [upload_name(n) for n in ("..", ".", "/", "", None, "a\0b.csv", "x/../d.csv")] == [
        *["declarations.csv"] * 5, "ab.csv", "d.csv",
    ]  # fmt: skip
    wh = tmp_path / "w.duckdb"
    (tmp_path / "l.csv").write_text("id,name,country\ne1,Romashka LLC,RU\n", encoding="utf-8")
    load_lists(wh, "hand", [tmp_path / "l.csv"])
    decl = b"id,date,origin_country,destination_country,hs_code\nU1,2024-11-05,USA,RUS,854231\n"
    with TestClient(create_app(Settings(warehouse=wh))) as client:
        for name in ("..", ".", "/"):
            r = client.post(
                "/screening",
                files={"file": (name, decl, "text/csv")},
                data={"policy": "tr-customs-2024"},
            )
            assert r.status_code == 200 and "1 BLOCK" in r.text, (name, r.status_code)
    assert verify_audit(wh).records == 3
