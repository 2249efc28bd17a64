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
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
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
