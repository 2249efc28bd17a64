"""The memory window state: every primitive op against a brute-force reference on random series,
out-of-order inserts, removal, eviction, checkpoints and stats."""

from __future__ import annotations

import math
import random

import pytest

from tianwang.state.base import (
    COUNT, DISTINCT, FIRST_TS, LAST, LAST_TS, MAX, MIN, NNUM, SUM, StateError, WindowQuery,
)
from tianwang.state.memory import MemoryState

H = 3_600_000
ALL_OPS = (COUNT, SUM, NNUM, MIN, MAX, DISTINCT, FIRST_TS, LAST_TS, LAST)
WINDOWS = (60_000, H, 24 * H)
QUERY = WindowQuery(WINDOWS, tuple((op, wi, -1 if op in (COUNT, FIRST_TS, LAST_TS) else 0)
                                   for wi in range(len(WINDOWS)) for op in ALL_OPS))


def brute(entries: list[tuple[int, int, object]], t: int, q: WindowQuery) -> list:
    """entries: (ts, arrival, value). The reference: filter, then compute each op directly."""
    out = []
    for op, wi, _ in q.ops:
        win = sorted(e for e in entries if t - q.windows[wi] < e[0] <= t)
        nums = [v for _, _, v in win if type(v) in (int, float)]
        if op == COUNT:
            out.append(len(win))
        elif op == SUM:
            out.append(math.fsum(nums) if any(type(v) is float for v in nums) else sum(nums))
        elif op == NNUM:
            out.append(len(nums))
        elif op in (MIN, MAX):
            out.append((min if op == MIN else max)(nums) if nums else None)
        elif op == DISTINCT:
            out.append(frozenset(v for _, _, v in win if type(v) in (str, int, float, bool)))
        elif op == FIRST_TS:
            out.append(win[0][0] if win else None)
        elif op == LAST_TS:
            out.append(win[-1][0] if win else None)
        else:
            out.append(next((v for _, _, v in reversed(win) if v is not None), None))
    return out


def _value(rng: random.Random):
    return rng.choice((rng.randint(-50, 50), rng.randint(0, 10**15), rng.random() * 100, None, "a", "b", True, [1]))


@pytest.mark.parametrize("seed", range(8))
def test_ops_match_brute_force_on_random_series(seed):
    rng = random.Random(seed)
    state = MemoryState(lateness_ms=48 * H)  # longer than any lateness below: nothing visible is evicted
    entries: list[tuple[int, int, object]] = []
    t = 1_000_000_000
    for i in range(1500):
        t += rng.choice((0, 1, 1000, 30_000, 60_000, 600_000, 3 * H))
        ts = t - (rng.randint(0, 2 * H) if rng.random() < 0.1 else 0)  # some late arrivals
        v = _value(rng)
        state.append("t", ts, f"k{i}", [("s", ("x",), (v,), 24 * H)])
        entries.append((ts, i, v))
        if rng.random() < 0.05:  # a failed commit: revert an entry just added
            victim = entries.pop(rng.randrange(max(0, len(entries) - 5), len(entries)))
            assert state.remove("t", victim[0], f"k{victim[1]}", [("s", ("x",))]) == 1
        if rng.random() < 0.2:
            q_t = ts + rng.choice((0, -1, 1, -60_000, 60_000))
            live = state.query("t", q_t, [("s", ("x",), QUERY)])[0]
            ref = brute(entries, q_t, QUERY)
            assert live == ref, (i, [(QUERY.ops[j], a, b) for j, (a, b) in enumerate(zip(live, ref)) if a != b])



def _column_query(c: int) -> WindowQuery:
    return WindowQuery(WINDOWS, tuple((op, wi, -1 if op in (COUNT, FIRST_TS, LAST_TS) else c)
                                      for wi in range(len(WINDOWS)) for op in ALL_OPS))


@pytest.mark.parametrize("seed", range(6))
def test_every_column_of_a_wide_series_matches_brute_force(seed, tmp_path):
    """A series keeps its entries' tokens and columns in one flat list: each column of a 3-wide
    payload (and a payload-less stream beside it) against the brute force, through late inserts,
    reverts, eviction and a checkpoint reload."""
    rng = random.Random(100 + seed)
    state = MemoryState(lateness_ms=48 * H)
    entries: list[tuple[int, int, tuple]] = []
    t = 1_000_000_000
    for i in range(1200):
        t += rng.choice((0, 1, 1000, 60_000, 600_000, 3 * H))
        ts = t - (rng.randint(0, 2 * H) if rng.random() < 0.15 else 0)
        payload = (_value(rng), _value(rng), rng.choice((1, 0, 2.5, "x", None)))
        state.append("t", ts, f"k{i}", [("bare", ("x",), (), 24 * H), ("wide", ("x",), payload, 24 * H)])
        entries.append((ts, i, payload))
        if rng.random() < 0.05:
            victim = entries.pop(rng.randrange(max(0, len(entries) - 5), len(entries)))
            assert state.remove("t", victim[0], f"k{victim[1]}", [("bare", ("x",)), ("wide", ("x",))]) == 2
        if i == 600:
            state.checkpoint(tmp_path / "state.ckpt", last_seq=i)
            state, _ = MemoryState.load(tmp_path / "state.ckpt")
        if rng.random() < 0.2:
            q_t = ts + rng.choice((0, -1, 1, -60_000, 60_000))
            bare = state.query("t", q_t, [("bare", ("x",), WindowQuery(WINDOWS, ((COUNT, 0, -1), (LAST_TS, 2, -1))))])[0]
            assert list(bare) == [brute([(e[0], e[1], None) for e in entries], q_t, QUERY)[k] for k in (0, 25)]
            for c in range(3):
                q = _column_query(c)
                live = list(state.query("t", q_t, [("wide", ("x",), q)])[0])
                ref = brute([(e[0], e[1], e[2][c]) for e in entries], q_t, q)
                assert live == ref, (i, c, [(q.ops[j], a, b) for j, (a, b) in enumerate(zip(live, ref)) if a != b])

def test_window_is_open_at_t_minus_w_and_closed_at_t():
    state = MemoryState()
    q = WindowQuery((H,), ((COUNT, 0, -1),))
    for i, ts in enumerate((10 * H - H, 10 * H - H + 1, 10 * H, 10 * H + 1)):
        state.append("t", ts, f"k{i}", [("s", (1,), (), H)])
    assert state.query("t", 10 * H, [("s", (1,), q)]) == [[2]]


def test_missing_series_gives_empty_values():
    q = WindowQuery((H,), tuple((op, 0, 0) for op in ALL_OPS))
    assert list(MemoryState().query("t", 0, [("s", ("k",), q)])[0]) == [0, 0, 0, None, None, frozenset(), None, None, None]


def test_out_of_order_insert_rebuilds_prefix_sums():
    state = MemoryState()
    q = WindowQuery((H,), ((SUM, 0, 0), (NNUM, 0, 0)))
    for i, (ts, v) in enumerate(((100, 1), (300, "x"), (400, 4))):
        state.append("t", ts, f"k{i}", [("s", (1,), (v,), H)])
    assert state.query("t", 400, [("s", (1,), q)]) == [[5, 2]]  # builds the prefixes
    state.append("t", 200, "late", [("s", (1,), (10,), H)])
    assert state.query("t", 400, [("s", (1,), q)]) == [[15, 3]]
    assert state.query("t", 250, [("s", (1,), q)]) == [[11, 2]]
    assert state.remove("t", 200, "late", [("s", (1,))]) == 1
    assert state.query("t", 400, [("s", (1,), q)]) == [[5, 2]]


def test_remove_unknown_token_and_last_entry():
    state = MemoryState()
    state.append("t", 5, "a", [("s", (1,), (), H)])
    assert state.remove("t", 5, "nope", [("s", (1,))]) == 0
    assert state.remove("t", 6, "a", [("s", (1,))]) == 0  # wrong ts
    assert state.remove("t", 5, "a", [("s", (1,)), ("other", (1,))]) == 1
    assert state.stats().series == 0


def test_eviction_keeps_memory_bounded_and_windows_exact():
    state = MemoryState(lateness_ms=10 * 60_000, watermark_events=1)
    q = WindowQuery((H,), ((COUNT, 0, -1),))
    for i in range(20_000):
        state.append("t", i * 1000, f"k{i}", [("s", ("busy",), (), H)])
        if i >= 600:  # an event 10 minutes late still sees its whole hour, whenever it comes
            late = i * 1000 - 600_000
            assert state.query("t", late, [("s", ("busy",), q)]) == [[min(3600, i - 600 + 1)]]
    s = dict(state.series())[("t", "s", ("busy",))]
    assert len(s.ts) <= 2 * (3600 + 600) + 64  # trimmed once it doubled since the last trim
    assert s.ts[0] >= 19_999_000 - 2 * (H + 600_000)


def test_watermark_is_the_least_of_the_last_events():
    state = MemoryState(watermark_events=3)
    seen = []
    for i, ts in enumerate((50, 40, 60, 70, 80, 10, 90, 100, 110, 120)):
        state.append("t", ts, f"k{i}", [])
        seen.append(ts)
        assert state.watermark("t") == min(seen[-3:])
    assert state.watermark("other") is None


def test_future_dated_events_do_not_evict_what_windows_still_need():
    state = MemoryState(lateness_ms=0, watermark_events=10)
    day = 24 * H
    q = WindowQuery((30 * day,), ((COUNT, 0, -1),))
    for i in range(300):  # one event an hour; every fifth one dated 80 days ahead
        ts = i * H + (80 * day if i % 5 == 0 else 0)
        state.append("t", ts, f"k{i}", [("s", ("c",), (), 30 * day)])
        state.append("t", ts, f"x{i}", [("s", (f"other{i}",), (), 30 * day)])  # keys the sweep visits
    # an event at the present (hour 300) still sees all 240 present-dated events of the last 30 days
    assert state.query("t", 300 * H, [("s", ("c",), q)]) == [[240]]


def test_sweep_drops_quiet_series():
    state = MemoryState(lateness_ms=0, watermark_events=1)
    for k in range(200):
        state.append("t", k, f"q{k}", [("s", (k,), (), H)])
    for i in range(500):  # time moves on elsewhere
        state.append("t", 10 * H + i, f"b{i}", [("s", ("busy",), (), H)])
    assert state.stats().series == 1
    state.append("other-tenant", 0, "x", [("s", (1,), (), H)])  # each tenant has its own clock
    assert ("other-tenant", "s", (1,)) in dict(state.series())


def test_streams_can_be_listed_and_dropped():
    state = MemoryState()
    state.append("t", 1, "a", [("s1", (1,), (), H), ("s2", (1,), (), H), ("s2", (2,), (), H)])
    assert state.stream_ids() == {"s1", "s2"}
    assert state.drop_stream("s2") == 2
    assert state.stream_ids() == {"s1"}


def test_checkpoint_round_trip(tmp_path):
    rng = random.Random(7)
    state = MemoryState(lateness_ms=123)
    for i in range(2000):
        state.append(f"t{i % 2}", rng.randint(0, 10 * H), f"k{i}",
                     [("s", (f"d{i % 17}",), (_value(rng),), 24 * H), ("c", (i % 3, "x"), (), H)])
    count = WindowQuery((H, 24 * H), ((COUNT, 0, -1), (COUNT, 1, -1), (FIRST_TS, 1, -1)))
    before = {k: state.query(k[0], 11 * H, [(k[1], k[2], QUERY if k[1] == "s" else count)]) for k, _ in state.series()}
    path = tmp_path / "state.ckpt"
    state.checkpoint(path, last_seq=4242)
    loaded, seq = MemoryState.load(path)
    assert seq == 4242 and loaded.lateness_ms == 123 and loaded.stats()[:2] == state.stats()[:2]
    assert {k: loaded.query(k[0], 11 * H, [(k[1], k[2], QUERY if k[1] == "s" else count)]) for k, _ in loaded.series()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.ckpt"]  # no temporary file left
    loaded.append("t0", 11 * H, "new", [("s", ("d1",), (5,), 24 * H)])  # and it keeps working


@pytest.mark.parametrize("damage", ["flip", "truncate", "magic", "version", "empty"])
def test_corrupt_checkpoint_is_refused(tmp_path, damage):
    state = MemoryState()
    state.append("t", 1, "a", [("s", (1,), (2,), H)])
    path = tmp_path / "state.ckpt"
    state.checkpoint(path, last_seq=1)
    raw = bytearray(path.read_bytes())
    if damage == "flip":
        raw[-3] ^= 0xFF
    elif damage == "truncate":
        raw = raw[:-10]
    elif damage == "magic":
        raw[0:2] = b"XX"
    elif damage == "version":
        raw[9] = 99
    else:
        raw = bytearray()
    path.write_bytes(bytes(raw))
    with pytest.raises(StateError, match="checkpoint|rebuild"):
        MemoryState.load(path)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(StateError, match="no checkpoint"):
        MemoryState.load(tmp_path / "nothing.ckpt")


def test_stats_count_series_entries_and_bytes():
    state = MemoryState()
    assert state.stats() == (0, 0, 0)
    for i in range(100):
        state.append("t", i, f"k{i}", [("s", (i % 10,), (i,), H)])
    series, entries, approx = state.stats()
    assert (series, entries) == (10, 100) and 10_000 < approx < 100_000
