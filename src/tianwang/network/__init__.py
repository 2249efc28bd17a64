"""The complex network: link graph, incremental ring detection, ring measures (issue 4).

One `Network` per tenant. The walk calls `link(record)` on every normalised event and gets
the `ring_*` / `net_*` measures of its customer back (measures.MEASURES documents each);
decisions and investigations feed back through `mark`, `mark_blacklisted`, `mark_fraud`.

    config.py       kinds (strong / weak), hub limits, window, the ring rule — all measured
    (tianwang.garbage: values that never link — placeholders, junk, non-routable IPs — in clear and hashed)
    entities.py     a record's linking entities, kinds and roles
    graph.py        customers ↔ entities, fading links, hubs, the clock
    components.py   components over strong non-hub links, incremental, local recompute on splits
    communities.py  Leiden split of large components
    rings.py        which communities are rings; stable ids, timelines
    flags.py        the customer flag bits (rejected, blacklisted, fraud) a Network holds
    measures.py     the measures and a ring's risk
    views.py        neighbourhood, ring detail, rings by risk (JSON-ready)
    persist.py      checkpoint save / load, relink (rebuild from records); the canonical body
    quality.py      pairwise precision / recall against ground truth
    live.py         `Network`: the above, one call per event
"""

from tianwang.network.config import KINDS, NetworkConfig
from tianwang.network.entities import linking_entities
from tianwang.garbage import is_garbage, poison_hashes
from tianwang.network.live import Network
from tianwang.network.measures import MEASURES

__all__ = ["KINDS", "MEASURES", "Network", "NetworkConfig", "is_garbage", "linking_entities", "poison_hashes"]
