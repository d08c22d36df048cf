"""What every dashboard page shares: the data a page shows (PageData, Table), the page
registry entry (Page), the filters' defaults, and `render`, which turns a request into HTML
or a CSV download.

A page is one module in `transship.web.dashboard.pages` that defines `PAGE` (see that
package's docstring); nothing here names a page.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from transship import __version__
from transship.errors import TransshipError
from transship.safepath import safe_row

WEB = Path(__file__).resolve().parents[1]  # web/: templates/ and static/
DEFAULTS = {
    "hub": "TUR",
    "target": "russia+ft_five",
    "period": "2023-01..2023-09",
    "products": "chpl",
    "baseline": "2015..2021",
}
PERIODS = ("2023-01..2023-09", "2022-01..2022-09", "2023-01..2023-12", "2022-03..2023-02")


@dataclass
class Table:
    rows: list[dict[str, Any]]
    title: str
    link: str | None = None  # a column whose values open the hub page


@dataclass
class PageData:
    title: str
    headlines: list[str] = field(default_factory=list)
    charts: dict[str, Any] = field(default_factory=dict)  # id -> Vega-Lite spec
    tables: dict[str, Table] = field(default_factory=dict)
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)


Compute = Callable[[Any, dict[str, str]], PageData]  # (Ibis connection, filters) -> data


@dataclass(frozen=True)
class Page:
    """One entry of the registry: the nav link and, for pages served here, the router.

    `compute` pages read the warehouse: the Dashboard computes them under its lease, caches
    them per URL and warms them at startup with their defaults. A page without `compute`
    brings its own router (screening), or none when another module serves it (alerts)."""

    name: str  # nav label, template `name`, CSV file name prefix
    path: str
    order: int  # position in the nav
    fields: tuple[str, ...] = ()  # the filters read from the URL
    compute: Compute | None = None
    router: APIRouter | None = None
    defaults: Mapping[str, str] = field(default_factory=dict)  # filters DEFAULTS lacks

    def filters(self, request: Request) -> dict[str, str]:
        d = {**DEFAULTS, **self.defaults}
        return {k: request.query_params.get(k) or d[k] for k in self.fields}

    def default_filters(self) -> dict[str, str]:
        d = {**DEFAULTS, **self.defaults}
        return {k: d[k] for k in self.fields}


def filter_page(
    name: str, path: str, *, order: int, fields: tuple[str, ...], summary: str, compute: Compute
) -> Page:
    """A page computed from the warehouse with filters in the URL, and its GET route."""
    router = APIRouter()
    page: Page | None = None

    @router.get(path, response_class=HTMLResponse, summary=summary, name=name)
    def show(request: Request) -> Response:
        assert page is not None
        return render(request, page)

    page = Page(name, path, order, fields, compute, router)
    return page


def format_cell(column: str, value: Any) -> str:
    from transship.report.html import money

    if value is None:
        return ""
    if column.endswith("_usd") or column in ("low", "high", "mean"):
        return money(float(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}" if column.endswith("_multiple") else f"{value:.3g}"
    return str(value)


def table_csv(rows: list[dict[str, Any]], synthetic: bool) -> str:
    buf = io.StringIO()
    if synthetic:  # the label travels with every row
        rows = [{"data": "SYNTHETIC", **r} for r in rows]
    columns = list(rows[0]) if rows else []
    w = csv.writer(buf, lineterminator="\r\n")  # RFC 4180: a CR inside a cell is quoted too
    w.writerow(safe_row(columns))
    for r in rows:  # text a spreadsheet would run as a formula gets a leading '
        w.writerow(safe_row("" if r.get(k) is None else r.get(k) for k in columns))
    return buf.getvalue()


@functools.cache
def templates() -> Any:
    import jinja2
    from fastapi.templating import Jinja2Templates

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB / "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = format_cell
    return Jinja2Templates(env=env)


def render(
    request: Request,
    page: Page,
    compute: Callable[[dict[str, str]], PageData] | None = None,
    **extra: Any,
) -> Response:
    """The page as HTML (status 4xx/5xx with the error's message when it fails), or one of
    its tables as CSV with `download=<table>`. `compute` overrides the dashboard's cached
    computation (pages that read no warehouse)."""
    from transship.web.dashboard.pages import nav

    dash = request.app.state.dashboard
    filters = page.filters(request)
    ctx: dict[str, Any] = {
        "name": page.name,
        "nav": nav(),
        "filters": filters,
        "fields": page.fields,
        "periods": PERIODS,
        "version": __version__,
        "query": str(request.url.query),
        **extra,
    }
    try:
        data = compute(filters) if compute else dash.page(page.name, filters)
    except TransshipError as e:
        ctx.update(data=PageData(title=page.name.title()), error=str(e))
        return templates().TemplateResponse(  # type: ignore[no-any-return]
            request, "page.html.j2", ctx, status_code=e.http_status
        )
    download = request.query_params.get("download")
    if download:
        table = data.tables.get(download)
        if table is None:
            return Response(f"no table {download!r} on this page", status_code=404)
        prefix = "SYNTHETIC-" if data.synthetic else ""
        return Response(
            table_csv(table.rows, data.synthetic),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{prefix}{page.name}-{download}.csv"'
            },
        )
    ctx.update(data=data, error=None)
    return templates().TemplateResponse(request, "page.html.j2", ctx)  # type: ignore[no-any-return]
