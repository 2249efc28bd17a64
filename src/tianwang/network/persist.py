"""The network's checkpoint: everything `Network` holds, as plain data in the state checkpoint file.

The file is state/checkpoint.py's (magic, format version, CRC-32, atomic rename and fsync);
the body is a dict of lists, ints, strings and bytes tagged `format: tianwang.network` with
its own `version`, so neither a window-state checkpoint nor an older layout is mistaken for
this one (StateError: rebuild from the log). What can be derived is not stored: entity
members come back from the links, the rings' index from their members.

`body(net)` is also the canonical form of a network: two networks with equal bodies hold the
same links, components, rings (ids, members, timelines) and marks — the rebuilt-equals-live test
compares exactly this. A rebuild from the records is live/restore.py's `relink`.
"""

from __future__ import annotations

from array import array
from dataclasses import asdict
from pathlib import Path
from collections.abc import Iterable
from typing import Any

from tianwang.network.config import NetworkConfig
from tianwang.network.flags import BLACKLISTED
from tianwang.network.live import Network
from tianwang.network.rings import Ring
from tianwang.state import checkpoint
from tianwang.state.base import StateError, Watermark

FORMAT = "tianwang.network"
VERSION = 1


def body(net: Network) -> dict[str, Any]:
    """The network as plain data (see the module docstring)."""
    g, comps, rings = net.graph, net.components, net.rings
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": asdict(net.config),
        "customers": list(g.cust_ids),
        "links": [None if d is None else [x for item in d.items() for x in item] for d in g.edges],
        "entity_kinds": bytes(g.ent_kind),
        "entity_values": list(g.ent_value),
        "free": list(g.free),
        "buckets": [(m, b.tobytes()) for m, b in g.buckets.items()],
        "swept": g.swept,
        "clock": (g.clock.span, g.clock.count, list(g.clock.recent)),
        "now_min": g.now_min,
        "comp_of": list(comps.comp_of),
        "next_comp": comps.next_id,
        "rings": [(r.id, r.first_seen, r.changed_at, sorted(r.members), sorted(r.joined.items()), list(r.timeline))
                  for r in sorted(rings.rings.values(), key=lambda r: r.id)],
        "next_ring": rings.next_id,
        "retired": sorted(rings.retired.items()),
        "split_at": sorted(rings.split_at.items()),
        "flags": bytes(net.flags),
        "last_apply": sorted(net.last_apply.items()),
        "last_ts": net.last_ts,
        "events": net.events,
    }


def save(net: Network, path: str | Path) -> None:
    """Write `net` to a checkpoint file at `path` (atomically)."""
    checkpoint.write(path, body(net))


def load(path: str | Path, *, poison: Iterable[str] = ()) -> Network:
    """The network in the checkpoint at `path`; StateError when it is not a readable one."""
    data = checkpoint.read(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateError(f"{path} is not a network checkpoint; rebuild from the log")
    if data.get("version") != VERSION:
        raise StateError(f"network checkpoint {path} has layout {data.get('version')}; this build reads {VERSION}")
    return from_body(data, poison=poison)


def from_body(data: dict[str, Any], *, poison: Iterable[str] = ()) -> Network:
    """The network a body (see `body`) describes."""
    net = Network(NetworkConfig(**data["config"]), poison=poison)
    g, comps, rings = net.graph, net.components, net.rings
    g.cust_ids = list(data["customers"])
    g.cust_index = {cid: i for i, cid in enumerate(g.cust_ids)}
    g.ent_kind = bytearray(data["entity_kinds"])
    g.ent_value = list(data["entity_values"])
    g.members = [None] * len(g.ent_value)
    for kind, value, e in zip(g.ent_kind, g.ent_value, range(len(g.ent_value))):
        if value is not None:
            g.ent_index[kind][value] = e
    g.free = list(data["free"])
    members = g.members
    g.edges = []
    count = 0
    for c, flat in enumerate(data["links"]):
        if flat is None:
            g.edges.append(None)
            continue
        d = dict(zip(flat[::2], flat[1::2]))
        g.edges.append(d)
        count += len(d)
        for e in d:
            m = members[e]
            if m is None:
                members[e] = c
            elif m.__class__ is int:
                members[e] = {m, c}
            else:
                m.add(c)
    g.link_count = count
    g.buckets = {}
    for m, raw in data["buckets"]:
        b = array("Q")
        b.frombytes(raw)
        g.buckets[m] = b
    g.swept = data["swept"]
    span, n, recent = data["clock"]
    g.clock = Watermark(span, n, [tuple(x) for x in recent])
    g.now_min = data["now_min"]
    comps.comp_of = list(data["comp_of"])
    for c, k in enumerate(comps.comp_of):
        if k >= 0:
            comps.comps.setdefault(k, set()).add(c)
    comps.next_id = data["next_comp"]
    for rid, first, changed, ms, joined, timeline in data["rings"]:
        ring = Ring(rid, first)
        ring.changed_at = changed
        ring.members = set(ms)
        ring.joined = dict(joined)
        ring.timeline = [tuple(t) for t in timeline]
        rings.rings[rid] = ring
        for c in ms:
            rings.ring_of[c] = rid
    rings.next_id = data["next_ring"]
    rings.retired = {k: tuple(v) for k, v in data["retired"]}
    rings.split_at = dict(data["split_at"])
    net.flags = bytearray(data["flags"])
    net.blacklisted = {c for c, bits in enumerate(net.flags) if bits & BLACKLISTED}
    net.last_apply = dict(data["last_apply"])
    net.last_ts = data["last_ts"]
    net.events = data["events"]
    return net
