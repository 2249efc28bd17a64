"""Server mode under test: replicas as real processes, a Redis server of the test's own, a TCP
proxy that can cut a replica off its database, and what compares two runs' stored decisions."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from tests.serving import DEMO_KEY, free_port
from tianwang.store.db import make_engine
from tianwang.store.schema import decisions, holds

PII_KEY = "test-pii-key"
LAUNCH = "import sys; from tianwang.cli import main; sys.argv[0] = 'tianwang'; main()"


class Replica:
    """`tianwang serve --db … --state …` in a process of its own (or another command of the CLI)."""

    def __init__(self, data_dir: Path, db: str, state: str, *, command: tuple[str, ...] = ("serve",),
                 env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        args = [sys.executable, "-c", LAUNCH, *command, "--data-dir", str(data_dir), "--db", db, "--state", state]
        if command == ("serve",):
            args += ["--port", str(self.port)]
        full_env = {**os.environ, "TIANWANG_PII_KEY": PII_KEY, "TIANWANG_API_KEY": DEMO_KEY, **(env or {})}
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(data_dir / "process.log", "wb")
        self.proc = subprocess.Popen(args, env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        self.client = httpx.Client(base_url=self.url, headers={"X-API-Key": DEMO_KEY, "Content-Type": "application/json"},
                                   timeout=30)

    def wait_ready(self, timeout: float = 60) -> "Replica":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"replica exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if self.client.get("/readyz").status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"replica not ready in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return (self.data_dir / "process.log").read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """kill -9: no shutdown, no drain."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 40) -> int:
        """SIGTERM, as an orchestrator stops a replica: in-flight requests are answered first."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.client.close()
        self.log.close()
        return self.proc.returncode


class RedisServer:
    """A Redis server of the test's own on a free port, keeping nothing on disk: restarted, it is empty."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Proxy:
    """A TCP proxy to a server (here: PostgreSQL) that a test can cut — every connection dropped and
    new ones refused, as when the database goes away — and restore."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.up = False
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def via_proxy(pg_url: str, proxy: Proxy) -> str:
    """The same database URL, through the proxy."""
    from sqlalchemy.engine import make_url

    url = make_url(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    return url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def stored(db_url: str | None, data_dir: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """event id → its stored decision's (outcome, score, reasons, values, fallback), and event id → how its hold ended."""
    engine = make_engine(db_url, data_dir)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(decisions.c.event_id, decisions.c.outcome, decisions.c.score, decisions.c.reasons,
                                       decisions.c["values"], decisions.c.fallback)).mappings().all()
            held = conn.execute(select(holds.c.event_id, holds.c.status, holds.c.final_outcome, holds.c.resolved_by)).mappings().all()
    finally:
        engine.dispose()
    return {r["event_id"]: dict(r) for r in rows}, {r["event_id"]: dict(r) for r in held}


def differences(want: dict[str, dict], got: dict[str, dict], limit: int = 3) -> list:
    """The first events whose stored decisions differ, each with only the fields (and values) that differ."""
    out = []
    for event_id, a in want.items():
        b = got.get(event_id)
        if a == b:
            continue
        if b is None:
            out.append((event_id, "missing"))
        else:
            fields = {k: (a[k], b[k]) for k in a if k != "values" and a[k] != b[k]}
            values = {k: (a["values"].get(k), b["values"].get(k)) for k in a["values"].keys() | b["values"].keys()
                      if a["values"].get(k) != b["values"].get(k)}
            out.append((event_id, fields, values))
        if len(out) >= limit:
            break
    return out
