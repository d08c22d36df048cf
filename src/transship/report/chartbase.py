"""What every chart shares: the Altair import, titles that say SYNTHETIC, sizes, and the
chart drawn when there is nothing to draw."""

from __future__ import annotations

from typing import Any

WIDTH = 640
USD = "$,.3s"  # $37.6M
BAR = 14  # px per bar of a horizontal bar chart: the height is set, never left to Vega


def altair() -> Any:
    import altair as alt

    return alt


def chart_title(text: str, synthetic: bool, subtitle: str | None = None) -> dict[str, Any]:
    t: dict[str, Any] = {"text": ("SYNTHETIC DATA - " if synthetic else "") + text}
    if subtitle:
        t["subtitle"] = subtitle
    if synthetic:
        t["color"] = "#b45309"
    return t


def empty_chart(title: str, synthetic: bool, message: str = "no data for this selection") -> Any:
    """A small chart that says there is nothing to draw: Vega sizes a chart with no data and
    step-based axes to infinity (a 33-million-pixel page), so no chart is ever drawn empty."""
    alt = altair()
    return (
        alt.Chart(alt.Data(values=[{"text": message}]))
        .mark_text(fontSize=13, color="#6b7280")
        .encode(text="text:N")
        .properties(width=WIDTH, height=60, title=chart_title(title, synthetic))
    )
