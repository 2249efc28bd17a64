"""Feeding a real server at a rate: every event decided and counted, errors reported, rings told the answers."""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from datetime import datetime

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tianwang.cli import main
from tianwang.decision.outcomes import STOPPED
from tianwang.sim.attacks import ATTACKS
from tianwang.sim.feed import TRUTH, LiveFeedback, Pacer, feed, parse_rate
from tianwang.sim.run import simulate
from tianwang.store.schema import decisions
from tests.serving import DEMO_KEY, Client, Server, free_port, open_runtime


@pytest.fixture
def server(tmp_path):
    rt = open_runtime(tmp_path / "data", None)
    try:
        with Server(rt) as s:
            yield s
    finally:
        rt.close()


def _decided(server) -> int:
    with server.rt.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(decisions)).scalar_one()


def test_feeding_at_a_rate_delivers_every_event_and_counts_every_decision(server):
    events = list(simulate(150, 1, seed=4))
    result = feed(iter(events), url=server.url, api_key=DEMO_KEY, rate=1000, connections=8, progress=None)
    assert result.generated == result.sent == result.answered == len(events)
    assert not result.errors and result.stopped is None
    assert _decided(server) == len(events)
    assert sum(result.by_label.values()) == len(events)
    labels = {lb for lb, _ in result.by_label}
    assert labels == {ev["label"] for ev in events}
    assert result.achieved() > 0 and f"{result.achieved():,.0f}/s" in result.line()
    assert "asked 1,000/s" in result.line()
    assert result.seconds >= 0.8 * (len(events) - 1) / 1000  # paced: not sent faster than asked


def test_the_ground_truth_is_not_sent(server):
    events = list(simulate(150, 1, seed=4, volume={kind: 0 for kind in ATTACKS} | {"forged_info": 200}))
    feed(iter(events), url=server.url, api_key=DEMO_KEY, progress=None)
    forged = next(ev for ev in events if "forged" in ev)
    with Client(server.url, DEMO_KEY) as client:
        items = client.get(f"/v1/customers/{forged['customer_id']}/timeline").json()["items"]
    assert len(items) == sum(ev["customer_id"] == forged["customer_id"] for ev in events)
    for item in items:
        record = item["event"]
        assert not set(TRUTH) & (set(record) | set(record.get("attributes") or {})), record


def test_the_pacer_spaces_events_by_the_rate_and_by_simulated_time():
    assert [Pacer(500).due(i) for i in (0, 1, 500, 1000)] == [0.0, 0.002, 1.0, 2.0]
    assert Pacer().due(10_000) == 0.0
    paced = Pacer(100, speed=60)  # a simulated minute a second, and at most 100 a second
    assert paced.due(0, 1_000_000.0) == 0.0
    assert paced.due(1, 1_000_600.0) == 10.0  # ten simulated minutes later
    assert paced.due(500, 1_000_601.0) == pytest.approx(601 / 60)  # simulated time is the limit here
    assert paced.due(2000, 1_000_601.0) == 20.0  # the rate is the limit here


@pytest.mark.parametrize("text,rate", [("500/s", 500), ("500", 500), ("30000/min", 500), ("7200/h", 2),
                                       (" 2.5 / sec ", 2.5), ("500/S", 500)])
def test_rates_are_read_per_second_or_minute(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["fast", "500/day", "-5/s", "0", "/s", "5e2", "500 per second"])
def test_a_bad_rate_is_a_clear_usage_error(text):
    with pytest.raises(ValueError, match="rate"):
        parse_rate(text)
    result = CliRunner().invoke(main, ["simulate", "--customers", "10", "--days", "1", "--url", "http://127.0.0.1:9",
                                       "--api-key", "k", "--rate", text])
    assert result.exit_code == 2
    assert "Invalid value for '--rate'" in result.output and text.strip() in result.output


def test_an_unreachable_server_stops_the_run_before_anything_is_written(tmp_path):
    out = tmp_path / "log.jsonl"
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, ["simulate", "--customers", "10", "--days", "1", "--url", url,
                                       "--api-key", "k", "--rate", "500/s", "--out", str(out)])
    assert result.exit_code == 1
    assert f"cannot reach the server at {url}" in result.output
    assert not out.exists()


def test_a_refused_key_stops_the_run(server):
    result = CliRunner().invoke(main, ["simulate", "--customers", "10", "--days", "1", "--url", server.url,
                                       "--api-key", "tw_not_a_key"])
    assert result.exit_code == 1 and "refused the API key" in result.output
    assert _decided(server) == 0


def test_rejected_events_are_counted_and_shown_never_dropped(server):
    events = list(simulate(100, 1, seed=2))
    bad = dict(next(ev for ev in events if ev["scene"] == "payment"), event_id="bad-amount", amount="lots")
    result = feed(iter([*events, bad]), url=server.url, api_key=DEMO_KEY, progress=None)
    assert result.sent == len(events) + 1 and result.answered == len(events)
    assert result.errors == {"HTTP 422": 1}
    assert result.by_label[bad["label"], "error"] == 1
    assert any("bad-amount" in e and "amount" in e for e in result.examples)
    assert "1 errors (HTTP 422 1)" in result.line()


def test_a_server_that_goes_away_midway_stops_the_run_with_what_was_counted(tmp_path):
    rt = open_runtime(tmp_path / "data", None)
    server = Server(rt).__enter__()
    try:
        def events():
            for n, ev in enumerate(simulate(200, 2, seed=1)):
                if n == 100:
                    server.__exit__(None, None, None)
                yield ev

        result = feed(events(), url=server.url, api_key=DEMO_KEY, connections=2, progress=None)
    finally:
        server.__exit__(None, None, None)
        rt.close()
    assert result.stopped and "stopped answering" in result.stopped
    assert 0 < result.answered <= 100 < result.generated == result.sent  # decided before it went; the rest counted
    assert sum(result.errors.values()) == result.sent - result.answered >= 50


def test_the_cli_writes_and_feeds_and_the_rings_learn_from_the_servers_answers(server, tmp_path):
    out = tmp_path / "log.jsonl"
    result = CliRunner().invoke(main, ["simulate", "--customers", "200", "--days", "3", "--seed", "5",
                                       "--volume", "1000", "--url", server.url, "--api-key", DEMO_KEY,
                                       "--rate", "60000/min", "--out", str(out)])
    assert result.exit_code == 0, result.output
    events = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert _decided(server) == len(events)
    assert f"{len(events):,} events generated, {len(events):,} sent, {len(events):,} decided" in result.output
    assert "decisions by ground-truth label" in result.output and "asked 1,000/s" in result.output
    with server.rt.db.connect() as conn:
        outcome = dict(conn.execute(select(decisions.c.event_id, decisions.c.outcome)).all())
    stopped = {ev["event_id"] for ev in events if outcome[ev["event_id"]] in STOPPED}

    # a batch ring moves to a fresh /24 after exactly the pulses the server stopped
    moved = [(_net(before) != _net(after), bool(_ids(before) & stopped))
             for pulses in _ring_pulses(events).values() for before, after in itertools.pairwise(pulses)]
    assert moved and all(m == s for m, s in moved), moved
    # an agent moves to the second phone for the first applicant after one of its events was stopped
    switched = []
    for agent, evs in _by_ring(events, "intermediary").items():
        first_phone = evs[0]["device_id"]
        for ev in evs:
            if ev["scene"] == "register":
                earlier = {e["event_id"] for e in evs if e["occurred_at"] < ev["occurred_at"]}
                switched.append((ev["device_id"] != first_phone, bool(earlier & stopped)))
    assert {s for _, s in switched} == {True, False}  # both cases seen
    assert all(m == s for m, s in switched), switched


def _by_ring(events: list[dict], label: str) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for ev in events:
        if ev["label"] == label:
            out[ev["ring_id"]].append(ev)
    return out


def _ring_pulses(events: list[dict]) -> dict[str, list[list[dict]]]:
    """Each batch ring's members' events, by pulse (a member registering over an hour after the last)."""
    out = {}
    for ring, evs in _by_ring(events, "batch_attack").items():
        pulses, pulse_of, last = [], {}, None
        for ev in evs:
            if ev["scene"] == "register":
                at = datetime.fromisoformat(ev["occurred_at"]).timestamp()
                if last is None or at - last > 3600:
                    pulses.append([])
                last, pulse_of[ev["customer_id"]] = at, len(pulses) - 1
            pulses[pulse_of[ev["customer_id"]]].append(ev)
        out[ring] = pulses
    return out


def _net(pulse: list[dict]) -> set[str]:
    return {ev["ip"].rsplit(".", 1)[0] for ev in pulse}


def _ids(pulse: list[dict]) -> set[str]:
    return {ev["event_id"] for ev in pulse}


def test_live_feedback_waits_for_a_rings_answers_before_it_tells():
    fb = LiveFeedback(wait=5)
    ev = {"attack_id": "ring-00001"}
    fb.sent(ev)
    threading.Timer(0.2, fb.observe, args=(ev, "reject")).start()
    assert fb.stopped("ring-00001") is True  # waited for the answer
    assert fb.stopped("ring-00001") is False  # told once
    assert fb.stopped("ring-00002") is False  # nothing pending: no wait
    assert set(TRUTH) >= {"label", "ring_id", "attack_id"}
