"""Alerts (/alerts): the review queue, served by web/alerts.py with the alerts API; listed
here for its place in the nav."""

from __future__ import annotations

from transship.web.dashboard.base import Page

PAGE = Page("alerts", "/alerts", order=70)
