"""The dictionary arrays the converters build skip Arrow's per-row bounds check
(convert._expand, `safe=False`): their indices must stay within their dictionaries."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pytest

from tests.conftest import write
from transship.sources import convert
from transship.sources.csvfile import csv_file


def test_a_converter_giving_fewer_values_is_refused() -> None:
    a = pa.array([f"v{i % 3}" for i in range(30)])  # three distinct values, per value
    with pytest.raises(ValueError, match="gave 2 values for 3"):
        convert._per_value(a, lambda d, k: d.slice(0, 2), [])  # an index 2 would overrun


def test_converted_batches_of_messy_cells_are_valid_arrow(tmp_path: Path) -> None:
    rnd = random.Random(5)
    cells = {
        "Reporter": ["TUR", "Russia", "792", "XXX", " tr ", "", "Türkiye"],
        "Partner": ["RUS", "643", "KAZ", "??", "kaz"],
        "Flow": ["X", "M", "export", "import", "sideways", ""],
        "Code": ["854231", "8542.31", "85423100", "12", "abcdef", ""],
        "Period": ["2020-01", "202002", "2020", "20x0", "2020/13", ""],
        "Value": ["1", '"1,200"', "x", "-3", ""],
    }
    rows = [",".join(rnd.choice(v) for v in cells.values()) for _ in range(4000)]
    f = write(tmp_path / "g.csv", ",".join(cells) + "\n" + "\n".join(rows) + "\n")
    mapping = ["Reporter=reporter", "Partner=partner", "Flow=flow", "Code=hs",
               "Period=period", "Value=value_usd"]  # fmt: skip
    src = csv_file(f, source="x", mapping=mapping, thousands=",", keep_national=True,
                   reject_file=tmp_path / "rejects.csv")  # fmt: skip
    n = 0
    for batch in src.batches():
        batch.validate(full=True)  # raises on an index outside its dictionary
        n += batch.num_rows
    assert 0 < n < 4000  # some rows good, the bad ones rejected
