"""The dashboard: overview, hub, product, mirror and screening pages, rendered on the server.

Filters live in the URL (`/hub?hub=TUR&period=2023-01..2023-09`), so every view can be
linked and reloaded. Each table is downloadable as CSV from the same URL with
`download=<table>`. Charts are Vega-Lite specs drawn by the Vega bundle served from
`/static/vega.js` (no CDN). The warehouse is opened once; while the server holds it no other
process can write to it and nothing here writes trade_flows, so pages are cached per URL.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from transship import __version__
from transship.errors import TransshipError, UsageError, WarehouseError
from transship.safepath import safe_row
from transship.settings import Settings

HERE = Path(__file__).parent
DEFAULTS = {
    "hub": "TUR",
    "target": "russia+ft_five",
    "period": "2023-01..2023-09",
    "products": "chpl",
    "baseline": "2015..2021",
}
PERIODS = ("2023-01..2023-09", "2022-01..2022-09", "2023-01..2023-12", "2022-03..2023-02")
CACHE_PAGES = 256


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


# -- pages: filters in, PageData out ------------------------------------------------------
def overview_page(con: Any, f: dict[str, str]) -> PageData:
    from transship.report.charts import compare_bars, hubs_chart, spec
    from transship.report.views import compared

    v = compared(
        con,
        by="reporter",
        reporter="hubs",
        partner=f["target"],
        products=f["products"],
        period=f["period"],
        baseline=f["baseline"],
    )
    b = f["baseline"].replace("..", "-")
    charts = {
        "exports": spec(
            compare_bars(
                v.rows[:12],
                key="reporter",
                labels=(f["period"], "prior year", f"{b} mean"),
                title=f"{f['products']} exports of candidate hubs to {f['target']}",
                synthetic=v.synthetic,
            )
        )
    }
    ranking, ranked = _ranking(con, f["products"], f["baseline"])
    if any(r["did"] is not None for r in ranked):
        charts["ranking"] = spec(hubs_chart(ranked, synthetic=ranking.synthetic))
    return PageData(
        title="Overview: candidate hubs",
        charts=charts,
        tables={
            "hubs": Table(v.rows, f"Exports of the candidate hubs to {f['target']}", "reporter"),
            "ranking": Table(ranked, "Hub ranking (difference in differences)", "hub"),
        },
        synthetic=v.synthetic or ranking.synthetic,
        notes=list(dict.fromkeys(v.notes + ranking.notes)),
    )


@functools.lru_cache(maxsize=16)
def _ranking(con: Any, products: str, baseline: str) -> tuple[Any, list[dict[str, Any]]]:
    """hubs() does not depend on the overview's period or target: computed once per
    (products, baseline) for a connection, whatever the other filters."""
    from transship.analysis.hubs import hubs

    r = hubs(con, products=products, baseline=baseline)
    return r, r.to_pyarrow().to_pylist()


def hub_page(con: Any, f: dict[str, str]) -> PageData:
    from transship.report.charts import spec, story_charts
    from transship.report.html import headlines
    from transship.report.story import hub_story

    s = hub_story(
        con,
        hub=f["hub"],
        target=f["target"],
        period=f["period"],
        products=f["products"],
        baseline=f["baseline"],
    )
    charts = story_charts(s)
    return PageData(
        title=f"Hub: {s.hub}",
        headlines=headlines(s),
        charts={k: spec(charts[k]) for k in ("monthly", "compare", "tiers")},
        tables={
            "partners": Table(s.by_partner, "By destination"),
            "monthly": Table(s.monthly, "Monthly by partner"),
            "tiers": Table(s.by_tier, "By CHPL tier"),
        },
        synthetic=s.synthetic,
        notes=s.notes,
    )


def product_page(con: Any, f: dict[str, str]) -> PageData:
    from transship.report.charts import series_chart, spec
    from transship.report.views import compared

    common: dict[str, Any] = {
        "reporter": f["hub"],
        "partner": f["target"],
        "products": f["products"],
        "period": f["period"],
        "baseline": f["baseline"],
    }
    hs = compared(con, by="hs2022", **common)
    tiers = compared(con, by="tier", series=True, **common)
    chart = series_chart(
        tiers.series,
        key_title="CHPL tier",
        title=f"{f['hub']} {f['products']} exports to {f['target']} by tier",
        synthetic=tiers.synthetic,
    )
    return PageData(
        title=f"Products: {f['products']}",
        charts={"tiers": spec(chart)},
        tables={
            "hs2022": Table(_with_descriptions(hs.rows), "By HS2022 code"),
            "tiers": Table(tiers.rows, "By CHPL tier"),
        },
        synthetic=hs.synthetic or tiers.synthetic,
        notes=hs.notes,
    )


def mirror_page(con: Any, f: dict[str, str]) -> PageData:
    from transship.analysis.mirror import mirror
    from transship.report.charts import mirror_chart, mirror_monthly_chart, spec
    from transship.report.html import money

    common: dict[str, Any] = {
        "exporters": f["hub"],
        "importers": f["target"],
        "products": f["products"],
        "period": f["period"],
    }
    whole = mirror(con, **common, window=None)
    pairs = whole.to_pyarrow().to_pylist()
    windows = mirror(con, **common, window=3)
    rolling = windows.to_pyarrow().to_pylist()
    monthly = mirror(con, **common, window=1).to_pyarrow().to_pylist()
    by_month = mirror_monthly_chart(
        monthly,
        title=f"Mirror month by month: {f['hub']} exports vs partners' imports",
        synthetic=whole.synthetic,
    )
    synthetic = whole.synthetic or windows.synthetic
    chart = mirror_chart(
        [{**r, "partner": r["importer"]} for r in pairs],
        title=f"Mirror: {f['hub']} exports vs partners' imports, {f['period']}",
        synthetic=synthetic,
    )
    flagged = [r for r in rolling if r["flag"]]
    p = windows.params
    return PageData(
        title=f"Mirror: {f['hub']}",
        headlines=[
            f"{len(flagged)} of {len(rolling)} rolling {p['window']}-month windows flagged: "
            f"|gap| above {money(p['gap_threshold_usd'])} and X, M fob more than "
            f"{math.exp(p['log_threshold']):.2f} times apart, in at least "
            f"{p['min_consecutive']} consecutive windows."
        ],
        charts={"mirror": spec(chart), "mirror_monthly": spec(by_month)},
        tables={
            "pairs": Table(pairs, "Exporter-reported X vs importer-reported M, whole period"),
            "windows": Table(rolling, "Rolling 3-month windows (period = last month)"),
        },
        synthetic=synthetic,
        notes=list(dict.fromkeys(whole.notes + windows.notes)),
    )


def detect_page(con: Any, f: dict[str, str]) -> PageData:
    """The triage table of `transship detect`: every finding with its evidence and a link to
    the page that shows it."""
    from transship.analysis.detect import detect

    r = detect(con, target=f["target"])
    rows = r.rows()
    kinds: dict[str, int] = {}
    for x in rows:
        kinds[x["kind"]] = kinds.get(x["kind"], 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
    head = f"{len(rows)} findings survive each detector's false-discovery control: {summary}."
    secs = ", ".join(f"{k} {v}" for k, v in r.timings.items())
    return PageData(
        title="Detect: triage of findings",
        headlines=[head],
        tables={"findings": Table(rows, "Findings, best evidence first (score = -log10 q)")},
        synthetic=r.synthetic,
        notes=[*r.notes, f"seconds per detector: {secs}"],
    )


def _with_descriptions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from transship import reference

    desc = {c.hs6: c.description for c in reference.chpl()}
    return [{**r, "description": desc.get(str(r.get("hs2022")), "")} for r in rows]


PAGES: dict[str, tuple[Callable[[Any, dict[str, str]], PageData], tuple[str, ...]]] = {
    "overview": (overview_page, ("target", "period", "products", "baseline")),
    "hub": (hub_page, ("hub", "target", "period", "products", "baseline")),
    "product": (product_page, ("hub", "target", "period", "products", "baseline")),
    "mirror": (mirror_page, ("hub", "target", "period", "products")),
    "detect": (detect_page, ("target",)),
}
NAV = (
    ("overview", "/"),
    ("hub", "/hub"),
    ("product", "/product"),
    ("mirror", "/mirror"),
    ("detect", "/detect"),
    ("screening", "/screening"),
    ("alerts", "/alerts"),
)
SCREENED_KEPT = 32  # screening results kept for viewing and CSV download


def _upload_form(dash: Dashboard) -> dict[str, Any]:
    """What the upload form offers: the server's policies and lists (screening.selection)."""
    from transship.screening.selection import configured_policies

    s = dash.settings
    policies = sorted(configured_policies(s.policy_paths()))
    return {
        "policies": policies,
        "lists": s.list_names() or dash.lists(),
        "token_required": bool(s.tokens()),  # web/auth.py: the form's token field
        "without_lists": s.screen_without_lists,
    }


# -- the server side ----------------------------------------------------------------------
class Dashboard:
    """Pages over the server's warehouse lease (one DuckDB cursor per page computed), a lock
    (pages are computed one at a time), and a bounded cache of computed pages. The cache is
    dropped when another process changes the warehouse (an ingest, a list load): the lease
    closes the file between requests, so that can happen while the server runs."""

    def __init__(self, settings: Settings, lease: Any = None) -> None:
        from transship.web.api import make_lease

        self.settings = settings
        self.warehouse = Path(settings.warehouse)
        self.lease = lease or make_lease(settings)
        self.screened: OrderedDict[str, PageData] = OrderedDict()
        self._closed = False
        self._warmer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], PageData] = OrderedDict()
        self._version: Any = None

    def _check(self) -> None:
        if self._closed:
            raise WarehouseError("the dashboard is shutting down")
        if not self.warehouse.exists():
            raise WarehouseError(
                f"no warehouse at {self.warehouse}; run `transship demo` or ingest data"
            )

    def page(self, name: str, filters: dict[str, str]) -> PageData:
        import ibis

        from transship.warehouse.lease import data_version

        key = (name, tuple(sorted(filters.items())))
        with self._lock:
            self._check()
            with self.lease.connection() as cur:
                version = data_version(cur)
                if version != self._version:  # another process changed the data
                    self._cache.clear()
                    self._version = version
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    return hit
                data = PAGES[name][0](ibis.duckdb.from_connection(cur), filters)
            self._cache[key] = data
            if len(self._cache) > CACHE_PAGES:
                self._cache.popitem(last=False)
            return data

    def lists(self) -> list[str]:
        """Sanctions lists loaded in the warehouse (none if it has no lists table)."""
        from transship.screening.lists import loaded_lists

        try:
            with self._lock:
                self._check()
                with self.lease.connection() as cur:
                    return [r["list"] for r in loaded_lists(cur)]
        except WarehouseError:
            return []

    def screen_upload(self, service: Any, upload: Any, policy: str, lists: list[str]) -> str:
        """Screen an uploaded declarations file through the screening service (so the
        decisions join the same audit chain as the API's) and keep the result for viewing.
        Returns the result's token."""
        import tempfile
        import uuid

        from transship.screening.declarations import read_declarations

        name = Path(upload.filename or "declarations.csv").name
        pol = service.policy(policy)  # a name the server offers, never a path
        with tempfile.TemporaryDirectory(prefix="transship-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(upload.file.read())
            table = read_declarations(path)
        result, (first, last) = service.screen_table(table, pol, lists or None, f"dashboard:{name}")
        counts = ", ".join(f"{n} {d}" for d, n in result.counts.items())
        rows = result.table.to_pylist()
        data = PageData(
            title=f"Screening: {name}",
            headlines=[
                f"{len(rows)} declarations screened against policy {result.policy}"
                + (f" and lists {', '.join(result.lists)}" if result.lists else " (no lists)")
                + f": {counts}.",
                f"Decisions written to the audit trail as records {first}-{last}.",
            ],
            tables={
                "summary": Table(result.summary(), "Decisions"),
                "decisions": Table(rows, "Every declaration, with its rules and reasons"),
            },
        )
        token = uuid.uuid4().hex
        with self._lock:
            self.screened[token] = data
            while len(self.screened) > SCREENED_KEPT:
                self.screened.popitem(last=False)
        return token

    def start_warming(self) -> None:
        if not self.warehouse.exists():
            return
        self._warmer = threading.Thread(target=self.warm, name="transship-warm", daemon=True)
        self._warmer.start()

    def wait_warm(self, timeout: float | None = None) -> None:
        """Block until the default pages are computed (benchmarks measure a settled server)."""
        if self._warmer is not None:
            self._warmer.join(timeout)

    def warm(self) -> None:
        """Compute every page with its default filters, so the first visit is served from
        the cache. Errors are left for the request that shows them."""
        import time

        for i, (name, (_, fields)) in enumerate(PAGES.items()):
            if self._closed:
                return
            if i:  # let go of the warehouse between pages: a CLI command may be waiting
                time.sleep(self.lease.idle + 0.3)
            try:
                self.page(name, {k: DEFAULTS[k] for k in fields})
            except Exception:  # shown on the page when a user opens it
                if self._closed:
                    return

    def close(self) -> None:
        self._closed = True
        if self._warmer is not None:  # let a page being computed finish, then stop
            self._warmer.join(60)
        self.lease.close()


def _fmt(column: str, value: Any) -> str:
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


def _csv(rows: list[dict[str, Any]], synthetic: bool) -> str:
    buf = io.StringIO()
    if synthetic:  # the label travels with every row
        rows = [{"data": "SYNTHETIC", **r} for r in rows]
    columns = list(rows[0]) if rows else []
    w = csv.writer(buf, lineterminator="\r\n")  # RFC 4180: a CR inside a cell is quoted too
    w.writerow(safe_row(columns))
    for r in rows:  # text a spreadsheet would run as a formula gets a leading '
        w.writerow(safe_row("" if r.get(k) is None else r.get(k) for k in columns))
    return buf.getvalue()


def mount_dashboard(app: FastAPI, settings: Settings, lease: Any = None) -> Dashboard:
    """Add the dashboard pages, /static and /static/vega.js to `app`; the app's lifespan
    may call the returned Dashboard's start_warming() at startup and must call close() at
    shutdown."""
    dash = Dashboard(settings, lease)
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    templates = Jinja2Templates(env=env)
    router = APIRouter()

    def render(
        request: Request,
        name: str,
        compute: Callable[[dict[str, str]], PageData] | None = None,
        **extra: Any,
    ) -> Response:
        fields = PAGES[name][1] if name in PAGES else ()
        filters = {k: request.query_params.get(k) or DEFAULTS[k] for k in fields}
        ctx: dict[str, Any] = {
            "name": name,
            "nav": NAV,
            "filters": filters,
            "fields": fields,
            "periods": PERIODS,
            "version": __version__,
            "query": str(request.url.query),
            **extra,
        }
        try:
            data = compute(filters) if compute else dash.page(name, filters)
        except TransshipError as e:
            status = e.http_status if isinstance(e, TransshipError) else 400
            ctx.update(data=PageData(title=name.title()), error=str(e))
            return templates.TemplateResponse(request, "page.html.j2", ctx, status_code=status)
        download = request.query_params.get("download")
        if download:
            table = data.tables.get(download)
            if table is None:
                return Response(f"no table {download!r} on this page", status_code=404)
            prefix = "SYNTHETIC-" if data.synthetic else ""
            return Response(
                _csv(table.rows, data.synthetic),
                media_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="{prefix}{name}-{download}.csv"'
                },
            )
        ctx.update(data=data, error=None)
        return templates.TemplateResponse(request, "page.html.j2", ctx)

    @router.get("/", response_class=HTMLResponse, summary="Overview: candidate hubs")
    def overview(request: Request) -> Response:
        return render(request, "overview")

    @router.get("/hub", response_class=HTMLResponse, summary="One hub's exports")
    def hub(request: Request) -> Response:
        return render(request, "hub")

    @router.get("/product", response_class=HTMLResponse, summary="By product and tier")
    def product(request: Request) -> Response:
        return render(request, "product")

    @router.get("/mirror", response_class=HTMLResponse, summary="Mirror statistics")
    def mirror(request: Request) -> Response:
        return render(request, "mirror")

    @router.get("/detect", response_class=HTMLResponse, summary="Triage of findings")
    def detect_findings(request: Request) -> Response:
        return render(request, "detect")

    @router.get("/screening", response_class=HTMLResponse, summary="Screen declarations")
    def screening(request: Request) -> Response:
        token = request.query_params.get("result")

        def compute(_: dict[str, str]) -> PageData:
            if not token:
                return PageData(title="Screening: upload declarations")
            found = dash.screened.get(token)
            if found is None:
                raise UsageError("that screening result has expired; upload the file again")
            return found

        return render(request, "screening", compute, upload=_upload_form(dash))

    @router.post("/screening", response_class=HTMLResponse, include_in_schema=False)
    def screening_upload(
        request: Request,
        file: Annotated[UploadFile, File(description="Declarations: CSV, JSON or Parquet")],
        policy: Annotated[str, Form()],
        lists: Annotated[list[str] | None, Form()] = None,
        token: Annotated[str | None, Form()] = None,
    ) -> Response:
        from transship.web.auth import bearer_token, check_token

        try:
            tokens = request.app.state.settings.tokens()
            if tokens:  # the same tokens as /v1/screen: the upload screens and audits too
                check_token(tokens, token or bearer_token(request))
            # No list ticked: the server's list set (the form cannot mean "no lists").
            token = dash.screen_upload(request.app.state.screening, file, policy, lists or [])
        except TransshipError as e:
            error = e

            def fail(_: dict[str, str]) -> PageData:
                raise error

            return render(request, "screening", fail, upload=_upload_form(dash))
        return RedirectResponse(f"/screening?result={token}", status_code=303)

    @router.get("/static/vega.js", include_in_schema=False)
    def vega() -> Response:
        from transship.report.html import vega_bundle

        return Response(
            vega_bundle(),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.dashboard = dash
    return dash
