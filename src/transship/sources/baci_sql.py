"""BACI loaded by DuckDB itself: its CSV reader parses, SQL validates set-wise.

The streaming reader (sources.tabular) converts every cell in Python-driven Arrow code; for
BACI's fixed six columns DuckDB can do the whole load in one `INSERT ... SELECT` from
`read_csv`, typed columns, countries joined from a small table and `error()` on any invalid
value, so the warehouse's one transaction rolls it all back. DuckDB's messages do not name
the line and column of the bad cell as ours do, so on any failure the file is read again by
the streaming reader, which raises the precise error (file, line, column, value); only if
that finds nothing is DuckDB's own message reported. Zip members are extracted to a
temporary file first (DuckDB reads no zip). Capability `sql_load` of schema.BatchSource.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transship.errors import InputError
from transship.sources.tabular import (
    TabularFile,
    _archive_errors,
    _country_lookup,
    _read_header,
)

# canonical columns, in SOURCE_COLUMNS order, from the typed BACI columns of `r`
_SELECT = """
SELECT 'baci' AS source,
  CASE WHEN ri.iso IS NULL THEN error('unknown country') ELSE ri.iso END AS reporter,
  CASE WHEN rj.iso IS NULL THEN error('unknown country') ELSE rj.iso END AS partner,
  'export' AS flow,
  CASE WHEN r.k BETWEEN 0 AND 999999 THEN lpad(r.k::VARCHAR, 6, '0')
       ELSE error('HS code is not 6 digits') END AS hs,
  '{rev}' AS hs_rev,
  CASE WHEN r.t BETWEEN 1950 AND 2100 THEN make_date(r.t, 1, 1)
       ELSE error('not a period') END AS period,
  'A' AS freq,
  CASE WHEN r.v * 1000.0 >= 0 AND isfinite(r.v * 1000.0) THEN r.v * 1000.0
       ELSE error('bad value') END AS value_usd,
  CASE WHEN r.q IS NULL OR (r.q * 1000.0 >= 0 AND isfinite(r.q * 1000.0)) THEN r.q * 1000.0
       ELSE error('bad quantity') END AS net_kg,
  NULL::DOUBLE AS qty, NULL::VARCHAR AS qty_unit, 'FOB' AS valuation
FROM (SELECT t, i, j, k, v, CASE WHEN trim(q) IN ('', 'NA', 'N/A', 'NULL', 'null', 'NaN', 'nan')
      THEN NULL ELSE trim(q)::DOUBLE END AS q
      FROM read_csv(?, header = true, delim = ',', quote = '"', auto_detect = false,
              columns = {{'t': 'INTEGER', 'i': 'INTEGER', 'j': 'INTEGER', 'k': 'INTEGER',
                         'v': 'DOUBLE', 'q': 'VARCHAR'}},
              nullstr = ['', 'NA', 'N/A', 'NULL', 'null', 'NaN', 'nan'],
              strict_mode = true, null_padding = false)) r
LEFT JOIN _baci_codes ri ON ri.code = r.i
LEFT JOIN _baci_codes rj ON rj.code = r.j
"""


class BaciFile(TabularFile):
    """A BACI csv or zip; without a reject file, DuckDB loads it (`sql_load`)."""

    def sql_load(self, con: Any, write: Callable[[str, list[Any]], int]) -> None:
        """Load every member through `write`, which runs `INSERT INTO trade_flows SELECT
        <canonical columns>, batch_id FROM (<sql>)` with `sql` and its parameters."""
        import duckdb

        lookup = _country_lookup(self.spec.country_scheme)
        codes = [(int(c), iso) for c, iso in lookup.items() if c.isdigit()]
        con.execute("CREATE OR REPLACE TEMP TABLE _baci_codes (code INTEGER, iso VARCHAR)")
        con.executemany("INSERT INTO _baci_codes VALUES (?, ?)", codes)
        rev = self.parameters["hs_rev"]
        hashed: dict[str, str] = {}
        thread = threading.Thread(target=_hash, args=(self.path, hashed), daemon=True)
        thread.start()  # sha256 of the input while DuckDB reads it (hashlib releases the GIL)
        try:
            for member in self._members:
                with _archive_errors(member.label), member.open() as raw:
                    sample = raw.read(1 << 16)
                header, _ = _read_header(sample, "utf-8", ",", member.label)
                self._check_header(header, member.label)  # header errors name line 1
                with tempfile.TemporaryDirectory(prefix="transship-") as tmp:
                    path = (
                        _extract(self.path, member.label, Path(tmp)) if self._is_zip else self.path
                    )
                    try:
                        n = write(_SELECT.format(rev=rev), [str(path)])
                    except (duckdb.Error, InputError) as e:
                        self._explain(member.label, path, e)
                        raise
                self.rows_read += n
                self.bytes_done += member.size
        finally:
            thread.join()
            with contextlib.suppress(duckdb.Error):  # an aborted transaction drops it too
                con.execute("DROP TABLE IF EXISTS _baci_codes")
        self.sha256 = hashed.get("sha256")

    def _explain(self, label: str, path: Path, error: Exception) -> None:
        """Re-read the failed member with the streaming reader, which names the bad cell."""
        if isinstance(error, InputError):
            return
        again = TabularFile(path, self.spec, delimiter=",", encoding="utf-8")
        try:
            for _ in again.batches():
                pass
        except InputError as e:
            # the member as the user named it, not the temporary copy
            raise InputError(
                e.reason, file=label, line=e.line, column=e.column, value=e.value
            ) from None
        raise InputError(f"DuckDB could not read the file: {error}", file=label) from None


def _hash(path: Path, out: dict[str, str]) -> None:
    with open(path, "rb") as f:
        out["sha256"] = hashlib.file_digest(f, "sha256").hexdigest()


def _extract(archive: Path, label: str, tmp: Path) -> Path:
    """Stream one zip member to a temporary file (a cut member fails its CRC here)."""
    name = label.split("!", 1)[1]
    target = tmp / Path(name).name
    try:
        with zipfile.ZipFile(archive) as z, z.open(name) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise InputError(
            f"compressed input is truncated or corrupt ({e}); nothing was stored", file=label
        ) from None
    return target
