"""Events and records for the network tests: each customer gets its own device, IP, phone, id,
GPS point; a keyword overrides one field (None removes it)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from tianwang.events import Hasher, normalise, parse_event
from tianwang.network import Network, NetworkConfig, poison_hashes
from tianwang.sim.ids import card_number, id_number
from tianwang.sim.run import simulate

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
DAY = 24 * 60
HASHER = Hasher(b"network-tests")
POISON = poison_hashes(HASHER)
TZ = ZoneInfo("Asia/Shanghai")
_ids = itertools.count()


def event(cid: str, minute: int = 0, scene: str = "login", **fields) -> dict:
    rng = random.Random(cid)
    ev = {
        "event_id": f"e{next(_ids)}",
        "scene": scene,
        "occurred_at": (BASE + timedelta(minutes=minute)).isoformat(),
        "customer_id": cid,
        "device_id": f"dev-{cid}",
        "ip": f"{rng.randint(36, 99)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "phone": f"13{rng.randint(5, 9)}{rng.randint(10_000_000, 98_765_432)}",
        "id_number": id_number(rng, birth_year=rng.randint(1970, 2000)),
        "gps": {"lat": round(25 + rng.random() * 15, 5), "lon": round(100 + rng.random() * 20, 5)},
    }
    if scene in ("apply", "drawdown"):
        ev["amount"] = 1_000_000
    if scene == "bind_card":
        ev["card_no"] = card_number(rng)
    ev.update(fields)
    return {k: v for k, v in ev.items() if v is not None}


def record(raw: dict) -> dict:
    return normalise(parse_event(raw), hasher=HASHER, tz=TZ)


def network(**config) -> Network:
    """A network whose clock is the latest event (watermark of one) unless told otherwise."""
    config.setdefault("watermark_events", 1)
    return Network(NetworkConfig(**config), poison=POISON)


def feed(net: Network, *raws: dict) -> dict:
    """Link each event; return the measures of the last."""
    out = {}
    for raw in raws:
        out = net.link(record(raw))
    return out


def sim_records(customers: int, days: int, seed: int, volume: float = 1.0) -> Iterator[tuple[dict, dict]]:
    """(record, ground truth) of each simulated event; the truth never reaches the record."""
    for ev in simulate(customers, days, seed, volume=volume):
        truth = {"ring_id": ev.pop("ring_id", None), "group": ev.pop("group", None), "label": ev.pop("label")}
        ev.pop("attack_id", None)
        ev.pop("forged", None)
        yield record(ev), truth
