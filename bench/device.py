"""Device resolution on simulated visits: re-identification and false merges, against two baselines.

    .venv/bin/python bench/device.py [--devices 20000] [--weeks 6] [--seed 1] [--lookalikes 0.6]

The same visits (`tianwang.sim.devices`, one seed) go through each resolver in turn, each
handing its own tokens back to the simulated SDKs:
- `server`: `DeviceRegistry.resolve` (token, storage_id, blocked fuzzy matching), with the
  visit's customer_id when logged in, and again without customer ids;
- `client id`: the storage_id / token only (the open-source client-side ID approach): a visit
  with neither is a new device;
- `exact hash`: a hash of every attribute but storage_id.

Definitions, per resolver. A device_id belongs to the true device of the visit that first got it.
- re-identified: of the visits of a true device seen before, the share that got a device_id
  this true device had already been given (a visit given a fresh id, or one it never had, is not);
- false-merge visits: the share of all visits given a device_id that belongs to another true device;
- merged devices: the share of true devices with at least one such visit;
- ids per device: distinct device_ids given to a true device, on average;
- resolutions per second: visits over the time spent in the resolver alone.
Target: re-identified >= 99% with false-merge visits < 0.1%.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tianwang.device import DeviceRegistry  # noqa: E402
from tianwang.sim.devices import simulate_visits  # noqa: E402

KEY = b"bench-device"


def server(use_customers: bool = True):
    reg = DeviceRegistry(KEY)

    def resolve(v: dict) -> tuple[str, str]:
        r = reg.resolve(v["attrs"], token=v["token"], ip=v["ip"], ts=v["ts"],
                        customer_id=v["customer_id"] if use_customers else None, header_order=v["header_order"])
        return r.device_id, r.token
    return resolve


def client_id():
    by_storage: dict[str, str] = {}
    count = 0

    def resolve(v: dict) -> tuple[str, str]:
        nonlocal count
        sid, tok = v["attrs"].get("storage_id"), v["token"]
        did = tok or by_storage.get(sid or "")
        if did is None:
            count += 1
            did = f"K{count}"
        if sid:
            by_storage[sid] = did
        return did, did
    return resolve


def exact_hash():
    def resolve(v: dict) -> tuple[str, str]:
        a = {k: x for k, x in v["attrs"].items() if k != "storage_id"}
        did = hashlib.blake2b(orjson.dumps(a, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()
        return did, did
    return resolve


def measure(make, devices: int, weeks: int, seed: int, lookalikes: float = 0.6) -> dict:
    """One resolver over the simulated visits: the figures of the module docstring."""
    resolve = make()
    owner: dict[str, str] = {}
    had: dict[str, set[str]] = defaultdict(set)
    merged: set[str] = set()
    visits = repeat = reid = false_visits = 0
    spent = 0.0
    by_drift: Counter = Counter()
    by_drift_ok: Counter = Counter()
    clock = time.perf_counter

    def issue(v: dict) -> str:
        nonlocal spent
        t = clock()
        did, token = resolve(v)
        spent += clock() - t
        v["device_id"] = did
        return token

    for v in simulate_visits(devices, weeks, seed, issue=issue, lookalikes=lookalikes):
        true, did = v["true_device"], v["device_id"]
        visits += 1
        owner.setdefault(did, true)
        if owner[did] != true:
            false_visits += 1
            merged.add(true)
        seen = had[true]
        if seen:
            repeat += 1
            ok = did in seen
            reid += ok
            for kind in v["drift"] or ["none"]:
                by_drift[kind] += 1
                by_drift_ok[kind] += ok
        seen.add(did)
    return {"visits": visits, "repeat": repeat, "reid": reid / max(1, repeat), "false_visits": false_visits / visits,
            "merged_devices": len(merged) / max(1, len(had)), "ids_per_device": sum(map(len, had.values())) / len(had),
            "per_s": visits / spent if spent else 0.0, "drift": {k: (by_drift[k], by_drift_ok[k] / by_drift[k]) for k in by_drift}}


RESOLVERS = {"server": server, "server, no customer ids": lambda: server(False), "client id": client_id,
             "exact hash": exact_hash}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=20_000)
    ap.add_argument("--weeks", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lookalikes", type=float, default=0.6, help="share of devices of a popular make")
    args = ap.parse_args()
    console = Console(width=150)
    results = {}
    for name, make in RESOLVERS.items():
        t = time.perf_counter()
        results[name] = measure(make, args.devices, args.weeks, args.seed, args.lookalikes)
        console.print(f"  {name}: {time.perf_counter() - t:.1f} s", style="dim")
    r0 = results["server"]
    table = Table(title=f"{args.devices:,} devices x {args.weeks} weeks (seed {args.seed}, look-alikes "
                        f"{args.lookalikes:.0%}): {r0['visits']:,} visits, {r0['repeat']:,} of a device seen before")
    for col in ("resolver", "re-identified", "false-merge visits", "merged devices", "ids per device", "resolutions/s"):
        table.add_column(col, justify="left" if col == "resolver" else "right")
    for name, r in results.items():
        table.add_row(name, f"{r['reid']:.3%}", f"{r['false_visits']:.3%}", f"{r['merged_devices']:.3%}",
                      f"{r['ids_per_device']:.3f}", f"{r['per_s']:,.0f}")
    console.print(table)
    drift = Table(title="re-identified by drift kind (visits of a device seen before)")
    drift.add_column("drift")
    drift.add_column("visits", justify="right")
    for name in results:
        drift.add_column(name, justify="right")
    for kind in sorted(r0["drift"], key=lambda k: -r0["drift"][k][0]):
        drift.add_row(kind, f"{r0['drift'][kind][0]:,}", *(f"{r['drift'].get(kind, (0, 0))[1]:.2%}" for r in results.values()))
    console.print(drift)
    met = r0["reid"] >= 0.99 and r0["false_visits"] < 0.001
    console.print(f"target re-identified >= 99% with false merges < 0.1%: {'met' if met else 'NOT met'} "
                  f"(re-identified {r0['reid']:.3%}, false-merge visits {r0['false_visits']:.3%})")
    console.print(f"command: .venv/bin/python bench/device.py --devices {args.devices} --weeks {args.weeks} "
                  f"--seed {args.seed} --lookalikes {args.lookalikes:g}")


if __name__ == "__main__":
    main()
