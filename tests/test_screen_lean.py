"""`transship screen` as its own process (main()): the decisions, and no pandas imported."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import sys
from transship.cli import main
try:
    main()
finally:
    print("pandas" in sys.modules, "OPENBLAS_NUM_THREADS=" + __import__("os").environ.get(
        "OPENBLAS_NUM_THREADS", ""), file=sys.stderr)
"""


def test_screen_process_runs_without_pandas(tmp_path: Path) -> None:
    decl = tmp_path / "d.csv"
    head = "id,date,exporter_name,exporter_country,consignee_name,consignee_country,"
    decl.write_text(
        head + "origin_country,destination_country,hs_code\n"
        "D1,2024-11-01,Kamaro LLC,TR,Tekno OOO,RU,US,RU,854231\n"
        "D2,2024-06-01,Alfa GmbH,DE,Beta Ltd.,GB,DE,GB,010121\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, "--warehouse", str(tmp_path / "w.duckdb"), "screen",
         str(decl), "--no-lists", "--out", str(out)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "False OPENBLAS_NUM_THREADS=1"
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["id"], r["decision"]) for r in rows] == [("D1", "BLOCK"), ("D2", "ALLOW")]
