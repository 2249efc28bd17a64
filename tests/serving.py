"""A real tianwang server on a free local port, for tests that speak HTTP."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from tianwang.api.app import create_app
from tianwang.config import Settings
from tianwang.app import boot
from tianwang.app.platform import Platform
from tianwang.tenants.service import hash_key
from tianwang.store import tenants as tenant_repo

DEMO_KEY = "tw_test_demo_key_0123456789"


def open_runtime(data_dir: Path, db_url: str | None, **kw) -> Platform:
    settings = Settings.from_env({}, data_dir=data_dir, db=db_url, api_key=DEMO_KEY, pii_key="test-pii-key", **kw)
    return boot.open(settings, background=False)


def add_tenant(rt: Platform, tenant_id: str) -> str:
    key = f"tw_{secrets.token_hex(8)}"
    with rt.db.begin() as conn:
        tenant_repo.create_tenant(conn, id=tenant_id, name=tenant_id, api_key_hash=hash_key(key))
    rt.tenants.reload()
    rt.policies.reload()
    return key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, rt: Platform):
        self.rt = rt
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(platform=rt), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class Client(httpx.Client):
    """An httpx client that can hand out a twin with another API key."""

    def __init__(self, url: str, key: str | None):
        super().__init__(base_url=url, headers={"X-API-Key": key} if key else {}, timeout=30)
        self._url = url

    def with_key(self, key: str | None) -> "Client":
        twin = Client(self._url, key)
        self._twins = getattr(self, "_twins", []) + [twin]
        return twin


class Receiver:
    """An HTTP receiver on 127.0.0.1 (a lender's webhook, a call centre): records each POST and
    answers `statuses` in turn (then 200), after `delay_s`."""

    def __init__(self, statuses: list[int] | None = None, delay_s: float = 0.0, path: str = "/hook"):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.statuses = list(statuses or [])
        self.delay_s = delay_s
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                time.sleep(receiver.delay_s)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def ids(self) -> list[int]:
        import orjson

        return [orjson.loads(r["body"])["id"] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
