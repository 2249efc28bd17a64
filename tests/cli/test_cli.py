"""The tianwang command as a user runs it: serve in a real process, replay a log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tianwang.sim.sample import sample_day
from tests.serving import free_port

BIN = Path(sys.executable).parent / "tianwang"


def _env(tmp_path: Path, **extra) -> dict:
    return {**os.environ, "TIANWANG_DATA_DIR": str(tmp_path / "data"), "TIANWANG_PII_KEY": "k", **extra}


def wait_healthy(port: int, deadline: float) -> None:
    """Until the server on `port` answers /healthz (or the deadline passes)."""
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)


def test_serve_starts_prints_the_demo_key_and_decides(tmp_path):
    port = free_port()
    proc = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        key, lines = None, []
        while key is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "API key" in line:
                key = line.strip().split()[-1]
        assert key and key.startswith("tw_"), lines
        wait_healthy(port, deadline)
        event = sample_day(customers=1)[2]
        r = httpx.post(f"http://127.0.0.1:{port}/v1/events", json=event, headers={"X-API-Key": key})
        assert r.status_code == 201, r.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode in (0, -15)  # uvicorn re-raises SIGTERM after its graceful shutdown
    assert (tmp_path / "data" / "state.ckpt").exists(), "a clean shutdown checkpoints the windows"


def test_replay_reports_bad_lines_by_number_and_decides_the_rest(tmp_path):
    events = sample_day(customers=5)
    log = tmp_path / "events.jsonl"
    lines = [json.dumps(e, ensure_ascii=False) for e in events]
    lines.insert(3, '{"scene": "apply", "event_id": "trunc')  # truncated line 4
    lines.insert(7, json.dumps({**events[0], "event_id": "bad-amount", "scene": "apply", "amount": "x"}))  # line 8
    log.write_text("\n".join(lines) + "\n")
    r = subprocess.run([str(BIN), "replay", str(log)], env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert f"{len(events)} events decided" in out, out
    assert "line 4" in out and "not JSON" in out
    assert "line 8" in out and "amount" in out
    assert "2 bad lines" in out

    again = subprocess.run([str(BIN), "replay", str(log)], env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert f"{len(events)} repeats answered from the record" in again.stdout + again.stderr

    stop = subprocess.run([str(BIN), "replay", "--stop-on-error", str(log)], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert stop.returncode == 1 and "stopped" in stop.stdout + stop.stderr


def test_a_tenant_created_by_the_cli_is_served_with_its_own_windows(tmp_path):
    from tests.serving import DEMO_KEY, Client, Server, open_runtime

    rt = open_runtime(tmp_path / "data", None)
    try:
        with Server(rt) as server:
            r = subprocess.run([str(BIN), "tenants", "create", "lender_b", "--name", "Lender B"],
                               env=_env(tmp_path), capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
            key = r.stdout.strip().splitlines()[-1]
            assert key.startswith("tw_")
            again = subprocess.run([str(BIN), "tenants", "create", "lender_b", "--name", "Lender B"],
                                   env=_env(tmp_path), capture_output=True, text=True, timeout=120)
            assert again.returncode != 0 and "exists" in again.stderr
            bad = subprocess.run([str(BIN), "tenants", "create", "Bad Name!", "--name", "x"],
                                 env=_env(tmp_path), capture_output=True, text=True, timeout=120)
            assert bad.returncode != 0
            event = sample_day(customers=3)[2]
            with Client(server.url, key) as b, Client(server.url, DEMO_KEY) as demo:
                deadline = time.monotonic() + 5
                while (r := b.post("/v1/events", json=event)).status_code == 401 and time.monotonic() < deadline:
                    time.sleep(0.2)  # the server re-reads tenants at most once a second
                assert r.status_code == 201, r.text
                assert demo.get(f"/v1/decisions/{event['event_id']}").status_code == 404
    finally:
        rt.close()


def test_a_short_configured_api_key_stops_the_start_and_a_configured_one_is_never_printed(tmp_path):
    """Issue 16, item 13: a 4-character key is guessed; the operator's own key stays out of the logs."""
    from click.testing import CliRunner

    from tianwang.cli import main

    csv = tmp_path / "lists.csv"
    csv.write_text("list_type,entity,value,reason\nblack,device,dev-1,seen in a ring\n")
    short = CliRunner().invoke(main, ["lists", "import", str(csv)], env=_env(tmp_path, TIANWANG_API_KEY="tw_k"))
    assert short.exit_code != 0 and "TIANWANG_API_KEY" in short.output and "24" in short.output, short.output
    key = "tw_operator_chosen_key_0123456789"
    ok = CliRunner().invoke(main, ["lists", "import", str(csv)], env=_env(tmp_path, TIANWANG_API_KEY=key))
    assert ok.exit_code == 0 and "imported 1 entries" in ok.output, ok.output
    assert key not in ok.output


def test_the_data_folder_and_its_records_are_the_users_alone(tmp_path):
    """Issue 16, item 16 (in part): a new data folder is 0700, the records in it 0600."""
    import stat

    env = _env(tmp_path)
    csv = tmp_path / "lists.csv"
    csv.write_text("list_type,entity,value,reason\nblack,device,dev-1,seen in a ring\n")
    r = subprocess.run([str(BIN), "lists", "import", str(csv)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.glob("tianwang.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for key in ("pii.key", "console.key"):
        if (data / key).exists():
            assert stat.S_IMODE((data / key).stat().st_mode) == 0o600


def test_a_second_process_on_a_live_data_folder_is_refused_and_says_who_holds_it(tmp_path):
    """Issue 16, item 17: a replay or a list import beside a running server would store over it."""
    port = free_port()
    env = _env(tmp_path)
    proc = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    csv = tmp_path / "lists.csv"
    csv.write_text("list_type,entity,value,reason\nblack,device,dev-1,seen in a ring\n")
    log = tmp_path / "events.jsonl"
    log.write_text(json.dumps(sample_day(customers=1)[0]) + "\n")
    try:
        wait_healthy(port, time.monotonic() + 60)
        for args in (["lists", "import", str(csv)], ["replay", str(log)]):
            r = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=120)
            out = r.stdout + r.stderr
            assert r.returncode != 0, out
            assert "in use by tianwang process" in out and str(proc.pid) in out, out
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    r = subprocess.run([str(BIN), "lists", "import", str(csv)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "imported 1 entries" in r.stdout + r.stderr, r.stdout + r.stderr
