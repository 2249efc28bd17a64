"""One tenant's devices: an attribute set, a token and an IP become a stable device_id (`DeviceRegistry`).

`resolve` tries, in order:
1. the first-party token `<device_id>.<issued_ms>.<hmac>` it issued: that device, unless the
   attributes contradict its hardware (another platform, or canvas, webgl renderer and audio all
   different: a stolen or replayed token, `token_mismatch`). A bad token is ignored (`token_forged`).
2. the SDK's storage_id, when seen before and not contradicting;
3. candidates blocked on stable hardware ((canvas, webgl renderer), (audio, platform), webgl hash,
   the exact hardware), scored on every attribute (`score`). Look-alikes (the same phone model, OS
   and browser) share every hardware hash, so a candidate over THRESHOLD also needs evidence that
   it is this device and not another of its make:
   - the same customer (strong);
   - hardware no other device has, among at least RARE_AMONG devices, with no storage_id seen on it
     beyond its own — and its make is marked shared for good once an older storage_id of the device
     comes back (two browsers answer to one id: a look-alike was merged), which ends the merges;
   - without a storage_id only (private mode: most likely a device seen before; a fresh storage_id
     is far more often a new device than a cleared one): the same /24 of a network where few
     devices were seen, and no other customer; or, off mobile, a soft profile (fonts, languages,
     timezone, screen) no other of at least 8 devices of its make has.
   The one candidate with the best evidence wins; a tie is a new device, never a doubtful merge.
4. a new device, its id a keyed hash of a counter.
Each device keeps first/last seen, visits, its latest attributes, ≤ 50 (ts, changed keys) and
its customers. `to_body` / `from_body` are its checkpoint as plain data; indexes are rebuilt.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from tianwang.device.attrs import normalise_attrs
from tianwang.device.signals import is_mobile, risk_signals

DAY_MS = 86_400_000
THRESHOLD = 0.8  # score a candidate needs
MARGIN = 0.05  # between the best and the next candidate with the same evidence
CAP = 64  # a block larger than this is read through its sub-blocks only
NAT = 16  # a /24 where more devices were seen is a shared network: no evidence
SHARED = 1 << 30  # `_fresh` of a make seen in two browsers at once
RARE_AMONG = 200  # hardware alone among fewer devices than this is not known to be rare
HISTORY, STORAGE_IDS, IP24S, INDEXED_CUSTOMERS = 50, 8, 4, 8
NOT_COMPARED = ("storage_id", "extra")


@dataclass(frozen=True)
class Resolution:
    device_id: str
    confidence: float
    how: str  # token | storage | exact | fuzzy | new
    token: str
    changed: tuple[str, ...]
    signals: dict


class _Device:
    __slots__ = ("id", "first_seen", "last_seen", "visits", "attrs", "history", "customers", "storage", "ip24s",
                 "header_order", "keys", "hw", "soft", "confidence", "risk")

    def __init__(self, device_id: str, ts: int):
        self.id, self.first_seen, self.last_seen, self.visits = device_id, ts, ts, 0
        self.attrs: dict[str, Any] = {}
        self.history: list[tuple[int, tuple[str, ...]]] = []
        self.customers: dict[str, int] = {}
        self.storage: list[str] = []
        self.ip24s: list[str] = []
        self.header_order: str | None = None
        self.keys: set[tuple] = set()
        self.hw: tuple = ()
        self.soft = b""
        self.confidence = 0.0  # of the latest resolution that found it
        self.risk: dict = {}  # risk_signals of its latest attributes


def ip24(ip: str | None) -> str | None:
    """The /24 of an IPv4 address, the /48 of an IPv6 one."""
    if not ip:
        return None
    if ":" in ip:
        return ":".join(ip.split(":")[:3])
    return ip.rsplit(".", 1)[0]


def _gl(a: dict, k: str) -> Any:
    return (a.get("webgl") or {}).get(k)


def _sub(a: dict, k: str, f: str) -> Any:
    return (a.get(k) or {}).get(f)


def _hw(a: dict) -> tuple:
    return ("hw", a["canvas"], _gl(a, "renderer"), _gl(a, "hash"), a["audio"], a["platform"])


def _blocks(a: dict) -> list[tuple]:
    keys = []
    if a["canvas"] and _gl(a, "renderer"):
        keys.append(("cw", a["canvas"], _gl(a, "renderer")))
    if a["audio"] and a["platform"]:
        keys.append(("ap", a["audio"], a["platform"]))
    if _gl(a, "hash"):
        keys.append(("wh", _gl(a, "hash")))
    return keys


def _dims(a: dict) -> tuple | None:
    s = a["screen"]
    return None if not s or s["w"] is None or s["h"] is None else tuple(sorted((s["w"], s["h"])))


def _soft(a: dict) -> bytes:
    """The user's side of a device: what differs between two of the same make."""
    profile = (sorted(a["fonts"] or ()), a["languages"], a["timezone"], _dims(a), _sub(a, "screen", "dpr"))
    return hashlib.blake2b(repr(profile).encode(), digest_size=8).digest()


def contradicts(old: dict, new: dict) -> bool:
    """Hardware that cannot be the same device's: another platform, or canvas, renderer and audio all different."""
    if old["platform"] and new["platform"] and old["platform"] != new["platform"]:
        return True
    return old["canvas"] != new["canvas"] and _gl(old, "renderer") != _gl(new, "renderer") and old["audio"] != new["audio"]


def _eq(x: Any, y: Any) -> float | None:
    return None if x is None or y is None else float(x == y)


def _jaccard(x: list | None, y: list | None) -> float | None:
    if x is None or y is None:
        return None
    sx, sy = set(x), set(y)
    return 1.0 if not (sx or sy) else len(sx & sy) / len(sx | sy)


def score(old: dict, new: dict) -> float | None:
    """How alike two normalised sets are, 0–1 (weighted over the attributes both have); None when
    something rules it out: another platform, OS or browser, or a lower browser version."""
    for k in ("os", "browser"):
        if _sub(old, k, "name") and _sub(new, k, "name") and _sub(old, k, "name") != _sub(new, k, "name"):
            return None
    if old["platform"] and new["platform"] and old["platform"] != new["platform"]:
        return None
    vo, vn = _sub(old, "browser", "version"), _sub(new, "browser", "version")
    if vo is not None and vn is not None and vn < vo:
        return None
    parts = (
        (3, _eq(old["canvas"], new["canvas"])), (2, _eq(_gl(old, "renderer"), _gl(new, "renderer"))),
        (1, _eq(_gl(old, "hash"), _gl(new, "hash"))), (2, _eq(old["audio"], new["audio"])),
        (3, _jaccard(old["fonts"], new["fonts"])), (0.5, _jaccard(old["plugins"], new["plugins"])),
        (1, _eq(old["languages"], new["languages"])), (1, _eq(old["timezone"], new["timezone"])),
        (0.5, _eq(old["tz_offset"], new["tz_offset"])), (1, _eq(_dims(old), _dims(new))),
        (0.5, _eq(_sub(old, "screen", "dpr"), _sub(new, "screen", "dpr"))),
        (0.5, _eq(old["hardware_concurrency"], new["hardware_concurrency"])),
        (0.5, _eq(old["device_memory"], new["device_memory"])), (0.5, _eq(old["touch_points"], new["touch_points"])),
        (0.5, None if vo is None or vn is None else 1.0 if vo == vn else 0.5),
        (0.5, _eq(old["user_agent"], new["user_agent"])), (0.25, _eq(old["vendor"], new["vendor"])),
    )
    total = sum(w for w, s in parts if s is not None)
    return sum(w * s for w, s in parts if s is not None) / total if total else 0.0


class DeviceRegistry:
    """The devices of one tenant (see the module docstring)."""

    def __init__(self, key: bytes):
        self._key = key
        self._devices: dict[str, _Device] = {}
        self._storage: dict[str, str] = {}  # storage_id → device_id
        self._index: dict[tuple, set[str]] = {}  # block or sub-block → device ids
        self._ip24_devices: dict[str, int] = {}  # /24 → devices ever seen on it
        self._fresh: dict[tuple, int] = {}  # exact hardware → storage ids first seen with it (more than its
        # device holds: another device of the make came by and was told apart, so the make is not rare)
        self._counter = 0

    def __len__(self) -> int:
        return len(self._devices)

    # -- resolving ---------------------------------------------------------------------------

    def resolve(self, attrs: dict, *, token: str | None, ip: str | None, ts: int, customer_id: str | None = None,
                header_order: str | None = None, expected_timezone: str | None = None) -> Resolution:
        """The device of one visit (raw attributes, normalised here; DeviceError on garbage)."""
        a = normalise_attrs(attrs)
        net = ip24(ip)
        forged = mismatch = False
        dev, how, conf = None, "new", 0.9
        if token:
            d = self._devices.get(self._verify(token) or "")
            if d is None:
                forged = True
            elif contradicts(d.attrs, a):
                mismatch = True
            else:
                dev, how, conf = d, "token", 0.99
        sid = a["storage_id"]
        fresh = bool(sid) and sid not in self._storage
        if dev is None and sid and not fresh:
            d = self._devices[self._storage[sid]]
            if not contradicts(d.attrs, a):
                dev, how, conf = d, "storage", 0.97
        if dev is None:
            dev, how, conf = self._match(a, net, customer_id, header_order)
        if dev is None:
            dev = self._new(ts)
        changed = self._visit(dev, a, ts, net, customer_id, header_order)
        if fresh:
            self._fresh[dev.hw] = self._fresh.get(dev.hw, 0) + 1
        since = ts - 30 * DAY_MS
        dev.confidence = round(conf, 4)
        dev.risk = risk_signals(a, expected_timezone=expected_timezone)
        signals = dev.risk | {
            "token_forged": forged, "token_mismatch": mismatch,
            "device_customers_30d": sum(1 for t in dev.customers.values() if t > since),
        }
        return Resolution(dev.id, round(conf, 4), how, self._sign(dev.id, ts), changed, signals)

    def _match(self, a: dict, net: str | None, customer: str | None, header_order: str | None):
        """(device, how, confidence) from the attributes, or (None, "new", confidence of a new device)."""
        hw, soft = _hw(a), _soft(a)
        found: set[str] = set()
        for key in [*_blocks(a), hw]:
            members = self._index.get(key, ())
            if len(members) <= CAP:
                found.update(members)
            elif key is hw:  # a crowd of one make: only those sharing something personal
                for sub in (("s", hw, soft), ("ip", hw, net), ("cu", hw, customer)):
                    if len(self._index.get(sub, ())) <= CAP:
                        found.update(self._index.get(sub, ()))
        ranked = []
        mobile = is_mobile(a)
        private = not a["storage_id"]  # the network and a soft profile count only then (module docstring)
        weak_ok = private and net is not None and self._ip24_devices.get(net, 0) <= NAT
        for did in found:
            d = self._devices[did]
            s = score(d.attrs, a)
            if s is None:
                continue
            near = net is not None and net in d.ip24s
            s = min(1.0, s + 0.05 * near + 0.02 * (header_order is not None and header_order == d.header_order))
            if s < THRESHOLD:
                continue
            cust = customer is not None and customer in d.customers
            conflict = customer is not None and bool(d.customers) and not cust
            rare_soft = (private and not mobile and d.soft == soft and len(self._index.get(d.hw, ())) >= 8
                         and self._index.get(("s", d.hw, soft)) == {did})
            rare_hw = (d.hw == hw and self._index.get(hw) == {did} and self._fresh.get(hw, 0) <= len(d.storage)
                       and len(self._devices) >= RARE_AMONG)
            level = 4 * cust + 2 * (rare_soft or rare_hw) + (near and weak_ok and not conflict)
            ranked.append((level, s, d))
        ranked = [r for r in ranked if r[0]]
        if not ranked:
            return None, "new", 0.6 if found else 0.9
        ranked.sort(key=lambda r: (r[0], r[1]), reverse=True)
        level, s, d = ranked[0]
        if len(ranked) > 1 and ranked[1][0] == level and s - ranked[1][1] < MARGIN:
            return None, "new", 0.5
        exact = all(a[k] == d.attrs.get(k) for k in a if k not in NOT_COMPARED)
        return d, "exact" if exact else "fuzzy", s * (0.98 if level >= 4 else 0.93 if level >= 2 else 0.85)

    def _new(self, ts: int) -> _Device:
        self._counter += 1
        mac = hmac.new(self._key, f"device:{self._counter}".encode(), hashlib.sha256).hexdigest()
        d = self._devices["D" + mac[:16]] = _Device("D" + mac[:16], ts)
        return d

    def _visit(self, d: _Device, a: dict, ts: int, net: str | None, customer: str | None,
               header_order: str | None) -> tuple[str, ...]:
        """Record the visit on the device; the keys that changed."""
        changed = tuple(k for k in a if d.attrs and a[k] != d.attrs.get(k)) if d.visits else ()
        d.visits += 1
        d.first_seen, d.last_seen = min(d.first_seen, ts), max(d.last_seen, ts)
        d.attrs, d.hw, d.soft = a, _hw(a), _soft(a)
        if changed:
            d.history = [*d.history[-(HISTORY - 1):], (ts, changed)]
        if customer is not None:
            d.customers[customer] = max(ts, d.customers.get(customer, ts))
        sid = a["storage_id"]
        if sid and sid in d.storage[:-1]:  # an older storage_id again: two browsers answer to this device
            self._fresh[d.hw] = SHARED  # so its make is not rare (a look-alike was merged into it)
            d.storage = [*(s for s in d.storage if s != sid), sid]
        elif sid and self._storage.get(sid) != d.id:
            self._storage[sid] = d.id
            d.storage.append(sid)
            for old in d.storage[:-STORAGE_IDS]:
                self._storage.pop(old, None)
            d.storage = d.storage[-STORAGE_IDS:]
        if net is not None and net not in d.ip24s:
            d.ip24s = [*d.ip24s[-(IP24S - 1):], net]
            self._ip24_devices[net] = self._ip24_devices.get(net, 0) + 1
        if header_order is not None:
            d.header_order = header_order
        self._reindex(d)
        return changed

    def _keys(self, d: _Device) -> set[tuple]:
        recent = sorted(d.customers, key=d.customers.__getitem__)[-INDEXED_CUSTOMERS:]
        return {*_blocks(d.attrs), d.hw, ("s", d.hw, d.soft), *(("ip", d.hw, n) for n in d.ip24s),
                *(("cu", d.hw, c) for c in recent)}

    def _reindex(self, d: _Device) -> None:
        keys = self._keys(d)
        for k in d.keys - keys:
            members = self._index[k]
            members.discard(d.id)
            if not members:
                del self._index[k]
        for k in keys - d.keys:
            self._index.setdefault(k, set()).add(d.id)
        d.keys = keys

    # -- tokens ------------------------------------------------------------------------------

    def _mac(self, device_id: str, issued: int) -> str:
        return hmac.new(self._key, f"{device_id}.{issued}".encode(), hashlib.sha256).hexdigest()[:32]

    def _sign(self, device_id: str, issued: int) -> str:
        return f"{device_id}.{issued}.{self._mac(device_id, issued)}"

    def _verify(self, token: str) -> str | None:
        """The device id of a well-formed token with a good signature, else None."""
        parts = token.split(".") if isinstance(token, str) and len(token) <= 128 else ()
        if len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit()):
            return None
        return parts[0] if hmac.compare_digest(parts[2], self._mac(parts[0], int(parts[1]))) else None

    # -- reading -----------------------------------------------------------------------------

    def device_for_token(self, token: str | None) -> str | None:
        """The device a token this registry issued names (a forged or unknown one: None)."""
        device_id = self._verify(token) if token else None
        return device_id if device_id in self._devices else None

    def fields_for(self, device_id: str, *, ts: int, customer_id: str | None) -> dict[str, Any] | None:
        """The `device_*` fields of an event on this device (events.DEVICE_FIELDS), or None for an
        id this registry never issued. Customers on it: the last 30 days, this event's included."""
        d = self._devices.get(device_id)
        if d is None:
            return None
        since = ts - 30 * DAY_MS
        customers = {c for c, t in d.customers.items() if t > since}
        if customer_id is not None:
            customers.add(customer_id)
        risk = d.risk
        return {"device_known": True, "device_confidence": d.confidence,
                "device_automation": bool(risk.get("automation")), "device_headless": bool(risk.get("headless")),
                "device_emulated": bool(risk.get("emulator")), "device_tampered": bool(risk.get("tampered")),
                "device_tz_mismatch": bool(risk.get("timezone_mismatch")), "device_customers_30d": len(customers)}

    def customers_on(self, device_id: str, since_ts: int) -> dict[str, int]:
        """The customers seen on the device at or after `since_ts`, each with the last time."""
        d = self._devices.get(device_id)
        return {} if d is None else {c: t for c, t in d.customers.items() if t >= since_ts}

    def history(self, device_id: str) -> dict[str, Any]:
        d = self._devices.get(device_id)
        if d is None:
            return {}
        return {"device_id": d.id, "first_seen": d.first_seen, "last_seen": d.last_seen, "visits": d.visits,
                "attrs": d.attrs, "changes": [(t, list(k)) for t, k in d.history], "customers": dict(d.customers)}

    # -- checkpoint --------------------------------------------------------------------------

    def to_body(self) -> dict[str, Any]:
        """Everything the registry holds, as plain data (indexes are derived)."""
        return {"format": "tianwang.device", "version": 1, "counter": self._counter,
                "ip24_devices": dict(self._ip24_devices),
                "fresh": [[list(k[1:]), n] for k, n in self._fresh.items()],
                "devices": [{"id": d.id, "first_seen": d.first_seen, "last_seen": d.last_seen, "visits": d.visits,
                             "attrs": d.attrs, "history": [[t, list(k)] for t, k in d.history],
                             "customers": dict(d.customers), "storage": list(d.storage), "ip24s": list(d.ip24s),
                             "header_order": d.header_order} for d in self._devices.values()]}

    @classmethod
    def from_body(cls, body: dict[str, Any], key: bytes) -> DeviceRegistry:
        reg = cls(key)
        reg._counter = body["counter"]
        reg._ip24_devices = dict(body["ip24_devices"])
        reg._fresh = {("hw", *k): n for k, n in body["fresh"]}
        for row in body["devices"]:
            d = reg._devices[row["id"]] = _Device(row["id"], row["first_seen"])
            d.last_seen, d.visits, d.attrs = row["last_seen"], row["visits"], row["attrs"]
            d.history = [(t, tuple(k)) for t, k in row["history"]]
            d.customers, d.storage, d.ip24s = dict(row["customers"]), list(row["storage"]), list(row["ip24s"])
            d.header_order, d.hw, d.soft = row["header_order"], _hw(d.attrs), _soft(d.attrs)
            d.risk = risk_signals(d.attrs)
            reg._storage.update((s, d.id) for s in d.storage)
            reg._reindex(d)
        return reg
