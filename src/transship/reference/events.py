"""Sanctions, export-control and enforcement timeline."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from transship.reference._load import (
    ReferenceDataError,
    fail,
    read_yaml,
    resolve_dir,
    unknown,
    validate,
)

Kind = Literal[
    "sanctions_package", "export_control", "list_publication", "enforcement", "war", "report"
]


class Event(BaseModel):
    """A dated event. `date_precision`: day; month (date is the 1st); on_or_before (the
    event had happened by `date`, its exact date is not public)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    date: dt.date
    date_precision: Literal["day", "month", "on_or_before"] = "day"
    title: str = Field(min_length=1)
    jurisdiction: str = Field(min_length=2)
    kind: Kind
    source: str = Field(pattern=r"^https?://")
    note: str = ""

    @model_validator(mode="after")
    def _month_is_first(self) -> Event:
        if self.date_precision == "month" and self.date.day != 1:
            raise ValueError("month-precision dates must be the 1st of the month")
        return self


@functools.cache
def _events(data_dir: Path) -> tuple[Event, ...]:
    path = data_dir / "events.yaml"
    raw = read_yaml(path).get("events")
    if not isinstance(raw, list) or not raw:
        raise fail(path, None, "expected a non-empty 'events' list")
    out: list[Event] = []
    for i, body in enumerate(raw, start=1):
        if not isinstance(body, dict):
            raise fail(path, None, f"event #{i}: expected a mapping")
        try:
            ev = validate(path, None, Event, body)
        except ReferenceDataError as exc:
            raise ReferenceDataError(f"{exc} (event #{i}, id {body.get('id')!r})") from None
        if any(e.id == ev.id for e in out):
            raise fail(path, None, f"duplicate event id {ev.id!r}")
        out.append(ev)
    return tuple(sorted(out, key=lambda e: (e.date, e.id)))


def events(*, data_dir: Path | str | None = None) -> list[Event]:
    """All events, in date order."""
    return list(_events(resolve_dir(data_dir)))


def event(event_id: str, *, data_dir: Path | str | None = None) -> Event:
    """One event by id (case-insensitive), e.g. `invasion`, `eo14114`, `tr-customs-block`."""
    evs = _events(resolve_dir(data_dir))
    for e in evs:
        if e.id == event_id.strip().lower():
            return e
    raise ReferenceDataError(unknown("event", event_id, [e.id for e in evs]))
