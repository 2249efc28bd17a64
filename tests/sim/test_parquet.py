"""The Parquet log: the same events as the JSONL, in row groups, with typed columns beside the raw JSON."""

from __future__ import annotations

import io
from datetime import datetime

import orjson
import pyarrow.parquet as pq
from click.testing import CliRunner

from tianwang.cli import main
from tianwang.sim.parquet import COLUMNS, iter_parquet_lines, write_parquet
from tianwang.sim.run import simulate, write_jsonl


def _jsonl(**kw) -> bytes:
    buf = io.BytesIO()
    write_jsonl(simulate(**kw), buf, progress=None)
    return buf.getvalue()


def test_the_parquet_lines_are_the_jsonl_lines_exactly(tmp_path):
    path = tmp_path / "log.parquet"
    counts = write_parquet(simulate(300, 3, seed=9), path, progress=None, rows_per_group=100)
    jsonl = _jsonl(customers=300, days=3, seed=9)
    rows = list(iter_parquet_lines(path))
    assert [n for n, _ in rows] == list(range(1, len(rows) + 1))
    assert b"".join(line + b"\n" for _, line in rows) == jsonl
    assert sum(counts.values()) == len(rows) == jsonl.count(b"\n")
    assert pq.ParquetFile(path).metadata.num_row_groups == -(-len(rows) // 100)  # written as they came


def test_typed_columns_hold_the_events_fields(tmp_path):
    path = tmp_path / "log.parquet"
    write_parquet(simulate(300, 3, seed=9), path, progress=None)
    table = pq.read_table(path)
    assert table.column_names == [*COLUMNS, "raw"]
    events = [orjson.loads(raw) for raw in table.column("raw").to_pylist()]
    for name in COLUMNS:
        values = table.column(name).to_pylist()
        if name == "occurred_at":
            assert values == [datetime.fromisoformat(ev["occurred_at"]) for ev in events]
        else:
            assert values == [ev.get(name) for ev in events], name
    assert any(ev.get("amount") is None for ev in events) and any(ev.get("amount") for ev in events)
    nested = [ev for ev in events if ev["scene"] == "apply"]
    assert nested and all(isinstance(ev["contacts"], list) and "lat" in ev["gps"] for ev in nested)
    assert any("forged" in ev for ev in events)  # attack-specific lists survive in `raw`


def test_cli_writes_parquet_by_suffix_or_by_format(tmp_path):
    jsonl = _jsonl(customers=300, days=3, seed=9)
    n = jsonl.count(b"\n")
    for out, extra in ((tmp_path / "log.parquet", []), (tmp_path / "log.data", ["--format", "parquet"])):
        result = CliRunner().invoke(main, ["simulate", "--customers", "300", "--days", "3", "--seed", "9",
                                           "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        assert b"".join(line + b"\n" for _, line in iter_parquet_lines(out)) == jsonl
        assert "events by label and scene" in result.output and f"{n:,}" in result.output
    plain = tmp_path / "log.jsonl"
    CliRunner().invoke(main, ["simulate", "--customers", "300", "--days", "3", "--seed", "9", "--out", str(plain)])
    assert plain.read_bytes() == jsonl
