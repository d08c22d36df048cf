"""The notebook front door: `wh = transship.open("transship.duckdb")`, analyses as methods.

    import transship
    wh = transship.open("transship.duckdb")            # or engine="spark"
    r = wh.flows(reporter="TUR", partner="russia+ft_five", period="2023-01..2023-09",
                 by="partner", compare="prior")
    r                      # compact repr; in Jupyter an HTML table labelled SYNTHETIC if it is
    df = r.to_pandas()     # df.attrs["notes"], df.attrs["synthetic"]

Each method is the library function of the same name (`transship.analysis.flows.flows`, ...)
with the connection filled in: same parameters, same defaults, same docstring. `ANALYSES`
maps method names to functions; adding an analysis is one line there.

On DuckDB every call opens the warehouse read-only, computes, fetches the (small) result and
closes the file again, so a notebook never holds the file lock between cells: `transship
serve`, `lists load` and ingests can run beside it. On Spark the session and the Parquet
export are kept until `close()` (exporting per call would cost more than the query).
"""

from __future__ import annotations

import functools
import html
import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transship.errors import UsageError

# method name -> "module:function"; each function takes an Ibis connection first.
ANALYSES: dict[str, str] = {
    "flows": "transship.analysis.flows:flows",
    "mirror": "transship.analysis.mirror:mirror",
    "hubs": "transship.analysis.hubs:hubs",
    "anomalies": "transship.analysis.anomalies:anomalies",
    "event_study": "transship.analysis.anomalies:event_study",
    "headline": "transship.analysis.headline:headline",
    "detect": "transship.analysis.detect:detect",  # present once the detect analysis lands
}

# Parameters that take a country expression (joined with "+") or a product list (with ",").
_COUNTRY_PARAMS = frozenset(
    {"reporter", "partner", "exporters", "importers", "hubs", "target", "neighbours",
     "coalition"}
)  # fmt: skip
_LIST_PARAMS = frozenset({"products", "control"})
_REPR_ROWS = 10
_HTML_ROWS = 50


def _target(name: str) -> Callable[..., Any]:
    module, _, attr = ANALYSES[name].partition(":")
    try:
        fn: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        raise UsageError(f"this transship has no {name} analysis ({ANALYSES[name]})") from None
    return fn


def _normalise(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Python habits onto the library's expression strings: `by="partner"` and lists."""
    out = dict(kwargs)
    for key in ("by", "detectors"):
        value = out.get(key)
        if isinstance(value, str):  # a str is a Sequence of characters: split it instead
            out[key] = [b.strip() for b in value.split(",") if b.strip()]
    for name, sep in [(n, "+") for n in _COUNTRY_PARAMS] + [(n, ",") for n in _LIST_PARAMS]:
        value = out.get(name)
        if isinstance(value, list | tuple | set | frozenset):
            out[name] = sep.join(str(v) for v in value)
    return out


class Result:
    """An analysis result fetched into memory: rows, notes, and whether it is SYNTHETIC."""

    def __init__(self, name: str, table: Any, notes: Sequence[str], synthetic: bool,
                 params: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.name = name
        self.arrow = table  # pyarrow.Table
        self.notes = list(notes)
        self.synthetic = synthetic
        self.params = dict(params or {})

    @classmethod
    def fetch(cls, name: str, result: Any) -> Result:
        params = getattr(result, "params", None)  # a detect run records none
        return cls(name, result.to_pyarrow(), result.notes, result.synthetic, params)

    def __len__(self) -> int:
        return int(self.arrow.num_rows)

    @property
    def columns(self) -> list[str]:
        return list(self.arrow.column_names)

    def to_pyarrow(self) -> Any:
        return self.arrow

    def to_pylist(self) -> list[dict[str, Any]]:
        return list(self.arrow.to_pylist())

    def to_pandas(self) -> Any:
        """A pandas DataFrame; `attrs` carry `notes` (list), `synthetic` (bool), `params`."""
        df = self.arrow.to_pandas()
        df.attrs["notes"] = list(self.notes)
        df.attrs["synthetic"] = self.synthetic
        df.attrs["params"] = dict(self.params)
        return df

    def _label(self) -> str:
        return "SYNTHETIC" if self.synthetic else "reported data"

    def __repr__(self) -> str:
        head = (
            f"<{self.name}: {len(self)} rows x {len(self.columns)} columns, {self._label()}"
            f", {len(self.notes)} note{'s' * (len(self.notes) != 1)}>"
        )
        rows = self.arrow.slice(0, _REPR_ROWS).to_pylist()
        if not rows:
            return head + "\n(no matching rows)"
        cols = self.columns
        cells = [[_cell(r[c]) for c in cols] for r in rows]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
        more = f"\n... {len(self) - _REPR_ROWS} more rows" if len(self) > _REPR_ROWS else ""
        return head + "\n" + "\n".join(lines) + more

    def _repr_html_(self) -> str:
        e = html.escape
        label = (
            '<div style="background:#b45309;color:#fff;font-weight:bold;padding:2px 6px;'
            'display:inline-block">SYNTHETIC DATA: generated, not real trade</div>'
            if self.synthetic
            else ""
        )
        cols = self.columns
        head = "".join(f"<th>{e(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{e(_cell(r[c]))}</td>" for c in cols) + "</tr>"
            for r in self.arrow.slice(0, _HTML_ROWS).to_pylist()
        )
        more = (
            f"<p>{len(self) - _HTML_ROWS} more rows (to_pandas() for all)</p>"
            if len(self) > _HTML_ROWS
            else ""
        )
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        return (
            f"<div>{label}<p><b>{e(self.name)}</b>: {len(self)} rows</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"
            f"{f'<ul>{notes}</ul>' if notes else ''}</div>"
        )


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return "" if v is None else str(v)


@dataclass
class HeadlineResult:
    """`headline()` fetched: total, by_partner and series as Results, the peak month."""

    total: Result
    by_partner: Result
    series: Result
    peak: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False

    def __repr__(self) -> str:
        return "\n\n".join(repr(r) for r in (self.total, self.by_partner, self.series))

    def _repr_html_(self) -> str:
        return "".join(r._repr_html_() for r in (self.total, self.by_partner, self.series))


def _fetch(name: str, result: Any) -> Any:
    """Bring a library result into memory while the connection is still open."""
    from transship.analysis.headline import Headline

    if isinstance(result, Headline):
        return HeadlineResult(
            Result.fetch("headline total", result.total),
            Result.fetch("headline by partner", result.by_partner),
            Result.fetch("headline series", result.series),
            dict(result.peak),
            result.notes,
            result.synthetic,
        )
    if hasattr(result, "to_pyarrow") and hasattr(result, "notes"):
        return Result.fetch(name, result)
    return result  # e.g. a detect run's own result type: passed through as it is


class _Analysis:
    """Descriptor: `wh.flows` is `transship.analysis.flows.flows` with the connection bound."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, wh: TradeWarehouse | None, owner: type) -> Any:
        if wh is None:
            return self
        fn = _target(self.name)
        name = self.name

        @functools.wraps(fn)
        def method(**kwargs: Any) -> Any:
            return wh._run(name, fn, _normalise(kwargs))

        params = list(inspect.signature(fn).parameters.values())[1:]  # without `con`
        method.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return method


class TradeWarehouse:
    """A warehouse opened for analysis from Python. Methods: see `ANALYSES`, and `screen`."""

    flows = _Analysis("flows")
    mirror = _Analysis("mirror")
    hubs = _Analysis("hubs")
    anomalies = _Analysis("anomalies")
    event_study = _Analysis("event_study")
    headline = _Analysis("headline")
    detect = _Analysis("detect")

    def __init__(self, path: str | Path, *, engine: str = "duckdb",
                 parquet_dir: str | Path | None = None) -> None:  # fmt: skip
        from transship.errors import WarehouseError

        if engine not in ("duckdb", "spark"):
            raise UsageError(f"engine {engine!r}: use duckdb or spark")
        self.path = Path(path)
        if not self.path.exists():
            raise WarehouseError(
                f"no warehouse at {self.path}; ingest data first or run `transship demo`"
            )
        self.engine = engine
        self._parquet_dir = parquet_dir
        self._spark: Any = None

    def _run(self, name: str, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        from transship.analysis.engine import close, connect

        if self.engine == "spark":
            if self._spark is None:
                self._spark = connect(self.path, "spark", parquet_dir=self._parquet_dir)
            return _fetch(name, fn(self._spark, **kwargs))
        con = connect(self.path, "duckdb")
        try:
            return _fetch(name, fn(con, **kwargs))
        finally:
            close(con)

    def screen(
        self, declarations: Any, policy: str | Path, lists: list[str] | None = None, **kw: Any
    ) -> Any:
        """Screen a declarations file (str or Path) or a DataFrame / Arrow table; every
        decision is appended to the warehouse's audit trail (see `screening.screen_file`)."""
        from transship.screening import screen_file

        return screen_file(declarations, policy, lists, self.path, **kw)

    def close(self) -> None:
        if self._spark is not None:
            from transship.analysis.engine import close

            close(self._spark)
            self._spark = None

    def __enter__(self) -> TradeWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<transship warehouse {self.path} on {self.engine}>"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(ANALYSES))


def open(  # shadows the builtin on purpose: transship.open
    path: str | Path | None = None,
    *,
    engine: str = "duckdb",
    parquet_dir: str | Path | None = None,
) -> TradeWarehouse:
    """Open a warehouse for analysis: `path` defaults to TRANSSHIP_WAREHOUSE (settings)."""
    if path is None:
        from transship.settings import get_settings

        path = get_settings().warehouse
    return TradeWarehouse(path, engine=engine, parquet_dir=parquet_dir)


__all__ = ["ANALYSES", "HeadlineResult", "Result", "TradeWarehouse", "open"]
