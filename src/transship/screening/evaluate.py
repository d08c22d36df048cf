"""Calibrate the matcher on labelled name pairs: precision, recall, F1 at FLAG, BLOCK and best.

Pairs file (CSV, header): `name1`, `name2`, `is_match` (1/0, true/false, yes/no), optional
`schema` (Person, Company ...), `country1`, `country2` (ISO codes). name2 plays the list
entry. Compliance teams run it on their own reviewed alerts to set the thresholds.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transship.errors import InputError
from transship.screening.matcher import Matcher

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


@dataclass(frozen=True)
class Pair:
    name1: str
    name2: str
    is_match: bool
    schema: str | None = None
    country1: str | None = None
    country2: str | None = None


def read_pairs(path: Path) -> list[Pair]:
    """Read and check a pairs file; a bad row raises InputError naming file, line and column."""
    if not path.is_file():
        raise InputError("pairs file not found", file=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text ({e.reason})", file=str(path)) from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in ("name1", "name2", "is_match") if c not in header]
    if missing:
        raise InputError(f"missing columns {missing}; the header has {header}", file=str(path),
                         line=1)  # fmt: skip
    out: list[Pair] = []
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise InputError(f"expected {len(header)} fields", file=str(path), line=line)
        label = row["is_match"].strip().lower()
        if label not in _TRUE | _FALSE:
            raise InputError("is_match must be 1/0 (or true/false)", file=str(path), line=line,
                             column="is_match", value=row["is_match"])  # fmt: skip
        for col in ("name1", "name2"):
            if not row[col].strip():
                raise InputError("empty name", file=str(path), line=line, column=col)
        out.append(Pair(
            row["name1"], row["name2"], label in _TRUE,
            (row.get("schema") or "").strip() or None,
            (row.get("country1") or "").strip() or None,
            (row.get("country2") or "").strip() or None,
        ))  # fmt: skip
    if not out:
        raise InputError("no pairs in the file", file=str(path))
    return out


def _prf(scores: list[float], gold: list[bool], threshold: float) -> dict[str, Any]:
    tp = sum(1 for s, g in zip(scores, gold, strict=True) if s >= threshold and g)
    fp = sum(1 for s, g in zip(scores, gold, strict=True) if s >= threshold and not g)
    pos = sum(gold)
    p = tp / (tp + fp) if tp + fp else None
    r = tp / pos if pos else None
    f1 = 2 * p * r / (p + r) if p and r else (0.0 if pos else None)
    return {
        "threshold": threshold,
        "precision": None if p is None else round(p, 4),
        "recall": None if r is None else round(r, 4),
        "f1": None if f1 is None else round(f1, 4),
    }


def score_pairs(matcher: Matcher, pairs: list[Pair]) -> list[float]:
    return [
        matcher.compare(p.name1, p.name2, schema=p.schema, country1=p.country1,
                        country2=p.country2)[0]
        for p in pairs
    ]  # fmt: skip


def metrics(scores: list[float], gold: list[bool], flag: float, block: float) -> dict[str, Any]:
    """P/R/F1 at the FLAG and BLOCK thresholds and at the threshold with the best F1."""
    best = _prf(scores, gold, flag)
    for t in sorted(set(scores)):
        if t <= 0:
            continue
        m = _prf(scores, gold, t)
        if (m["f1"] or 0) > (best["f1"] or 0):
            best = m
    return {"flag": _prf(scores, gold, flag), "block": _prf(scores, gold, block), "best": best}


def evaluate_pairs(matcher: Matcher, path: Path) -> dict[str, Any]:
    """The `transship lists evaluate` result for a pairs file."""
    pairs = read_pairs(path)
    t0 = time.perf_counter()
    scores = score_pairs(matcher, pairs)
    dt = time.perf_counter() - t0
    t = matcher.thresholds
    out = metrics(scores, [p.is_match for p in pairs], t.flag, t.block)
    out["pairs"] = len(pairs)
    out["pairs_per_second"] = round(len(pairs) / dt) if dt > 0 else None
    return out
