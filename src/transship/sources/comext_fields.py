"""Comext field values as written (labels, codes, periods) to their meaning, one distinct
value at a time: `202208-Aug. 2022` is August 2022, `85423190-Electronic ...` is CN8 85423190."""

from __future__ import annotations

import functools
import re
from datetime import date

MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
FLOWS = {
    "1": "import",
    "import": "import",
    "importation": "import",
    "imports": "import",
    "2": "export",
    "export": "export",
    "exportation": "export",
    "exports": "export",
}


@functools.lru_cache(maxsize=65536)
def product_code(text: str) -> str:
    """`TOTAL-Total` / `Total` -> TOTAL; `85423190-Electronic ...` -> 85423190; `... [2106]`."""
    t = text.strip()
    m = re.search(r"\[(\w+)\]\s*$", t)
    if m:
        t = m.group(1)
    head = t.split("-", 1)[0].strip()
    return "TOTAL" if head.upper() == "TOTAL" else head


def product_level(code: str) -> tuple[str, str] | None:
    """(level, hs) of a product code: cn8 -> its HS6, hs6, agg (TOTAL, chapter, heading)."""
    if code.isdigit() and len(code) == 8:
        return "cn8", code[:6]
    if code.isdigit() and len(code) == 6:
        return "hs6", code
    if code == "TOTAL" or (code.isdigit() and len(code) in (2, 4)):
        return ("TOTAL" if code == "TOTAL" else f"{len(code)}-digit"), code
    return None


def flow_of(text: str) -> str | None:
    t = text.strip().lower()
    return FLOWS.get(t) or FLOWS.get(t.split("-", 1)[-1].strip()) or FLOWS.get(t.split("-")[0])


def period_of(text: str) -> tuple[date, str] | None:
    """`202208-Aug. 2022`, `Aug. 2024`, `2020-02`, `202001`, `201952-Jan.-Dec. 2019`, `2019`."""
    t = text.strip()
    m = re.match(r"^(\d{4})-?(\d{2})(?:\b|-|$)", t)
    if m:
        y, mm = int(m.group(1)), int(m.group(2))
        if mm == 52:
            return date(y, 1, 1), "A"
        if 1 <= mm <= 12:
            return date(y, mm, 1), "M"
        return None
    m = re.match(r"^jan\.?-dec\.?\s+(\d{4})$", t, re.IGNORECASE)
    if m:
        return date(int(m.group(1)), 1, 1), "A"
    m = re.match(r"^([A-Za-z]{3})[a-z]*\.?\s+(\d{4})$", t)
    if m and m.group(1).lower() in MONTHS:
        return date(int(m.group(2)), MONTHS[m.group(1).lower()], 1), "M"
    if re.match(r"^\d{4}$", t):
        return date(int(t), 1, 1), "A"
    return None
