"""Turning a person at a moment into an event dict, and picking the moments.

`event` builds the raw JSON a lending system would send (the person's device, IP, phone,
identity, GPS and city, overridable per call) plus the ground truth: `label` (`normal` or
the attack type), `group` for hard-normal customers on their honest events, `ring_id` for
rings. `event_id` and `occurred_at` are left as None for `sim.run`, which stamps them in
output order. `moment` draws a time of day around a person's daily rhythm.
"""

from __future__ import annotations

import random

from tianwang.sim.population import CITIES, Customer, World, jitter

MOBILE_NET = ("117.136", "223.104", "112.97", "39.144")  # carrier NAT ranges


def where(c: Customer, world: World, rng: random.Random, hour: int, weekday: int) -> tuple[str, float, float, int]:
    """(ip, lat, lon, city) of `c` at this hour: travelling, at the office, on mobile data or home."""
    if c.away is not None:
        city = c.away
        return (world.home_ip(rng, city), jitter(rng, CITIES[city][2], 0.05), jitter(rng, CITIES[city][3], 0.05), city)
    if c.work is not None and weekday < 5 and 9 <= hour < 18:
        city, ips, lat, lon = c.work
        return rng.choice(ips), jitter(rng, lat, 0.002), jitter(rng, lon, 0.002), city
    if rng.random() < 0.15 and c.group != "campus":
        ip = f"{rng.choice(MOBILE_NET)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        return ip, jitter(rng, c.lat, 0.02), jitter(rng, c.lon, 0.02), c.home
    return c.ip, jitter(rng, c.lat, 0.002), jitter(rng, c.lon, 0.002), c.home


def event(c: Customer, scene: str, at: tuple[str, float, float, int], label: str = "normal", **fields) -> dict:
    ip, lat, lon, city = at
    ev = {
        "event_id": None,
        "scene": scene,
        "occurred_at": None,
        "customer_id": c.cid,
        "device_id": c.device,
        "ip": ip,
        "phone": c.phone,
        "id_number": c.id_number,
        "gps": {"lat": lat, "lon": lon},
        "city": CITIES[city][0],
        "channel": "app",
        "os": c.os,
        "app_version": c.app,
        "label": label,
    }
    if scene in ("register", "apply", "bind_card", "drawdown"):  # the account holder's name
        ev["name"] = c.name
    if label == "normal" and c.group is not None:
        ev["group"] = c.group
    ev.update(fields)
    return ev


def moment(c: Customer, rng: random.Random) -> int:
    """Seconds after midnight: around the person's peak hour, mostly awake hours."""
    h = rng.gauss(c.peak, 2.0)
    if c.peak >= 6:
        h = min(max(h, 7.0), 23.9)
    else:
        h = min(max(h, 0.0), 4.0)
    return int(h * 3600) + rng.randrange(60)


def round_yuan(fen: int, step_yuan: int = 100) -> int:
    """A fen amount rounded down to a whole number of `step_yuan` yuan (at least one step)."""
    step = step_yuan * 100
    return max(step, fen // step * step)


def odd_fen(rng: random.Random, lo_yuan: int, hi_yuan: int) -> int:
    """A shop-like amount: yuan and fen, never round."""
    return rng.randint(lo_yuan, hi_yuan) * 100 + rng.randint(1, 99)
