"""The network on a simulated lender: ring quality, time to ring measures, memory, against a full Leiden.

    .venv/bin/python bench/network.py [--customers 1000000] [--days 3] [--seed 1] [--volume 1]
                                      [--window-days 30] [--cache /tmp/tianwang-bench-network]

1. Simulate (`tianwang.sim`), validate and normalise every event once, and cache the records
   with their ground truth (ring_id, group) — the truth never reaches the network.
2. In a fresh process (so its peak memory is the network's, not the simulator's): stream the
   records through `Network.link`, one call per event, timing each call — the time from an
   event to its ring measures, everything included (fading, links, components, Leiden
   splits, ring ids, measures). The garbage collector is tuned as the server tunes it.
3. The baseline, in the same process on the same final graph: one full Leiden recompute
   (igraph's, modularity, the same kind weights, seeded) of (a) every live non-hub link, customers and
   entities — what a nightly batch would run — and (b) the strong non-hub links only. A full
   recompute per event is the alternative the incremental way must beat; its ring quality
   (communities of 4 or more customers) is shown beside ours.
4. Quality: pairwise precision / recall of the rings at the end against the true `ring_id`
   (network/quality.py), hard-normal customers (campus, family, big employer) in any ring,
   and the share of ring members' applications that already saw their ring (real time).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from array import array
from collections import Counter
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tianwang.events import Hasher, normalise, parse_event  # noqa: E402
from tianwang.network import Network, NetworkConfig, poison_hashes  # noqa: E402
from tianwang.network.config import DAY_MS  # noqa: E402
from tianwang.network.quality import pairwise  # noqa: E402

KEY = b"bench-network"
HARD = ("campus", "family", "big_employer")


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def generate(path: Path, customers: int, days: int, seed: int, volume: float) -> None:
    """Simulate, normalise and write [record, ring_id, group] per line."""
    from zoneinfo import ZoneInfo

    from tianwang.sim.run import simulate

    hasher, tz = Hasher(KEY), ZoneInfo("Asia/Shanghai")
    tmp = path.with_suffix(".tmp")
    began, n = time.perf_counter(), 0
    with open(tmp, "wb", buffering=1 << 20) as f:
        for ev in simulate(customers, days, seed, volume=volume):
            ring, group = ev.pop("ring_id", None), ev.pop("group", None)
            for k in ("label", "attack_id", "forged"):
                ev.pop(k, None)
            rec = normalise(parse_event(ev), hasher=hasher, tz=tz)
            f.write(orjson.dumps([rec, ring, group]) + b"\n")
            n += 1
            if not n % 200_000:
                print(f"  simulated {n:,} events ({n / (time.perf_counter() - began):,.0f}/s)", file=sys.stderr, flush=True)
    tmp.rename(path)
    print(f"  simulated {n:,} events in {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)


def pct(values: array, q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def full_leiden(net: Network, strong_only: bool, seed: int) -> tuple[float, float, dict[int, int]]:
    """(seconds to build the graph, seconds of Leiden, customer → community) on the whole live graph."""
    import random

    import igraph

    g = net.graph
    weight_of = net.config.weight_of()
    t0 = time.perf_counter()
    n_cust = len(g.cust_ids)
    edges: list[tuple[int, int]] = []
    weights: list[float] = []
    node_of: dict[int, int] = {}
    for e, m in enumerate(g.members):
        if m is None or m.__class__ is int:
            continue  # an entity of one customer ties no one
        kind = g.ent_kind[e]
        if len(m) > g.limits[kind] or (strong_only and not g.strong[kind]):
            continue
        v = node_of[e] = n_cust + len(node_of)
        w = weight_of[kind]
        for c in m:
            edges.append((c, v))
            weights.append(w)
    graph = igraph.Graph(n=n_cust + len(node_of), edges=edges)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    igraph.set_random_number_generator(random.Random(seed))
    part = graph.community_leiden(objective_function="modularity", weights=weights, n_iterations=2)
    igraph.set_random_number_generator(random)
    ran = time.perf_counter() - t0
    membership = part.membership
    return built, ran, {c: membership[c] for c in range(n_cust)}


class GcClock:
    """Time spent in each generation's collections, and whether one ran since `reset`."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.total = [0.0, 0.0, 0.0]
        self.worst = [0.0, 0.0, 0.0]
        self.ran = False
        self._t = 0.0
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
            return
        d, gen = time.perf_counter() - self._t, info["generation"]
        self.count[gen] += 1
        self.total[gen] += d
        self.worst[gen] = max(self.worst[gen], d)
        self.ran = True


def worker(path: Path, window_days: int, out: Path) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)  # as the server runs (app/boot.py `tune_gc`)
    rss0 = current_rss_mib()
    net = Network(NetworkConfig(window_ms=window_days * DAY_MS), poison=poison_hashes(Hasher(KEY)))
    truth: dict[str, str] = {}
    groups: dict[str, str] = {}
    lat = array("q")
    applies = caught = 0
    slow = slow_gc = 0
    gcc = GcClock()
    link = net.link
    clock = time.perf_counter_ns
    began = time.perf_counter()
    with open(path, "rb") as f:
        for line in f:
            rec, ring, group = orjson.loads(line)
            gcc.ran = False
            t = clock()
            m = link(rec)
            d = clock() - t
            lat.append(d)
            if d > 1_000_000:
                slow += 1
                slow_gc += gcc.ran
            if ring is not None:
                truth[rec["customer_id"]] = ring
                if rec["scene"] == "apply":
                    applies += 1
                    caught += m["ring_size"] > 0
            elif group is not None:
                groups[rec["customer_id"]] = group
    wall = time.perf_counter() - began
    linked = sum(lat) / 1e9
    rss_graph = current_rss_mib()
    predicted = {c: r for r, ms in net.ring_members().items() for c in ms}
    ours = pairwise(predicted, truth)
    hard = Counter(groups[c] for c in predicted if groups.get(c) in HARD)
    hard_total = Counter(g for g in groups.values() if g in HARD)
    result = {
        "events": len(lat), "stats": net.stats(), "wall_s": wall, "link_s": linked,
        "p50_us": pct(lat, 0.5) / 1e3, "p99_us": pct(lat, 0.99) / 1e3, "p999_us": pct(lat, 0.999) / 1e3,
        "max_ms": max(lat) / 1e6, "rss_before_mib": rss0, "rss_after_mib": rss_graph,
        "quality": ours, "hard_in_rings": dict(hard), "hard_total": dict(hard_total),
        "ring_applies": applies, "ring_applies_caught": caught, "true_rings": len(set(truth.values())),
        "slow_1ms": slow, "slow_1ms_gc": slow_gc,
        "gc": {"count": gcc.count, "total_s": gcc.total, "worst_ms": [w * 1e3 for w in gcc.worst]},
    }
    gc.callbacks.remove(gcc)
    del lat
    gc.unfreeze()
    gc.collect()
    for name, strong in (("full_all", False), ("full_strong", True)):
        built, ran, membership = full_leiden(net, strong, net.config.seed)
        sizes = Counter(membership.values())
        ids = net.graph.cust_ids
        pred = {ids[c]: k for c, k in membership.items() if sizes[k] >= net.config.ring_min_members}
        result[name] = {"build_s": built, "leiden_s": ran, "communities_4plus": sum(1 for n in sizes.values() if n >= 4),
                        "quality": pairwise(pred, truth),
                        "hard_in_rings": sum(1 for c in pred if groups.get(c) in HARD)}
    result["peak_rss_mib"] = rss_mib()
    out.write_text(json.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--volume", type=float, default=1.0)
    ap.add_argument("--window-days", type=int, default=30)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/tianwang-bench-network"))
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.window_days, args.out)
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    path = args.cache / f"records-{args.customers}x{args.days}-s{args.seed}-v{args.volume:g}.jsonl"
    if not path.exists():
        print(f"simulating {args.customers:,} customers x {args.days} days (cached at {path})", file=sys.stderr)
        generate(path, args.customers, args.days, args.seed, args.volume)
    out = args.cache / "result.json"
    subprocess.run([sys.executable, __file__, "--worker", str(path), "--window-days", str(args.window_days),
                    "--out", str(out)], check=True)
    r = json.loads(out.read_text())
    s = r["stats"]
    print(f"\n{args.customers:,} customers x {args.days} days (seed {args.seed}, attacks x{args.volume:g}), "
          f"window {args.window_days} d: {r['events']:,} events -> {s['customers']:,} customers, "
          f"{s['entities']:,} entities, {s['links']:,} live links, {s['components']:,} components, "
          f"{s['rings']:,} rings")
    print(f"\n{'network.link(record): event -> ring measures':46} {'value':>14}")
    print(f"{'p50':46} {r['p50_us']:>11.1f} us")
    print(f"{'p99':46} {r['p99_us']:>11.1f} us")
    print(f"{'p99.9':46} {r['p999_us']:>11.1f} us")
    print(f"{'max':46} {r['max_ms']:>11.1f} ms")
    print(f"{'events over 1 ms / of them during a GC pass':46} {r['slow_1ms']:>7,} / {r['slow_1ms_gc']:,}")
    gcs = r["gc"]
    print(f"{'GC passes gen 0/1/2 (worst ms)':46} " + ", ".join(
        f"{n:,} ({w:.0f})" for n, w in zip(gcs["count"], gcs["worst_ms"])))
    print(f"{'graph updates per second (link time only)':46} {r['events'] / r['link_s']:>14,.0f}")
    print(f"{'events per second (with reading the records)':46} {r['events'] / r['wall_s']:>14,.0f}")
    print(f"{'memory: process before the graph':46} {r['rss_before_mib']:>10,.0f} MiB")
    print(f"{'memory: process with the graph':46} {r['rss_after_mib']:>10,.0f} MiB")
    print(f"{'memory: peak (incl. the baseline below)':46} {r['peak_rss_mib']:>10,.0f} MiB")
    q = r["quality"]
    print(f"\n{'rings':34} {'precision':>9} {'recall':>7} {'pairs':>8} {'hard-normal in rings':>21} {'time':>14}")
    hard = sum(r["hard_in_rings"].values())
    print(f"{'incremental (this, every event)':34} {q['precision']:>9.4f} {q['recall']:>7.4f} {q['predicted_pairs']:>8,} "
          f"{hard:>21,} {r['link_s'] / r['events'] * 1e6:>11.1f} us")
    for name, label in (("full_all", "full Leiden, all non-hub links"), ("full_strong", "full Leiden, strong links")):
        b = r[name]
        print(f"{label:34} {b['quality']['precision']:>9.4f} {b['quality']['recall']:>7.4f} "
              f"{b['quality']['predicted_pairs']:>8,} {b['hard_in_rings']:>21,} "
              f"{b['build_s'] + b['leiden_s']:>12.1f} s")
    full = r["full_all"]["build_s"] + r["full_all"]["leiden_s"]
    print(f"\nfull recompute (all links) / incremental p99: {full / (r['p99_us'] / 1e6):,.0f}x "
          f"(graph build {r['full_all']['build_s']:.1f} s + Leiden {r['full_all']['leiden_s']:.1f} s)")
    print(f"true rings {r['true_rings']}, pairs {q['true_pairs']:,}; hard-normal customers seen "
          f"{r['hard_total']}, in rings {r['hard_in_rings'] or 0}")
    print(f"ring members' applications that already saw their ring: {r['ring_applies_caught']:,} of "
          f"{r['ring_applies']:,} ({r['ring_applies_caught'] / max(1, r['ring_applies']):.0%})")


if __name__ == "__main__":
    main()
