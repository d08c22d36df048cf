"""Charts, the self-contained HTML report and its PDF: what analysts publish and share."""

from transship.report.html import ReportResult, build_report, headlines, money, render_report
from transship.report.story import HubStory, hub_story

__all__ = [
    "HubStory",
    "ReportResult",
    "build_report",
    "headlines",
    "hub_story",
    "money",
    "render_report",
]
