"""A benchmark of this checkout beside the same benchmark of an earlier commit, in one run.

    .venv/bin/python bench/against.py REV [--repeat 3] [--script decide|stages] [-- ARGS…]

Checks REV out into a temporary worktree, then runs `bench/decide.py` and `bench/stages.py`
(or the one named) of each tree alternately, `--repeat` times, each in a process of its own
with its tree's `src/` first on the path (so each runs its own code under the same venv), and
prints the median of each headline figure for both with the ratio now / then. Interleaving
spreads the machine's drift over both sides; a ratio inside the spread of the runs is noise.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# script → (arguments, {figure: regex of its value in the script's output})
FIGURES = {
    "decide": (["--http-seconds", "0", "--repeat", "1"], {
        "decisions/s, default policy": r"^default policy, writer on the same core\s+[\d,]+\s+[\d,]+\s+([\d,]+)",
        "walk p50 ms": r"^default policy, writer on the same core\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+([\d.]+)",
        "walk p99 ms": r"^default policy, writer on the same core\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d.]+\s+([\d.]+)",
        "decisions/s, +declared": r"^\+[\d,]+ declared, writer on the same core\s+[\d,]+\s+[\d,]+\s+([\d,]+)",
        "decisions/s, writer on core 1": r"^default policy, writer on core 1\s+[\d,]+\s+[\d,]+\s+([\d,]+)",
    }),
    "stages": ([], {
        "walk µs / event": r"walk \(baseline\)\W+([\d.]+)",
        "decisions/s": r"^([\d,]+) decisions/s",
    }),
}


def run(tree: Path, script: str, args: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    out = subprocess.run([sys.executable, str(tree / "bench" / f"{script}.py"), *args], env=env, cwd=tree,
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"{tree.name}: bench/{script}.py failed:\n{out.stderr[-2000:]}")
    return out.stdout


def figures(script: str, text: str) -> dict[str, float]:
    found = {}
    for name, pattern in FIGURES[script][1].items():
        m = re.search(pattern, text, re.M)
        if m is None:
            raise SystemExit(f"bench/{script}.py printed no {name!r}:\n{text[-2000:]}")
        found[name] = float(m.group(1).replace(",", ""))
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rev", help="the earlier commit")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--script", choices=sorted(FIGURES), action="append")
    ap.add_argument("extra", nargs="*", help="more arguments for the script (after --)")
    args = ap.parse_args()
    scripts = args.script or sorted(FIGURES)
    with tempfile.TemporaryDirectory(prefix="tianwang-against-") as tmp:
        then = Path(tmp) / "then"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(then), args.rev], check=True,
                       capture_output=True)
        try:
            for script in scripts:
                base_args = [*FIGURES[script][0], *args.extra]
                seen: dict[str, list[dict[str, float]]] = {"then": [], "now": []}
                for i in range(args.repeat):
                    for side, tree in (("then", then), ("now", ROOT)) if i % 2 == 0 else (("now", ROOT), ("then", then)):
                        seen[side].append(figures(script, run(tree, script, base_args)))
                        print(f"  bench/{script}.py {side} run {i + 1}: {seen[side][-1]}", file=sys.stderr, flush=True)
                print(f"\nbench/{script}.py {' '.join(base_args)}: {args.rev[:10]} (then) against this tree (now), "
                      f"median of {args.repeat} interleaved runs, [min – max]")
                print(f"{'figure':34} {'then':>22} {'now':>22} {'now / then':>11}")
                for name in FIGURES[script][1]:
                    a = [r[name] for r in seen["then"]]
                    b = [r[name] for r in seen["now"]]
                    ma, mb = statistics.median(a), statistics.median(b)
                    def cell(v: list[float], m: float) -> str:
                        f = ",.0f" if m >= 100 else ".3f"
                        return f"{m:{f}} [{min(v):{f}}–{max(v):{f}}]"
                    print(f"{name:34} {cell(a, ma):>22} {cell(b, mb):>22} {mb / ma:>11.2f}")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(then)], capture_output=True)


if __name__ == "__main__":
    main()
