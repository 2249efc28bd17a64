"""The monitoring cube on the embedded default, through GET /v1/monitor/cube: it counts every stored
decision once (repeats too), equals a count straight from the records, survives a restart, and
refuses bad queries with a clear 422."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.monitor.expected import EVERYTHING, from_records, totals
from tests.serving import DEMO_KEY, open_runtime
from tianwang.api.app import create_app
from tianwang.tenants.service import Tenant
from tianwang.ingest.walk import accept
from tianwang.monitor.cube import MemoryCube, fact
from tianwang.sim.run import simulate

DEMO = Tenant("demo", "demo")
HEADERS = {"X-API-Key": DEMO_KEY, "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def log() -> list[dict]:
    return list(simulate(customers=400, days=2, seed=5))


@pytest.fixture()
def served(tmp_path, log):
    rt = open_runtime(tmp_path, None)
    for e in log:
        accept(rt, DEMO, e).wait()
    client = TestClient(create_app(platform=rt))
    yield rt, client
    rt.close()


def test_cube_counts_every_stored_decision_once(served, log, tmp_path):
    rt, client = served
    res = client.get("/v1/monitor/cube", params=EVERYTHING, headers=HEADERS)
    assert res.status_code == 200, res.text
    want = from_records(None, tmp_path)
    assert want["decisions"] == len(log)
    assert totals(res.json()) == want
    assert res.json()["behind"] == {"entries": 0, "unacknowledged": 0}  # embedded: counted before the answer
    # repeats answered from the record are not counted again
    for e in log[:50]:
        assert client.post("/v1/events", content=orjson.dumps(e), headers=HEADERS).json()["duplicate"] is True
    assert totals(client.get("/v1/monitor/cube", params=EVERYTHING, headers=HEADERS).json()) == want


def test_buckets_sum_to_the_totals_and_a_scene_filters(served, tmp_path):
    _, client = served
    hourly = client.get("/v1/monitor/cube", params={**EVERYTHING, "from": "2026-11-01T00:00:00Z",
                                                    "to": "2026-11-04T00:00:00Z", "step": "hour"}, headers=HEADERS).json()
    assert len(hourly["buckets"]) == 72
    assert sum(b["decisions"] for b in hourly["buckets"]) == hourly["totals"]["decisions"] > 0
    assert [b["at"] for b in hourly["buckets"][:2]] == ["2026-11-01T00:00:00Z", "2026-11-01T01:00:00Z"]
    apply = client.get("/v1/monitor/cube", params={**EVERYTHING, "scene": "apply"}, headers=HEADERS).json()
    assert totals(apply) == from_records(None, tmp_path, scene="apply")
    assert 0 < apply["totals"]["decisions"] < hourly["totals"]["decisions"]


def test_default_period_is_the_hour_up_to_the_latest_event(served, log):
    _, client = served
    body = client.get("/v1/monitor/cube", headers=HEADERS).json()
    latest = max(datetime.fromisoformat(e["occurred_at"]) for e in log)
    end = latest.astimezone(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
    assert body["to"] == end.isoformat().replace("+00:00", "Z")
    assert body["from"] == (end - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert body["step"] == "minute" and len(body["buckets"]) == 60
    assert body["buckets"][-1]["decisions"] >= 1  # the latest event's minute


def test_restart_refills_the_cube_from_the_records(tmp_path, log):
    rt = open_runtime(tmp_path, None)
    for e in log[:800]:
        accept(rt, DEMO, e).wait()
    before = TestClient(create_app(platform=rt)).get("/v1/monitor/cube", params=EVERYTHING, headers=HEADERS).json()
    rt.close()
    rt = open_runtime(tmp_path, None)
    try:
        after = TestClient(create_app(platform=rt)).get("/v1/monitor/cube", params=EVERYTHING, headers=HEADERS).json()
    finally:
        rt.close()
    assert after == before
    assert before["totals"]["decisions"] == 800


@pytest.mark.parametrize("params, field", [
    ({"step": "week"}, "step"),
    ({"scene": "lunch"}, "scene"),
    ({"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from"),
    ({"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from"),
    ({"from": "2026-11-01T00:00:00"}, "from"),  # no time zone
    ({"to": "yesterday"}, "to"),
    ({"from": "x" * 5000}, "from"),
    ({"from": "2026-11-01T00:00:00Z", "to": "2026-11-03T00:00:00Z", "step": "minute"}, "from"),  # 2,880 buckets
    ({"from": "2026-11-01T00:00:00Z\x00"}, "from"),
])
def test_bad_queries_are_refused_naming_the_field(served, params, field):
    _, client = served
    res = client.get("/v1/monitor/cube", params=params, headers=HEADERS)
    assert res.status_code == 422, res.text
    body = res.json()
    assert body["error"]["code"] == "invalid_query"
    assert body["error"]["message"].startswith(f"{field}:")


def test_a_parameter_given_twice_is_refused_and_the_key_is_required(served):
    _, client = served
    res = client.get("/v1/monitor/cube?step=hour&step=day", headers=HEADERS)
    assert res.status_code == 422 and "once" in res.json()["error"]["message"]
    assert client.get("/v1/monitor/cube").status_code == 401
    assert client.get("/v1/monitor/cube", headers={"X-API-Key": "tw_wrong"}).status_code == 401


def _row(event_id: str, *, ts: int = 1_764_000_000_000, outcome: str = "reject", codes=("A", "B")) -> dict:
    return {"tenant": "t", "event_id": event_id, "scene": "apply", "ts": ts, "outcome": outcome,
            "reasons": [{"code": c} for c in codes], "fallback": None, "latency_us": 250}


def test_a_fact_counts_once_and_cells_expire_after_their_retention():
    now = [1000.0]
    cube = MemoryCube(retention_s=3600, clock=lambda: now[0])
    assert cube.add([fact(_row("e1")), fact(_row("e1")), fact(_row("e2", outcome="pass", codes=()))]) == 2
    assert cube.add([fact(_row("e1"))]) == 0
    minute = 1_764_000_000_000 // 60_000
    assert cube.cells("t", minute, minute) == {minute: {"o|apply|reject": 1, "o|apply|pass": 1, "l|apply": 500,
                                                        "r|apply|A": 1, "r|apply|B": 1}}
    assert cube.cells("other", minute, minute) == {}
    now[0] += 3601
    assert cube.cells("t", minute, minute) == {}


def test_an_empty_cube_reports_the_hour_up_to_now(tmp_path):
    rt = open_runtime(tmp_path, None)
    try:
        body = TestClient(create_app(platform=rt)).get("/v1/monitor/cube", headers=HEADERS).json()
    finally:
        rt.close()
    end = datetime.fromisoformat(body["to"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - end).total_seconds()) < 120
    assert len(body["buckets"]) == 60 and body["totals"]["decisions"] == 0


@pytest.mark.parametrize("setting, value", [("cube_hours", 0), ("cube_hours", -5), ("stream_claim_s", 0.0),
                                            ("stream_claim_s", -1.0)])
def test_a_setting_out_of_range_stops_the_start_naming_it(tmp_path, setting, value):
    from tianwang.errors import PolicyError

    with pytest.raises(PolicyError) as err:
        open_runtime(tmp_path, None, **{setting: value})
    assert f"TIANWANG_{setting.upper()}" in str(err.value)
    assert not (tmp_path / "tianwang.db").exists()  # refused before anything was made
