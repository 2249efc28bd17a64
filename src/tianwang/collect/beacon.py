"""The SDK's beacon (`POST /v1/collect`): checked, bounded, and turned into `behavior` events.

A beacon is one batch of captured client events with the device's raw attributes:

    {"v": 1, "batch_id": "<uuid>", "sent_at": <ms>, "session_id": "<uuid>", "customer_id": "c-42" | null,
     "device": {"token": "<signed device token>" | null, "attrs": {…} | null},
     "events": [{"type": "input", "ts": <ms>, "url": "…", "selector": "…", "length": 18, "pasted": true, …}]}

Tolerant of what it does not know (unknown keys are ignored, an event of an unknown type is
skipped and counted) and strict on size and shape: a body that is not an object, a missing or
malformed batch id, more than `MAX_EVENTS` events or a string over its bound is a
`BeaconError`, and nothing of the batch is stored. Each captured event becomes the body of a
`behavior` event (`to_event`), whose id `<batch_id>.<n>` makes a replayed batch a repeat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tianwang.collect.rules import EVENT_TYPES
from tianwang.collect.selectors import Step, format_path, parse_path

MAX_EVENTS = 100
MAX_TEXT = 512
CLOCK_SKEW_MS = 24 * 3_600_000  # a client clock further off than this is not believed
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
CUSTOMER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BeaconError(ValueError):
    """A beacon refused whole: `code` for the metrics, the message for the sender."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Beacon:
    batch_id: str
    session_id: str | None
    customer_id: str | None
    customer_token: str | None  # the lender's proof that customer_id is who is signed in (collect/tokens.py)
    token: str | None
    attrs: dict | None
    events: list[dict]
    skipped: int  # events of a type not known, or without a usable time


def parse_beacon(raw: Any) -> Beacon:
    """Check a decoded beacon (see the module docstring)."""
    if not isinstance(raw, dict):
        raise BeaconError("invalid_beacon", "a beacon is a JSON object")
    if raw.get("v") != 1:
        raise BeaconError("invalid_beacon", "v: this server speaks beacon version 1")
    batch_id = raw.get("batch_id")
    if not isinstance(batch_id, str) or not _UUID.match(batch_id):
        raise BeaconError("invalid_beacon", "batch_id: a UUID is required (the batch's idempotency key)")
    session_id = _opt_text(raw.get("session_id"), "session_id", 64)
    customer_id = raw.get("customer_id")
    if customer_id in ("[id]", "[phone]", "[card]"):  # the SDK scrubbed personal data given to identify()
        customer_id = None
    if customer_id is not None and (not isinstance(customer_id, str) or not CUSTOMER.match(customer_id)):
        raise BeaconError("invalid_beacon", "customer_id: 1-128 letters, digits and . _ : @ / -")
    customer_token = _opt_text(raw.get("customer_token"), "customer_token", 256)
    device = raw.get("device") or {}
    if not isinstance(device, dict):
        raise BeaconError("invalid_beacon", "device: an object with token and attrs")
    token = _opt_text(device.get("token"), "device.token", 256)
    attrs = device.get("attrs")
    if attrs is not None and not isinstance(attrs, dict):
        raise BeaconError("invalid_beacon", "device.attrs: an object of device attributes")
    events = raw.get("events")
    if not isinstance(events, list):
        raise BeaconError("invalid_beacon", "events: a list of captured events")
    if len(events) > MAX_EVENTS:
        raise BeaconError("too_many_events", f"events: at most {MAX_EVENTS} in one beacon")
    kept, skipped = [], 0
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            raise BeaconError("invalid_beacon", f"events[{i}]: an object")
        if event.get("type") not in EVENT_TYPES or not _is_int(event.get("ts")):
            skipped += 1
            continue
        kept.append(event)
    return Beacon(batch_id.lower(), session_id, customer_id, customer_token, token, attrs, kept, skipped)


def to_event(beacon: Beacon, n: int, event: dict, *, device_id: str | None, ip: str | None, now_ms: int,
             virtual: str | None, path: list[Step] | None = None) -> dict:
    """The `behavior` event body of the beacon's `n`-th kept event (for the walk); its `selector`
    is the element's whole path with its name and type (`format_path`), what a collection rule
    and its preview match."""
    from tianwang.timefmt import iso

    ts = event["ts"]
    if abs(ts - now_ms) > CLOCK_SKEW_MS:
        ts = now_ms
    customer = beacon.customer_id or (f"device:{device_id}" if device_id else f"session:{beacon.session_id or beacon.batch_id}")
    out: dict[str, Any] = {
        "event_id": f"{beacon.batch_id}.{n}",
        "scene": "behavior",
        "occurred_at": iso(ts),
        "customer_id": customer[:128],
        "event_type": event["type"],
        "device_id": device_id,
        "ip": ip,
        "url": _text(event.get("url")),
        "selector": _tail(format_path(path)) if path else None,
        "duration_ms": _bounded_int(event.get("field_ms") if event["type"] == "input" else event.get("fill_ms"), 86_400_000),
        "virtual": virtual,
        "pasted": event.get("pasted") if isinstance(event.get("pasted"), bool) else None,
        "length": _bounded_int(event.get("length"), 1_000_000),
        "corrections": _bounded_int(event.get("corrections"), 1_000_000),
        "keystrokes": _bounded_int(event.get("keystrokes"), 1_000_000),
    }
    keys, mouse = event.get("keys"), event.get("mouse")
    if isinstance(keys, dict):
        out["keys_mean_ms"] = _bounded_float(keys.get("mean_ms"), 600_000)
        out["keys_sd_ms"] = _bounded_float(keys.get("sd_ms"), 600_000)
    if isinstance(mouse, dict):
        out["mouse_moves"] = _bounded_int(mouse.get("moves"), 10_000_000)
        out["mouse_straightness"] = _bounded_float(mouse.get("straightness"), 1)
    return {k: v for k, v in out.items() if v is not None}


def path_of(event: dict) -> list | None:
    """The captured element's path (for the collection rules' selectors), or None."""
    selector = event.get("selector")
    if not isinstance(selector, str):
        return None
    classes = event.get("classes")
    return parse_path(_CONTROL.sub(" ", selector[:2048]), tag=_text(event.get("tag")), id=_text(event.get("id")),
                      name=_text(event.get("name")), input_type=_text(event.get("input_type")),
                      classes=[c for c in classes[:32] if isinstance(c, str)] if isinstance(classes, list) else None)


def _tail(path: str) -> str:
    """A path within the record's bound: the element and its nearest ancestors, which selectors read."""
    while len(path) > MAX_TEXT and " > " in path:
        path = path.split(" > ", 1)[1]
    return path[-MAX_TEXT:]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 946_684_800_000 <= v <= 4_102_444_800_000


def _opt_text(v: Any, field: str, longest: int) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str) or len(v) > longest or _CONTROL.search(v):
        raise BeaconError("invalid_beacon", f"{field}: text of at most {longest} characters")
    return v


def _text(v: Any) -> str | None:
    """A captured string as a record may keep it: bounded, no control characters."""
    if not isinstance(v, str) or not v:
        return None
    return _CONTROL.sub(" ", v[:MAX_TEXT])


def _bounded_int(v: Any, top: int) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= top else None


def _bounded_float(v: Any, top: float) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= top:
        return None
    return float(v)
