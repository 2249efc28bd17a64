"""The checkpoint file of the memory state: one atomic, versioned, checksummed file.

Layout: MAGIC (8 bytes), then big-endian format version (u16), CRC-32 of the body (u32) and
body length (u64), then the body: a pickle of plain lists, tuples, ints and strings (no
classes, so the file outlives refactors of the state's internals). Written to a temporary
file in the same directory, fsynced, renamed over the old one, and the directory fsynced:
a crash leaves either the old checkpoint or the new one, never half of one.

The file is trusted (it is written by this process and lives beside the database); a file
that fails the checks raises StateError, and the caller rebuilds the state from the log.
"""

from __future__ import annotations

import os
import pickle
import struct
import zlib
from pathlib import Path
from typing import Any

from tianwang.state.base import StateError

MAGIC = b"TWSTATE\x00"
VERSION = 1
_HEADER = struct.Struct(">HIQ")


def write(path: str | Path, body: Any) -> None:
    path = Path(path)
    data = pickle.dumps(body, protocol=5)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC + _HEADER.pack(VERSION, zlib.crc32(data), len(data)))
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # make the rename itself durable
    finally:
        os.close(fd)


def read(path: str | Path) -> Any:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise StateError(f"no checkpoint at {path}; rebuild from the log") from None
    except OSError as exc:
        raise StateError(f"cannot read checkpoint {path}: {exc}") from None
    start = len(MAGIC) + _HEADER.size
    if len(raw) < start or raw[: len(MAGIC)] != MAGIC:
        raise StateError(f"{path} is not a tianwang state checkpoint")
    version, crc, length = _HEADER.unpack_from(raw, len(MAGIC))
    if version != VERSION:
        raise StateError(f"checkpoint {path} has format version {version}; this build reads {VERSION}")
    data = raw[start:]
    if len(data) != length or zlib.crc32(data) != crc:
        raise StateError(f"checkpoint {path} is truncated or corrupt (checksum mismatch); rebuild from the log")
    try:
        return pickle.loads(data)
    except Exception as exc:  # a body that passed the checksum but not unpickling: still corrupt
        raise StateError(f"checkpoint {path} cannot be decoded ({type(exc).__name__})") from None
