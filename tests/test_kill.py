"""A killed ingest leaves the warehouse exactly as it was, and its batch is marked aborted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import write
from transship.sources.baci import baci_file
from transship.warehouse import Warehouse

CHILD = textwrap.dedent(
    """
    import sys
    from transship.sources.baci import baci_file
    from transship.warehouse import Warehouse

    src = baci_file(sys.argv[2])
    src.block_bytes = 32 * 1024  # many small batches: time to be killed mid-way

    def progress(s, written):
        print("WRITTEN", written, flush=True)

    with Warehouse(sys.argv[1]) as wh:
        wh.ingest(src, progress=progress)
    print("COMMITTED", flush=True)
    """
)


@pytest.mark.slow
def test_kill_mid_ingest(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    first = write(tmp_path / "BACI_HS22_Y2021_V1.csv", "t,i,j,k,v,q\n2021,251,643,854231,1,1\n")
    with Warehouse(db) as wh:
        wh.ingest(baci_file(first))
        before = wh.con.execute("SELECT * FROM trade_flows").fetchall()
    # 200k rows that would replace nothing and add a lot, re-stating the stored key too
    body = "".join(f"2021,251,643,{100000 + i},2,1\n" for i in range(200_000))
    big = write(
        tmp_path / "BACI_HS22_Y2021_V2.csv", "t,i,j,k,v,q\n2021,251,643,854231,9,9\n" + body
    )
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert child.stdout is not None
    seen = 0
    for line in child.stdout:
        if line.startswith("WRITTEN"):
            seen = int(line.split()[1])
            if seen >= 20_000:  # well into the ingest, rows written but not committed
                os.kill(child.pid, signal.SIGKILL)
                break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    assert seen >= 20_000
    with Warehouse(db) as wh:
        after = wh.con.execute("SELECT * FROM trade_flows").fetchall()
        assert after == before  # same rows, same values, same batch ids
        statuses = sorted((b["input_name"].endswith("V2.csv"), b["status"]) for b in wh.batches())
        assert statuses == [(False, "ok"), (True, "aborted")]
