"""Period ranges as users write them: 2023-01..2023-09, 2015..2021, 2023, 2023-05."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from transship.errors import UsageError

_MONTH = re.compile(r"^(\d{4})(?:-?(\d{2}))?$")


# Month arithmetic, once: months counted from year 0, so consecutive months differ by 1.
def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def from_month_index(i: int) -> date:
    """The first day of month number `i` (inverse of `month_index`)."""
    return date(i // 12, i % 12 + 1, 1)


def add_months(d: date, n: int) -> date:
    """The first day of the month `n` months after `d`'s (n may be negative)."""
    return from_month_index(month_index(d) + n)


def months_between(a: date, b: date) -> int:
    """Whole months from `a`'s month to `b`'s (negative when b is earlier)."""
    return month_index(b) - month_index(a)


@dataclass(frozen=True)
class PeriodRange:
    """Inclusive range of months; annual rows (1 Jan) fall inside when their year does."""

    start: date  # first day of the first month
    end: date  # first day of the last month

    def __str__(self) -> str:
        return f"{self.start:%Y-%m}..{self.end:%Y-%m}"

    @property
    def months(self) -> int:
        return months_between(self.start, self.end) + 1


def _bound(text: str, *, end: bool) -> date:
    m = _MONTH.match(text.strip())
    if not m:
        raise UsageError(f"period {text!r}: expected YYYY or YYYY-MM")
    year, month = int(m.group(1)), m.group(2)
    if month is None:
        return date(year, 12 if end else 1, 1)
    if not 1 <= int(month) <= 12:
        raise UsageError(f"period {text!r}: month must be 01..12")
    return date(year, int(month), 1)


def parse_period(text: str) -> PeriodRange:
    """`2023-01..2023-09`, `2015..2021`, `2023` or `2023-05` -> an inclusive month range."""
    first, sep, last = text.partition("..")
    start = _bound(first, end=False)
    stop = _bound(last if sep else first, end=True)
    if stop < start:
        raise UsageError(f"period {text!r}: the end is before the start")
    return PeriodRange(start, stop)
