"""Shared loading machinery: data directory, metadata, CSV/YAML parsing with located errors.

Loaders validate everything at load time and fail with a ReferenceDataError that names the
file and, for CSV files, the line and field, so a bad edit to a data file is caught at once.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import functools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# The one error hierarchy: errors.py is a leaf module (imports nothing of ours), so reference/
# still depends on no other layer.
from transship.errors import ReferenceDataError as ReferenceDataError

DATA_DIR = Path(__file__).resolve().parent / "data"

M = TypeVar("M", bound=BaseModel)


def resolve_dir(data_dir: Path | str | None) -> Path:
    """The data directory to read: the packaged one unless a path is injected (tests)."""
    return DATA_DIR if data_dir is None else Path(data_dir).resolve()


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Case-insensitive difflib suggestions, returned in their original spelling."""
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    hits = difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[h] for h in hits]


def unknown(what: str, token: str, candidates: Iterable[str], context: str = "") -> str:
    """Message for an unknown token, with close matches when there are any."""
    msg = f"unknown {what} {token!r}" + (f" in {context!r}" if context else "")
    hints = close_matches(token, candidates)
    return msg + (f"; did you mean: {', '.join(hints)}?" if hints else "")


class SourceRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    title: str = Field(min_length=1)
    url: str | None = None
    date: dt.date | None = None
    note: str | None = None


class FileMeta(BaseModel):
    """Provenance header of a data file (YAML keys, or a CSV's `<name>.meta.yaml` sidecar)."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    title: str = Field(min_length=1)
    source_date: dt.date
    retrieved: dt.date | None = None
    sources: tuple[SourceRef, ...] = Field(default=(), min_length=0)
    source: str | None = None  # single-source files may name it in one line

    def has_source(self) -> bool:
        return bool(self.sources) or bool(self.source)


def _where(path: Path, line: int | None = None) -> str:
    return f"{path.name}" + (f", line {line}" if line is not None else "")


def format_validation(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "(row)"
        parts.append(f"field {field!r}: {e['msg']}")
    return "; ".join(parts)


def read_yaml(path: Path) -> dict[str, Any]:
    import yaml  # here: an ingest reads no YAML, and PyYAML costs ~8 ms to import

    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ReferenceDataError(f"{path}: reference data file not found") from None
    except yaml.YAMLError as exc:
        raise ReferenceDataError(f"{_where(path)}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{_where(path)}: expected a mapping at top level")
    return data


def read_csv(path: Path, columns: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows as (line number, {column: value}); the header must contain `columns`."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise ReferenceDataError(f"{_where(path, 1)}: missing columns {missing}")
            rows = []
            for row in reader:
                line = reader.line_num
                if None in row or any(v is None for v in row.values()):
                    raise ReferenceDataError(f"{_where(path, line)}: expected {len(header)} fields")
                rows.append((line, {k: v.strip() for k, v in row.items()}))
            return rows
    except FileNotFoundError:
        raise ReferenceDataError(f"{path}: reference data file not found") from None


def validate(path: Path, line: int | None, model: type[M], data: Mapping[str, Any]) -> M:
    """Build `model` from one record, locating any error at file (and line)."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise ReferenceDataError(f"{_where(path, line)}: {format_validation(exc)}") from None


def fail(path: Path, line: int | None, message: str) -> ReferenceDataError:
    return ReferenceDataError(f"{_where(path, line)}: {message}")


def split_list(value: str) -> tuple[str, ...]:
    """`a;b` columns into a tuple, empty string into ()."""
    return tuple(v.strip() for v in value.split(";") if v.strip())


@functools.cache
def file_meta(path: Path) -> FileMeta:
    """Provenance of a data file: YAML top-level keys, or the CSV's sidecar."""
    meta_path = path.with_name(path.name + ".meta.yaml") if path.suffix == ".csv" else path
    meta = validate(meta_path, None, FileMeta, read_yaml(meta_path))
    if not meta.has_source():
        raise fail(meta_path, None, "no source named")
    return meta


def data_files(data_dir: Path) -> list[Path]:
    """The data files proper (CSV and YAML), not the CSV sidecars."""
    return sorted(
        p
        for p in data_dir.iterdir()
        if p.suffix in {".csv", ".yaml"} and not p.name.endswith(".meta.yaml")
    )


def yaml_line(node: Any, loc: Sequence[int | str]) -> int | None:
    """1-based line of the YAML node at a pydantic error location `loc` (as deep as it exists),
    so a validation error can name the line of the offending field."""
    import yaml

    line = int(node.start_mark.line) + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == str(part)), None)
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
        line = int(node.start_mark.line) + 1
    return line
