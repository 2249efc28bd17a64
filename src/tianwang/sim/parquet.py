"""The event log as Parquet: typed columns to query, and each event's full JSON to replay.

The events are not one shape: each scene has its own fields, and some are nested (`gps`,
`contacts`, `forged`). So the file keeps, per event, the fields common to most of them as
typed columns (`COLUMNS`: ids, scene, time, customer, device, ip, city, amount and the
ground truth, null where an event has none) beside `raw`, the event's JSON exactly as the
JSONL writer writes it (without the newline). Queries read the columns; anything needing
the whole event reads `raw` (`iter_parquet_lines` yields it the way a JSONL file is read
line by line), so nothing is lost and a Parquet log replays to the same decisions.

Rows are written in row groups of `ROWS_PER_GROUP` as they come: memory holds one group,
whatever the length of the run.
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from tianwang.sim.writing import write_events

ROWS_PER_GROUP = 50_000

COLUMNS = {  # typed column → its type; the value is the event's field of the same name
    "event_id": pa.string(),
    "scene": pa.string(),
    "occurred_at": pa.timestamp("ms", tz="+08:00"),
    "customer_id": pa.string(),
    "device_id": pa.string(),
    "ip": pa.string(),
    "city": pa.string(),
    "amount": pa.int64(),
    "label": pa.string(),
    "group": pa.string(),
    "attack_id": pa.string(),
    "ring_id": pa.string(),
}
SCHEMA = pa.schema([*COLUMNS.items(), ("raw", pa.string())])


class ParquetLog:
    """A Parquet event log being written: `write(event)` for each, closed on leaving `with`."""

    def __init__(self, path: str | Path, *, rows_per_group: int = ROWS_PER_GROUP, compression: str = "zstd"):
        self.rows_per_group = rows_per_group
        self._writer = pq.ParquetWriter(str(path), SCHEMA, compression=compression)
        self._columns: dict[str, list] = {name: [] for name in COLUMNS}
        self._new_raw()

    def _new_raw(self) -> None:
        # the JSON of the group's events end to end, and where each ends: the Arrow string column's
        # own layout (a list of 50,000 small bytes objects costs many times their size here)
        self._raw, self._ends, self._rows = bytearray(), array("i", [0]), 0

    def write(self, event: dict) -> None:
        for name, values in self._columns.items():
            values.append(event.get(name))
        self._raw += orjson.dumps(event)
        self._ends.append(len(self._raw))
        self._rows += 1
        if self._rows >= self.rows_per_group:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered as one row group."""
        if not self._rows:
            return
        arrays = []
        for name, kind in COLUMNS.items():
            values = self._columns[name]
            if name == "occurred_at":  # ISO 8601 with its offset: Arrow parses it to the instant
                arrays.append(pa.array(values, pa.string()).cast(kind))
            else:
                arrays.append(pa.array(values, kind))
            values.clear()
        arrays.append(pa.StringArray.from_buffers(self._rows, pa.py_buffer(self._ends), pa.py_buffer(self._raw)))
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=SCHEMA))
        self._new_raw()

    def close(self) -> None:
        self.flush()
        self._writer.close()

    def __enter__(self) -> "ParquetLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_parquet(events: Iterable[dict], out: str | Path, *, progress: IO[str] | None = sys.stderr,
                  every: float = 2.0, rows_per_group: int = ROWS_PER_GROUP) -> Counter:
    """Write the events as Parquet; return counts by (scene, label), like `sim.run.write_jsonl`."""
    with ParquetLog(out, rows_per_group=rows_per_group) as log:
        return write_events(events, log.write, progress=progress, every=every)


def iter_parquet_lines(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """(row number from 1, the event's JSON bytes) for every row: a JSONL file's lines, without newlines."""
    n = 0
    for batch in pq.ParquetFile(str(path)).iter_batches(columns=["raw"], batch_size=ROWS_PER_GROUP):
        for raw in batch.column(0).cast(pa.binary()).to_pylist():
            n += 1
            yield n, raw
