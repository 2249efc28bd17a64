"""The network's settings in one place: the link window, the kinds of entity, hub limits, the ring rule.

Every number here was chosen by measurement on the simulator (bench/network.py and
tests/network/test_quality.py say how); each is a field of `NetworkConfig`, so a tenant or a
test can change one without touching the code.

Kinds are **strong** or **weak**. A strong link (device, phone — its own or listed as a contact —,
id number, bank card — bound or paid to —, email) is something people do not share by chance:
customers linked by strong links are joined into components. A weak link (ip, ip /24, GPS cell,
employer, address) is shared by honest crowds every day: it never joins anything, but it counts
in the degree measures, in a ring's risk and as a light weight when a large component is split.

A **hub** is an entity linking more live customers than its kind's limit (a campus NAT IP, a
big employer, a busy GPS cell, a call-centre number listed as a contact by hundreds). A hub
joins nothing and weighs nothing: honest crowds do not merge. Its degree is still reported
(`net_<kind>_degree`), because "60 customers on one device" is itself a signal a rule can use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# kind → (code, strong). The code is the kind's number in the graph's arrays.
KINDS: dict[str, tuple[int, bool]] = {
    "device": (0, True),
    "phone": (1, True),
    "id_number": (2, True),
    "card": (3, True),
    "email": (4, True),
    "ip": (5, False),
    "ip24": (6, False),
    "gps_cell": (7, False),
    "employer": (8, False),
    "address": (9, False),
}
KIND_NAMES: tuple[str, ...] = tuple(sorted(KINDS, key=lambda k: KINDS[k][0]))
STRONG: tuple[bool, ...] = tuple(KINDS[k][1] for k in KIND_NAMES)

# Live distinct customers above which an entity is a hub. Strong limits sit well above the
# largest honest sharing seen (a family of 3 on one phone) and above a simulated farm (25
# members on 1–4 emulators, a pool of 3 contact numbers: ≤ 20 per entity); weak limits above
# what a household or a small office shares by chance (a home IP: ≤ 5 by collision).
DEFAULT_HUB_LIMITS: dict[str, int] = {
    "device": 50,
    "phone": 50,
    "id_number": 10,
    "card": 30,
    "email": 10,
    "ip": 30,
    "ip24": 200,
    "gps_cell": 200,
    "employer": 200,
    "address": 20,
}

# Weight of one shared entity in the customer graph that Leiden splits (divided by the
# entity's members − 1, so a shared entity gives each member the same total tie).
DEFAULT_WEIGHTS: dict[str, float] = {
    "device": 1.0, "phone": 1.0, "id_number": 1.0, "card": 1.0, "email": 1.0,
    "ip": 0.3, "ip24": 0.1, "gps_cell": 0.1, "employer": 0.05, "address": 0.2,
}

DAY_MS = 86_400_000


@dataclass(frozen=True)
class NetworkConfig:
    """The network's knobs (see the module docstring for what each kind of knob means)."""

    window_ms: int = 30 * DAY_MS
    """A link counts while its last sighting is within this much of the graph clock."""
    hub_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_HUB_LIMITS))
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    ring_min_members: int = 4
    """A ring is a group of at least this many customers held together by double ties (two
    shared strong entities, or one and a non-hub place), with one strong entity shared by
    `ring_min_shared` of them or at least `ring_min_any` members (rings.py). Measured on the
    simulator: a family is 2-3 people on one phone; at 1,000,000 customers, random id-number
    and phone-number collisions join families to each other and to strangers by one entity
    (a household of 3 + a stranger on the father's number is 4 on one phone) — 20 honest
    customers in rings with single ties counting, none with double ties; the smallest real
    rings (an intermediary's 4 applicants on the agent's phone, listing the agent's number)
    are double-tied and share the device by 4."""
    ring_min_shared: int = 4
    ring_min_any: int = 6
    split_min: int = 8
    """Components of at least this many customers are split by Leiden; smaller ones are one
    community (nothing in 7 people needs splitting: the ring rule decides)."""
    split_quality: float = 0.35
    """Leiden's split is kept when its modularity reaches this: single simulated rings reach at
    most 0.27 (their sub-teams on different emulators), two rings joined by one link 0.40+."""
    split_sync_max: int = 200
    """A component up to this size is re-split in the event that changed it (≤ ~4 ms); a larger
    one at its first change after `split_every_ms` since its last split, its rings keeping
    their members in between (a 1,000-customer split costs ~35 ms: not on every event)."""
    split_every_ms: int = 600_000
    hop_limit: int = 4
    """`net_hops_to_blacklisted` looks this many customer hops away at most."""
    watermark_events: int = 256
    """The graph clock is the least ts of the last this many events: a few future-dated
    events cannot make every link fade (fading lags by at most this many events)."""
    timeline_max: int = 200
    """Timeline entries kept per ring (the first ones and the latest ones)."""
    seed: int = 42
    """Leiden's seed: the same records give the same rings."""

    def __post_init__(self) -> None:
        unknown = (set(self.hub_limits) | set(self.weights)) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown entity kinds: {sorted(unknown)}")
        if self.window_ms <= 0 or self.ring_min_members < 2:
            raise ValueError("window_ms must be positive and ring_min_members at least 2")

    def limits(self) -> tuple[int, ...]:
        """Hub limits by kind code."""
        return tuple(self.hub_limits.get(k, DEFAULT_HUB_LIMITS[k]) for k in KIND_NAMES)

    def weight_of(self) -> tuple[float, ...]:
        return tuple(self.weights.get(k, DEFAULT_WEIGHTS[k]) for k in KIND_NAMES)
