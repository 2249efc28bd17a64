"""Taking a beacon: resolve the device, name the captured events, walk each as a `behavior` event.

`collect(p, tenant, raw, ip=…)` (`p`: the walk's parts):
1. `parse_beacon` checks the batch (collect/beacon.py): refused whole, or taken whole;
2. the device: its raw attributes (when the beacon carries them) and token are resolved to a
   stable `device_id` by the tenant's `DeviceRegistry` (device/); the sighting is stored, so a
   restart resolves the same way again;
3. each captured event is matched against the live bundle's collection rules (the first
   match names it: `virtual`) and walked as a `behavior` event (`ingest/walk.accept`) with the
   device id: validated, stored, counted in the windows and decided like any event. Its id
   `<batch_id>.<n>` makes a replayed batch a repeat, answered and counted once.

The answer gives the device id and a new signed token back to the SDK.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tianwang.collect.beacon import Beacon, BeaconError, parse_beacon, path_of, to_event
from tianwang.collect import tokens
from tianwang.collect.rules import first_match
from tianwang.device import service as devices
from tianwang.errors import Conflict
from tianwang.ingest.walk import accept

if TYPE_CHECKING:
    from tianwang.ingest.walk import Parts
    from tianwang.tenants.service import Tenant


def collect(p: Parts, tenant: Tenant, raw: Any, *, ip: str | None, header_order: str | None = None,
            customer_key: bytes = b"", trusted: bool = False) -> dict[str, Any]:
    """Take one beacon (see the module docstring); BeaconError when it is refused whole.

    Its `customer_id` counts only when `trusted` (the request carried the tenant's API key) or
    with a customer token signed by `customer_key` (collect/tokens.py); otherwise the events are
    the device's and the session's alone, and the answer says `customer: "unverified"`."""
    beacon = parse_beacon(raw)
    now = int(time.time() * 1000)
    customer = None
    if beacon.customer_id is not None:
        if trusted or tokens.verify(customer_key, beacon.customer_token, tenant=tenant.id,
                                    customer_id=beacon.customer_id, now_ms=now):
            customer = "verified"
        else:
            customer = "unverified"
            beacon = replace(beacon, customer_id=None)
    bundle, _ = p.policies.bundle(tenant.id)
    pending, duplicates, conflicts = [], 0, 0

    def walk(body: dict, effects: tuple = ()) -> bool:
        """Walk one event; whether it was stored anew (and so carried `effects`)."""
        nonlocal conflicts
        try:
            accepted = accept(p, tenant, body, effects=effects, clock=False)  # a beacon never moves the hold clock
        except Conflict:
            conflicts += 1
            return False
        pending.append(accepted)
        return not accepted.decision.get("duplicate")

    # The device is resolved and the beacon's first event walked under one hold of the lock:
    # the sighting commits with that event, in the order it was resolved (device/service.py).
    with p.live.locked():
        device, sighting = resolve_device(p, tenant.id, beacon, ip=ip, header_order=header_order, now=now)
        device_id = device["device_id"] if device else None
        bodies = []
        for n, event in enumerate(beacon.events):
            path = path_of(event)
            virtual = first_match(bundle.collect_rules, event["type"], event.get("url"), path)
            bodies.append(to_event(beacon, n, event, device_id=device_id, ip=ip, now_ms=now, virtual=virtual, path=path))
        carried = bool(bodies) and walk(bodies[0], (sighting,) if sighting else ())
        if sighting is not None and not carried and not p.live.scratch:  # no new event to carry it
            with p.live.db.begin() as conn:
                sighting(conn)
    for body in bodies[1:]:
        walk(body)
    for accepted in pending:
        decision = accepted.wait()
        duplicates += bool(decision.get("duplicate"))
    p.metrics.collected(len(pending) - duplicates, duplicates, beacon.skipped + conflicts)
    return {
        **(device or {"device_id": None, "token": None, "confidence": None}),
        "accepted": len(pending) - duplicates,
        "duplicates": duplicates,
        "skipped": beacon.skipped + conflicts,
        "customer": customer,
    }


def resolve_device(p: Parts, tenant: str, beacon: Beacon, *, ip: str | None, header_order: str | None,
                   now: int) -> tuple[dict[str, Any] | None, Any]:
    """The beacon's device (resolved from its attributes and token, or known by its token alone)
    and the effect storing its sighting (None when nothing was resolved)."""
    from tianwang.device.attrs import DeviceError, normalise_attrs

    if beacon.attrs is None:
        return (devices.of_token(live=p.live, tenant=tenant, token=beacon.token) if beacon.token else None), None
    try:
        attrs = normalise_attrs(beacon.attrs)
    except DeviceError as exc:
        raise BeaconError("invalid_device", f"device.attrs: {exc}") from None
    return devices.resolve(live=p.live, tenant=tenant, attrs=attrs, token=beacon.token, ip=ip, ts=now,
                           customer_id=beacon.customer_id, header_order=header_order)
