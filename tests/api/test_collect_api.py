"""POST /v1/collect through HTTP: beacons become behavior events, named by the collection rules;
the device is resolved and its signals reach the application's decision; bad beacons are refused
whole, counted, and leave nothing stored."""

from __future__ import annotations

import copy
import time
import uuid

import pytest

from tests.factories import apply_event
from tianwang.store import events as event_repo

NOW = int(time.time() * 1000)

CHROME = {
    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "ua_ch": {"brands": [["Chromium", "126"], ["Google Chrome", "126"]], "platform": "Windows", "platform_version": "15.0.0",
              "mobile": False, "model": ""},
    "platform": "Win32", "vendor": "Google Inc.", "browser": {"name": "Chrome", "version": 126},
    "os": {"name": "Windows", "version": "10"}, "languages": ["zh-CN", "zh", "en"], "timezone": "Asia/Shanghai",
    "tz_offset": -480, "screen": {"w": 1920, "h": 1080, "avail_w": 1920, "avail_h": 1040, "depth": 24, "dpr": 1.0},
    "hardware_concurrency": 8, "device_memory": 8, "touch_points": 0, "touch": False,
    "canvas": "9f3a1c77", "webgl": {"vendor": "Google Inc. (NVIDIA)", "renderer": "ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)",
                                    "hash": "51c0de2a"},
    "audio": "124.0434", "fonts": ["Arial", "Microsoft YaHei", "SimSun", "SimHei", "KaiTi", "Calibri", "Cambria"],
    "plugins": ["PDF Viewer", "Chrome PDF Viewer"], "storage_id": "0b5e7a52-6a3e-4c1d-9b55-5f1b2f4e7c11", "cookies": True,
    "automation": {"webdriver": False, "headless_ua": False, "no_plugins": False, "no_languages": False,
                   "chrome_missing": False, "permissions_inconsistent": False, "window_outer_zero": False},
}


def beacon(events: list[dict], *, customer: str | None = "c-web-1", attrs: dict | None = CHROME,
           token: str | None = None, batch_id: str | None = None) -> dict:
    return {"v": 1, "batch_id": batch_id or str(uuid.uuid4()), "sent_at": NOW, "session_id": "s-1",
            "customer_id": customer, "device": {"token": token, "attrs": attrs}, "events": events}


def form_events(*, pasted: bool, fill_ms: int, straightness: float = 0.6) -> list[dict]:
    return [
        {"type": "page_view", "ts": NOW, "url": "https://lender.example/apply?from=ad"},
        {"type": "input", "ts": NOW + 1000, "url": "https://lender.example/apply", "selector": "html > body > form#apply > div:nth-of-type(1) > input",
         "tag": "input", "name": "id_number", "input_type": "text", "length": 18, "pasted": pasted, "field_ms": 900,
         "corrections": 0, "keystrokes": 0 if pasted else 18},
        {"type": "submit", "ts": NOW + fill_ms, "url": "https://lender.example/apply", "selector": "html > body > form#apply",
         "tag": "form", "fields": 6, "fill_ms": fill_ms},
        {"type": "behavior", "ts": NOW + fill_ms, "url": "https://lender.example/apply",
         "keys": {"count": 40, "mean_ms": 180.0, "sd_ms": 60.0},
         "mouse": {"moves": 80, "distance": 4000, "straightness": straightness, "speed_mean": 1.2, "speed_sd": 0.4}},
    ]


def post_beacon(api, body, *, site: str = "demo", **kw):
    """The page's beacon (no API key). One that names a customer carries the customer token the
    lender's back end would have handed the page (collect/tokens.py)."""
    if isinstance(body, dict) and body.get("customer_id") and "customer_token" not in body:
        token = api.post("/v1/collect/customer-token", json={"customer_id": body["customer_id"]})
        if token.status_code == 201:
            body = {**body, "customer_token": token.json()["token"]}
    return api.post("/v1/collect", params={"site": site}, json=body, headers={"X-API-Key": ""}, **kw)


def apply_on(api, event_id: str, customer: str, device_id: str, *, after_s: int) -> dict:
    """The customer's application from the device, `after_s` seconds after the beacons."""
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW / 1000 + after_s))
    return api.post("/v1/events", json=apply_event(event_id, customer=customer, device_id=device_id,
                                                   occurred_at=occurred)).json()


def stored_behavior(runtime) -> list[dict]:
    runtime.writer.flush()
    return [r["payload"] for r in event_repo.iter_events(runtime.db) if r["scene"] == "behavior"]


def test_a_beacon_becomes_named_behavior_events_and_a_device(api, runtime):
    r = post_beacon(api, beacon(form_events(pasted=True, fill_ms=4000)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 4 and body["duplicates"] == 0 and body["device_id"].startswith("D"), body
    assert body["token"] and r.headers["access-control-allow-origin"] == "*"
    stored = {e["event_type"]: e for e in stored_behavior(runtime)}
    assert stored["input"]["virtual"] == "apply_id_number" and stored["input"]["pasted"] is True
    assert stored["input"]["selector"].endswith('input[name="id_number"][type="text"]')
    assert stored["submit"]["virtual"] == "apply_submit" and stored["submit"]["duration_ms"] == 4000
    assert stored["behavior"]["virtual"] == "page_behaviour" and stored["behavior"]["mouse_straightness"] == 0.6
    assert "virtual" not in stored["page_view"]
    assert all(e["device_id"] == body["device_id"] and e["customer_id"] == "c-web-1" for e in stored.values())


def test_the_application_reads_the_form_and_the_device(api, runtime):
    device_id = post_beacon(api, beacon(form_events(pasted=True, fill_ms=4000))).json()["device_id"]
    d = apply_on(api, "web-apply-1", "c-web-1", device_id, after_s=10)
    codes = {r["code"] for r in d["reasons"]}
    assert {"APPLY_FORM_TOO_FAST", "APPLY_ID_PASTED"} <= codes, d
    values = api.get("/v1/decisions/web-apply-1").json()["values"]
    assert values["beh_apply_fill_ms_1h"] == 4000 and values["beh_id_pasted_1h"] == 1
    assert values["device_automation"] is False and values["device_customers_30d"] == 1


def test_an_honest_form_raises_nothing(api, runtime):
    device_id = post_beacon(api, beacon(form_events(pasted=False, fill_ms=95_000))).json()["device_id"]
    d = apply_on(api, "web-apply-2", "c-web-1", device_id, after_s=100)
    codes = {r["code"] for r in d["reasons"]}
    assert not codes & {"APPLY_FORM_TOO_FAST", "APPLY_ID_PASTED", "APPLY_AUTOMATED_BROWSER", "APPLY_BOT_POINTER"}, d


def test_an_automated_browser_is_flagged_and_its_application_rejected(api, runtime):
    bot = copy.deepcopy(CHROME)
    bot["automation"]["webdriver"] = True
    bot["user_agent"] = bot["user_agent"].replace("Chrome/", "HeadlessChrome/")
    device_id = post_beacon(api, beacon(form_events(pasted=False, fill_ms=60_000), attrs=bot, customer="c-bot")).json()["device_id"]
    d = apply_on(api, "bot-apply", "c-bot", device_id, after_s=100)
    assert d["outcome"] == "reject" and "APPLY_AUTOMATED_BROWSER" in {r["code"] for r in d["reasons"]}, d


def test_the_same_device_is_recognised_by_its_token_and_after_a_font_change(api, runtime):
    first = post_beacon(api, beacon(form_events(pasted=False, fill_ms=60_000))).json()
    again = post_beacon(api, beacon([], token=first["token"])).json()
    assert again["device_id"] == first["device_id"]
    drifted = copy.deepcopy(CHROME)
    drifted["fonts"] = drifted["fonts"] + ["Source Han Sans"]
    drifted["storage_id"] = None  # storage cleared, no token: attributes alone
    third = post_beacon(api, beacon([], attrs=drifted)).json()
    assert third["device_id"] == first["device_id"], third


def test_a_replayed_batch_is_answered_and_counted_once(api, runtime):
    body = beacon(form_events(pasted=False, fill_ms=60_000))
    assert post_beacon(api, body).json()["accepted"] == 4
    again = post_beacon(api, body).json()
    assert again["accepted"] == 0 and again["duplicates"] == 4
    assert len(stored_behavior(runtime)) == 4
    metrics = api.get("/metrics").text
    assert 'tianwang_collect_events_total{result="duplicate"} 4.0' in metrics


def test_unknown_event_types_are_skipped_not_fatal(api, runtime):
    events = [{"type": "page_view", "ts": NOW, "url": "/x"}, {"type": "teleport", "ts": NOW}, {"type": "click"}]
    r = post_beacon(api, beacon(events, attrs=None))
    assert r.status_code == 200 and r.json()["accepted"] == 1 and r.json()["skipped"] == 2, r.text


BAD = [
    ("not an object", ["a", "list"], 422, "invalid_beacon"),
    ("no version", {"batch_id": str(uuid.uuid4()), "events": []}, 422, "invalid_beacon"),
    ("bad batch id", {"v": 1, "batch_id": "1; DROP TABLE", "events": []}, 422, "invalid_beacon"),
    ("events not a list", {"v": 1, "batch_id": str(uuid.uuid4()), "events": {"a": 1}}, 422, "invalid_beacon"),
    ("too many events", {"v": 1, "batch_id": str(uuid.uuid4()),
                         "events": [{"type": "click", "ts": NOW}] * 101}, 422, "too_many_events"),
    ("hostile customer", {"v": 1, "batch_id": str(uuid.uuid4()), "customer_id": "<script>", "events": []}, 422,
     "invalid_beacon"),
    ("garbage attrs", {"v": 1, "batch_id": str(uuid.uuid4()), "device": {"attrs": "yes"}, "events": []}, 422,
     "invalid_beacon"),
    ("forged attr types", {"v": 1, "batch_id": str(uuid.uuid4()),
                           "device": {"attrs": {**CHROME, "screen": "huge", "fonts": 7}}, "events": []}, 422,
     "invalid_device"),
]


@pytest.mark.parametrize("name, body, status, code", BAD, ids=[b[0] for b in BAD])
def test_bad_beacons_are_refused_whole_and_counted(api, runtime, name, body, status, code):
    r = post_beacon(api, body)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    assert stored_behavior(runtime) == []
    assert f'tianwang_collect_refused_beacons_total{{reason="{code}"}} 1.0' in api.get("/metrics").text


def test_malformed_oversized_and_unknown_site(api, runtime):
    r = api.post("/v1/collect", params={"site": "demo"}, content=b"{not json", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    big = beacon([{"type": "custom", "ts": NOW, "url": "x" * 60_000}] * 2)
    assert post_beacon(api, big).status_code == 413
    assert post_beacon(api, beacon([]), site="nobody").status_code == 404
    assert api.options("/v1/collect").status_code == 204
    assert stored_behavior(runtime) == []


def test_a_beacon_sent_as_text_plain_is_taken(api, runtime):
    import orjson

    r = api.post("/v1/collect", params={"site": "demo"}, content=orjson.dumps(beacon(form_events(pasted=False, fill_ms=70_000))),
                 headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert r.status_code == 200 and r.json()["accepted"] == 4, r.text


def test_preview_counts_what_a_rule_would_have_matched(api, runtime):
    post_beacon(api, beacon(form_events(pasted=True, fill_ms=4000)))
    rules = [
        {"name": "id_field", "type": "input", "url": "/apply*", "selector": "form#apply input[name=id_number]"},
        {"name": "typo", "type": "input", "selector": "form#aply input[name=id_number]"},
        {"name": "bad", "type": "input", "selector": "label + input"},
        {"name": "Bad-Name", "type": "input"},
    ]
    r = api.post("/v1/collect/preview", json={"collect": rules})
    assert r.status_code == 200, r.text
    verdicts = {v["index"]: v for v in r.json()["rules"]}
    assert verdicts[0]["matched"] == 1 and verdicts[0]["examples"][0]["selector"].endswith('[name="id_number"][type="text"]')
    assert verdicts[1]["matched"] == 0 and "matched none" in verdicts[1]["warning"]
    assert verdicts[2]["valid"] is False and "siblings" in verdicts[2]["error"]
    assert verdicts[3]["valid"] is False and "lower_snake_case" in verdicts[3]["error"]
    assert api.post("/v1/collect/preview", json={"collect": []}).status_code == 422
    assert api.post("/v1/collect/preview", json={"collect": rules}, params={"days": 0}).status_code == 422


def test_the_sdk_and_the_demo_page_are_served(api):
    r = api.get("/sdk/tianwang.js")  # built by `make sdk`, which `make test` runs first
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/javascript"), r.text[:200]
    assert "/v1/collect" in r.text
    page = api.get("/demo/apply")
    assert page.status_code == 200 and 'src="/sdk/tianwang.js"' in page.text and 'id="apply"' in page.text


def test_a_published_rule_change_names_the_next_beacon_with_no_page_change(api, runtime):
    from tianwang.policy import versions
    from tianwang.policy.bundle import read_files
    from tianwang.live.policies import DEFAULT_POLICY

    post_beacon(api, beacon(form_events(pasted=False, fill_ms=60_000)))
    assert not [e for e in stored_behavior(runtime) if e.get("virtual") == "apply_phone"]
    files = read_files(DEFAULT_POLICY)
    files["collect.yaml"] += (
        "\n  - name: apply_phone\n    type: input\n    selector: \"form#apply input[name=phone]\"\n"
        "    description: The phone field\n"
    )
    phone = {"type": "input", "ts": NOW + 5000, "url": "https://lender.example/apply", "tag": "input", "name": "phone",
             "selector": "html > body > form#apply > div:nth-of-type(3) > input", "input_type": "tel", "length": 11}
    with runtime.db.begin() as conn:
        versions.publish_files(conn, tenant="demo", files=files, actor="analyst", note="name the phone field")
    runtime.policies.reload()  # what the server's watcher does within two seconds
    post_beacon(api, beacon([phone]))
    assert [e["length"] for e in stored_behavior(runtime) if e.get("virtual") == "apply_phone"] == [11]


def test_a_restart_resolves_the_same_devices_from_the_stored_sightings(tmp_path, db_url):
    from tests.serving import DEMO_KEY, Client, Server, open_runtime

    db = None if db_url.startswith("sqlite") else db_url
    first = open_runtime(tmp_path / "data", db)
    with Server(first) as server, Client(server.url, DEMO_KEY) as api:
        ids = [post_beacon(api, beacon(form_events(pasted=False, fill_ms=60_000), customer=f"c-{i}",
                                       attrs={**CHROME, "storage_id": None, "canvas": f"{i % 2:08x}"})).json()["device_id"]
               for i in range(4)]
        tokened = post_beacon(api, beacon([], attrs=CHROME)).json()
    first.close()
    second = open_runtime(tmp_path / "data", db)
    try:
        with Server(second) as server, Client(server.url, DEMO_KEY) as api:
            by_token = post_beacon(api, beacon([], attrs=None, token=tokened["token"])).json()
            assert by_token["device_id"] == tokened["device_id"], by_token
            again = post_beacon(api, beacon([], attrs={**CHROME, "storage_id": None, "canvas": "00000001"},
                                            customer="c-1")).json()
            assert again["device_id"] == ids[1], (again, ids)
            assert len(second.live.devices("demo")) == len(first.live.devices("demo"))
    finally:
        second.close()
