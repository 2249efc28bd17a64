"""Resolving a beacon's device: its raw attributes (or its token alone) to a stable device id.

`resolve` runs under the live state's lock, with the write of its sighting next in the writer's
queue, so the sightings are stored in the order they were resolved — the order a restart
replays them in (live/restore.py), which gives the same ids. In server mode the sighting goes
to every replica through the change log (operation `device`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tianwang.store import devices as device_repo
from tianwang.store.writer import Effect

if TYPE_CHECKING:
    from tianwang.live.memory import Live


def resolve(*, live: Live, tenant: str, attrs: dict, token: str | None, ip: str | None, ts: int,
            customer_id: str | None, header_order: str | None) -> tuple[dict[str, Any], Effect]:
    """The answer for the SDK (device id, a new signed token, confidence, how it matched) and the
    effect that stores the sighting."""
    with live.locked():
        res = live.sighting(tenant, attrs, token, ip, ts, customer_id, header_order)
        live.changes.note(tenant, "device", attrs, token, ip, ts, customer_id, header_order)
    row = {"tenant": tenant, "ts": ts, "attrs": attrs, "token": token, "ip": ip, "customer_id": customer_id,
           "header_order": header_order, "device_id": res.device_id}
    answer = {"device_id": res.device_id, "token": res.token, "confidence": res.confidence, "how": res.how}
    return answer, (lambda conn: device_repo.add_sighting(conn, row))


def of_token(*, live: Live, tenant: str, token: str | None) -> dict[str, Any] | None:
    """The device a valid token names (no attributes sent), or None."""
    with live.locked():
        device_id = live.devices(tenant).device_for_token(token)
    return None if device_id is None else {"device_id": device_id, "token": token, "confidence": None, "how": "token"}
