"""The platform's secrets: the PII key, the console's session key, the device-token key.

One secret to keep in server mode: every replica must hash the same phone alike, so
`TIANWANG_PII_KEY` is required there, and the console and device keys are derived from it.
Embedded, each is a file made in the data folder on first start (mode 0600).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
from pathlib import Path
from typing import IO

from tianwang.config import Settings
from tianwang.errors import SettingError


def lock_folder(folder: Path) -> IO:
    """Hold the embedded data folder for this process alone (released when it closes or dies).

    Two processes on one folder each keep their own windows, networks and ids in memory and
    store over each other: a replay beside a running server counted one application where the
    log held three. So the second one is refused, saying who holds it."""
    handle = open(folder / "tianwang.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise SettingError("TIANWANG_DATA_DIR", f"{folder} is in use by {holder}: send changes through its API "
                           "(POST /v1/lists, POST /v1/events …) or stop it first; one process per data folder") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"tianwang process {os.getpid()}\n")
    handle.flush()
    return handle


def pii_key(settings: Settings) -> bytes:
    if settings.pii_key:
        return settings.pii_key.encode()
    path = settings.data_dir / "pii.key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def console_key(settings: Settings) -> bytes:
    """The key console sessions are signed with (a file in the data folder, made on first start:
    every process of one deployment shares it; deleting it signs everyone out). Server mode:
    derived from the PII key, which every replica has."""
    if settings.state:
        return hashlib.sha256(b"tianwang console\0" + pii_key(settings)).digest()
    path = settings.data_dir / "console.key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return bytes.fromhex(path.read_text().strip())


def customer_key(settings: Settings) -> bytes:
    """The key customer tokens are signed with (collect/tokens.py): derived from the PII key."""
    return hashlib.sha256(b"tianwang customer token\0" + pii_key(settings)).digest()


def device_key(settings: Settings) -> bytes:
    """The key device tokens are signed with: derived from the PII key, so one secret to keep."""
    return hashlib.sha256(b"tianwang device token\0" + pii_key(settings)).digest()
