"""The self-contained HTML report (and its PDF): headline sentences computed from the
numbers, charts rendered by the inlined Vega bundle, tables, provenance and methods.

The HTML file holds everything it needs (data, specs, JavaScript), so it renders offline,
by e-mail, from an archive. Synthetic inputs put a SYNTHETIC watermark on every page.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from transship import __version__, reference
from transship.errors import ParameterError, UsageError
from transship.periods import PeriodRange
from transship.report.charts import spec, story_charts
from transship.report.story import HubStory, country_name, hub_story
from transship.safepath import check_target, write_bytes, write_text

DASH = "\u2013"  # en dash, as in print: Jan\u2013Sep 2023


# -- formatting -------------------------------------------------------------------------------
def money(v: float | None) -> str:
    """$158M, $37.6M, $6.6M, $950k, $12.4: three significant figures at most."""
    if v is None:
        return "n/a"
    sign = "-" if v < 0 else ""
    a = float(f"{abs(v):.3g}")  # round first, so 999,600 reads $1M, not $1000k
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            x = a / div
            text = f"{x:g}"
            return f"{sign}${text}{unit}"
    return f"{sign}${a:g}"


def times(v: float | None) -> str:
    """2.97 -> '3.0 times'; 0.5 -> '0.50 times'."""
    if v is None:
        return "n/a"
    return f"{v:.1f} times" if v >= 1 else f"{v:.2f} times"


def period_label(rng: PeriodRange) -> str:
    """Jan-Sep 2023, Mar 2023, Oct 2022-Sep 2023 (with an en dash)."""
    s, e = rng.start, rng.end
    if s == e:
        return f"{s:%b %Y}"
    if s.year == e.year:
        return f"{s:%b}{DASH}{e:%b %Y}"
    return f"{s:%b %Y}{DASH}{e:%b %Y}"


def _months_label(rng: PeriodRange) -> str:
    """The prior period as 'the same months of 2022'."""
    return f"the same months of {rng.start.year}" + (
        f"{DASH}{rng.end.year}" if rng.end.year != rng.start.year else ""
    )


def _place(codes: list[str]) -> str:
    """Countries as a reader says them: names when few, else the count."""
    names = [country_name(c) for c in codes]
    if len(names) > 7:
        return f"{len(names)} countries"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def headlines(story: HubStory) -> list[str]:
    """The report's sentences, each computed from the story's numbers."""
    hub = reference.country(story.hub).name
    goods = "CHPL" if story.products.startswith("chpl") else story.products
    b = story.baseline
    out = []
    first = (
        f"{hub} exported {money(story.total_usd)} of {goods} goods to {_place(story.partners)} "
        f"in {period_label(story.period)}"
    )
    comps = []
    if story.prior_multiple is not None:
        comps.append(f"{times(story.prior_multiple)} {_months_label(story.prior)}")
    if story.baseline_multiple is not None:
        comps.append(
            f"{times(story.baseline_multiple)} the {b.start.year}{DASH}{b.end.year} average of "
            f"{money(story.baseline_usd)}"
        )
    out.append(first + (", " + " and ".join(comps) if comps else "") + ".")
    if story.by_partner and story.total_usd:
        top = story.by_partner[0]
        share = top["value_usd"] / story.total_usd
        out.append(
            f"The largest destination was {top['name']}: {money(top['value_usd'])} "
            f"({share:.0%} of the total)."
        )
    if story.peak:
        d = date.fromisoformat(story.peak["period"])
        unit = "monthly" if story.freq == "M" else "yearly"
        when = f"{d:%B %Y}" if story.freq == "M" else f"{d:%Y}"
        out.append(f"The {unit} peak was {when} ({money(story.peak['value_usd'])}).")
    # the largest gap among pairs past both of the mirror analysis' thresholds
    gaps = [m for m in story.mirror if m["breach"]]
    if gaps:
        g = max(gaps, key=lambda m: abs(m["gap_usd"]))
        name = reference.country(g["partner"]).name
        out.append(
            f"{hub} reported {money(g['x_usd'])} of these exports to {name}, while {name} "
            f"recorded {money(g['m_usd'])} of imports from {hub} ({money(g['m_fob_usd'])} "
            f"at FOB, a gap of {money(g['gap_usd'])})."
        )
    c = story.coalition
    if c["growth"] is not None:
        verb = "rose" if c["growth"] >= 0 else "fell"
        out.append(
            f"Exports of these goods from the {c['suppliers']} group to {hub} {verb} "
            f"{abs(c['growth']):.0%} over the same months ({money(c['prior_usd'])} to "
            f"{money(c['value_usd'])})."
        )
    return out


# -- provenance -------------------------------------------------------------------------------
def provenance(con: Any, story: HubStory) -> list[dict[str, Any]]:
    """The ingest batches that hold rows the report read (the hub as reporter or partner),
    with their input, checksum, load time and the months they cover (data vintage)."""
    t = con.table("trade_flows")
    used = t.filter((t.reporter == story.hub) | (t.partner == story.hub))
    agg = used.group_by(["batch_id", "source"]).agg(
        first_period=used.period.min(), last_period=used.period.max(), rows=used.count()
    )
    rows: list[dict[str, Any]] = agg.to_pyarrow().to_pylist()
    try:
        b = con.table("ingest_batches")
        meta = {
            r["batch_id"]: r
            for r in b.select("batch_id", "input_name", "input_sha256", "finished", "status")
            .to_pyarrow()
            .to_pylist()
        }
    except Exception:  # a Parquet export (Spark) has no ingest_batches
        meta = {}
    for r in rows:
        m = meta.get(r["batch_id"], {})
        r["input_name"] = m.get("input_name")
        r["input_sha256"] = m.get("input_sha256")
        r["loaded"] = m.get("finished")
        r["status"] = m.get("status")
    return sorted(rows, key=lambda r: (r["source"], str(r["loaded"])))


# -- the Vega bundle --------------------------------------------------------------------------
@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (from vl-convert), cached on disk per
    vl-convert version because building it takes about a second."""
    import vl_convert as vlc

    from transship.settings import get_settings

    version = f"{vlc.get_vega_version()}-{vlc.get_vegalite_versions()[-1]}"
    cache_dir = get_settings().cache_dir / "vega"
    path = cache_dir / f"vega-bundle-{version}.js"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    text: str = vlc.javascript_bundle()  # type: ignore[call-arg]  # snippet is optional
    with contextlib.suppress(OSError):  # a read-only home still gets a report
        write_text(path, text, parameter="cache_dir")
    return text


def script_json(value: Any) -> str:
    """JSON safe to place inside a <script> element."""
    return json.dumps(value, default=str).replace("</", "<\\/")


# -- the report -------------------------------------------------------------------------------
@dataclass
class ReportResult:
    out: Path
    pdf: Path | None
    story: HubStory
    headlines: list[str]
    seconds: float


def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("transship.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["times"] = times
    env.filters["script_json"] = script_json
    return env


def render_report(
    story: HubStory, batches: list[dict[str, Any]], findings: list[dict[str, Any]] | None = None
) -> str:
    """The report as one HTML string with the Vega bundle inlined; `findings` (rows of
    `transship detect` that concern the hub) add a triage section."""
    charts = {k: spec(c) for k, c in story_charts(story).items()}
    sources = reference.data_sources()
    versions = reference.chpl_versions()
    return str(
        _env()
        .get_template("report.html.j2")
        .render(
            s=story,
            hub_name=reference.country(story.hub).name,
            place=_place(story.partners),
            period_label=period_label(story.period),
            headlines=headlines(story),
            charts=charts,
            batches=batches,
            sources=sources,
            chpl_version=versions[-1] if versions else None,
            events=[e for e in reference.events() if e.date.year >= 2022],
            mp=story.mirror_params,
            findings=findings,
            exp=math.exp,
            bundle=vega_bundle(),
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            version=__version__,
        )
    )


def hub_findings(con: Any, hub: str) -> list[dict[str, Any]]:
    """The triage rows of `transship detect` in which `hub` is the country, the exporter or
    the importer (of the row's finding or one under its `also`), in their triage order."""
    from transship.analysis.detect import detect

    r = detect(con)
    rows = r.rows()
    return [
        row for f, row in zip(r.table, rows, strict=True)
        if any(hub in (g.country, g.exporter, g.importer) for g in (f, *f.also))
    ]  # fmt: skip


def build_report(
    con: Any,
    *,
    hub: str,
    target: str = "russia+ft_five",
    period: str,
    out: Path,
    products: str = "chpl",
    baseline: str = "2015..2021",
    pdf: bool = False,
    detect: bool = False,
) -> ReportResult:
    """Compute the story, write `out` (HTML) atomically, and `out` with .pdf if asked.
    With `detect`, the findings of `transship detect` that concern the hub are added."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise ParameterError("out", f"{out}: the report is HTML; name it .html (pdf adds a PDF)")
    check_target(out, parameter="out")  # before minutes of work, not after
    if pdf:
        check_target(out.with_suffix(".pdf"), parameter="pdf")
    started = time.perf_counter()
    story = hub_story(
        con, hub=hub, target=target, period=period, products=products, baseline=baseline
    )
    findings = hub_findings(con, story.hub) if detect else None
    text = render_report(story, provenance(con, story), findings)
    write_text(out, text, parameter="out")  # checked (never the warehouse), nothing half-written
    pdf_path = html_to_pdf(out, out.with_suffix(".pdf")) if pdf else None
    return ReportResult(
        out=out,
        pdf=pdf_path,
        story=story,
        headlines=headlines(story),
        seconds=time.perf_counter() - started,
    )


def html_to_pdf(html: Path, out: Path) -> Path:
    """Print the rendered report to PDF with headless Chromium (via Playwright), after the
    charts have drawn."""
    from transship.settings import get_settings

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise UsageError(
            "PDF output needs Playwright and Chromium: pip install 'transship[pdf]' and "
            "apt-get install chromium (or set TRANSSHIP_CHROMIUM)"
        ) from None
    chromium = get_settings().chromium
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium) if chromium else None,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.goto(html.resolve().as_uri())
            page.wait_for_function(
                "document.querySelectorAll('.chart').length === "
                "document.querySelectorAll('.chart svg, .chart canvas').length"
            )
            pdf = page.pdf(
                format="A4",
                print_background=True,
                margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"},
            )
            write_bytes(out, pdf, parameter="pdf")
        finally:
            browser.close()
    return out
