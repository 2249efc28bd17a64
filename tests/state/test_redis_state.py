"""The Redis window state against the brute force and against the memory backend: every op on
random histories (late arrivals, reverts, ghosts of unfinished walks), eviction, a lost Redis,
and bad URLs. Runs when TIANWANG_TEST_REDIS_URL is set (CI sets it)."""

from __future__ import annotations

import random

import pytest

from tests.state.test_memory_state import QUERY, WINDOWS, H, _column_query, _value, brute
from tianwang.state.base import COUNT, LAST, StateError, WindowQuery
from tianwang.state.memory import MemoryState
from tianwang.state.redis import RedisState, StateLost, split_url

@pytest.fixture
def state(redis_url):
    s = RedisState(redis_url, lateness_ms=48 * H)
    s.mark_complete()
    yield s
    s.r.close()

@pytest.mark.parametrize("seed", range(4))
def test_ops_match_brute_force_and_memory_on_random_series(state, seed):
    rng = random.Random(seed)
    memory = MemoryState(lateness_ms=48 * H)
    entries: list[tuple[int, int, object]] = []
    t = 1_000_000_000
    for i in range(600):
        t += rng.choice((0, 1, 1000, 30_000, 60_000, 600_000, 3 * H))
        ts = t - (rng.randint(0, 2 * H) if rng.random() < 0.1 else 0)
        v = _value(rng)
        for s in (state, memory):
            s.append("t", ts, f"k{i}", [("s", ("x",), (v,), 24 * H)])
        entries.append((ts, i, v))
        if rng.random() < 0.05:
            victim = entries.pop(rng.randrange(max(0, len(entries) - 5), len(entries)))
            for s in (state, memory):
                assert s.remove("t", victim[0], f"k{victim[1]}", [("s", ("x",))]) == 1
        if rng.random() < 0.3:
            q_t = ts + rng.choice((0, -1, 1, -60_000, 60_000))
            shared = list(state.query("t", q_t, [("s", ("x",), QUERY)])[0])
            assert shared == brute(entries, q_t, QUERY)
            assert shared == list(memory.query("t", q_t, [("s", ("x",), QUERY)])[0])

def test_wide_payloads_and_bare_streams_match_memory(state):
    rng = random.Random(7)
    memory = MemoryState(lateness_ms=48 * H)
    t = 1_000_000_000
    for i in range(400):
        t += rng.choice((0, 1, 60_000, 3 * H))
        payload = (_value(rng), _value(rng), rng.choice((1, 0, 2.5, "x", None)))
        items = [("bare", ("x", 1), (), 24 * H), ("wide", ("x", 1), payload, 24 * H)]
        for s in (state, memory):
            s.append("t", t, f"k{i}", items)
        if rng.random() < 0.3:
            reqs = [("bare", ("x", 1), WindowQuery(WINDOWS, ((COUNT, 0, -1), (COUNT, 2, -1))))]
            reqs += [("wide", ("x", 1), _column_query(c)) for c in range(3)]
            assert [list(r) for r in state.query("t", t, reqs)] == [list(r) for r in memory.query("t", t, reqs)]

def test_series_of_different_windows_read_in_one_call(state):
    """Each series of one read gets its own window: a short one beside long ones, in any order."""
    memory = MemoryState(lateness_ms=48 * H)
    for i in range(48):
        items = [("short", ("k",), (i,), H), ("long", ("k",), (i,), 24 * H), ("long", ("j",), (i,), 24 * H)]
        for s in (state, memory):
            s.append("t", i * H // 2, f"e{i}", items)
    short, long = WindowQuery((H // 4,), ((COUNT, 0, -1),)), WindowQuery((H, 24 * H), ((COUNT, 0, -1), (COUNT, 1, -1)))
    for reqs in ([("short", ("k",), short), ("long", ("k",), long), ("long", ("j",), long)],
                 [("long", ("k",), long), ("short", ("k",), short), ("long", ("j",), long)]):
        got = [list(r) for r in state.query("t", 24 * H, reqs)]
        assert got == [list(r) for r in memory.query("t", 24 * H, reqs)]
        assert got[[r[0] for r in reqs].index("long")] == [1, 47]


def test_equal_times_keep_walk_order_for_last(state):
    """Entries of one ts sort in the order they were appended (what `last` reads), as in memory."""
    q = WindowQuery((H,), ((LAST, 0, 0),))
    for i, v in enumerate(("z", "a", "m")):
        state.append("t", 5_000_000, f"e{i}", [("s", ("k",), (v,), H)])
    assert list(state.query("t", 5_000_000, [("s", ("k",), q)])[0]) == ["m"]

def test_a_retried_walk_counts_once(state):
    """A walk cut short after its append leaves a ghost; the retry reads past it and replaces it."""
    q = WindowQuery((H,), ((COUNT, 0, -1),))
    state.append("t", 1_000, "a", [("s", ("k",), (), H)])
    state.append("t", 2_000, "b", [("s", ("k",), (), H)])  # b's walk dies before its commit
    assert list(state.query("t", 2_000, [("s", ("k",), q)], token="b")[0]) == [1]  # b retried: sees a only
    state.append("t", 2_000, "b", [("s", ("k",), (), H)])  # the retry appends again
    assert list(state.query("t", 3_000, [("s", ("k",), q)])[0]) == [2]
    assert state.remove("t", 2_000, "b", [("s", ("k",))]) == 1
    assert list(state.query("t", 3_000, [("s", ("k",), q)])[0]) == [1]

def test_old_entries_are_evicted_past_the_watermark(state):
    q = WindowQuery((H,), ((COUNT, 0, -1),))
    lean = RedisState(state.url, lateness_ms=0, watermark_events=1)
    for i in range(10):
        lean.append("t", i * H, f"e{i}", [("s", ("k",), (), H)])
    assert lean.r.zcard(lean.key("t", "s", ("k",))) <= 2
    assert list(lean.query("t", 9 * H, [("s", ("k",), q)])[0]) == [1]
    assert 0 < lean.r.pttl(lean.key("t", "s", ("k",))) <= H + 86_400_000

def test_lost_state_is_said_not_read_as_empty(state):
    q = WindowQuery((H,), ((COUNT, 0, -1),))
    state.append("t", 1_000, "a", [("s", ("k",), (), H)])
    assert state.holds_log()
    assert state.clear() >= 2
    assert not state.holds_log()
    with pytest.raises(StateLost):
        state.query("t", 2_000, [("s", ("k",), q)])

def test_streams_listed_dropped_and_counted(state):
    state.append("t", 1_000, "a", [("s1", ("k",), (), H), ("s2", ("k",), (1,), H), ("s2", ("j",), (1,), H)])
    assert state.stream_ids() == {"s1", "s2"}
    assert state.drop_stream("s2") == 2
    assert state.stream_ids() == {"s1"}
    assert state.stats().series >= 1 and state.stats().approx_bytes > 0

@pytest.mark.parametrize("url", ["http://x", "redis://h/0?namespace=", "redis://h/0?namespace=a:b", "redis://h/0?namespace=*"])
def test_bad_state_urls_are_refused(url):
    with pytest.raises(StateError):
        split_url(url)

def test_unreachable_redis_is_a_state_error():
    s = RedisState("redis://127.0.0.1:1/0", socket_timeout=0.2)
    with pytest.raises(StateError, match="unreachable"):
        s.query("t", 1, [("s", ("k",), WindowQuery((H,), ((COUNT, 0, -1),)))])
    with pytest.raises(StateError, match="unreachable"):
        s.append("t", 1, "a", [("s", ("k",), (), H)])

def test_namespace_is_kept_out_of_the_client_url():
    assert split_url("redis://h:1/2?namespace=abc&socket_keepalive=true") == ("redis://h:1/2?socket_keepalive=true", "abc")
    assert split_url("redis://h:1/2")[1] == "tw"

