"""Scoring predicted rings against ground truth (the simulator's `ring_id`), pair by pair.

A pair is two customers. A predicted pair: both in the same predicted ring. A true pair: both
carrying the same true ring id. Precision = true predicted pairs / predicted pairs; recall =
true predicted pairs / true pairs. A customer with no true ring makes every predicted pair it
is in a false one. Counted from contingency sizes, never by listing pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise(predicted: Mapping[str, str], truth: Mapping[str, str]) -> dict[str, float | int]:
    """Pairwise precision and recall of `predicted` (customer → ring) against `truth` (customer → true ring)."""
    pred_pairs = sum(_pairs(n) for n in Counter(predicted.values()).values())
    true_pairs = sum(_pairs(n) for n in Counter(truth.values()).values())
    both = Counter((r, truth[c]) for c, r in predicted.items() if c in truth)
    hits = sum(_pairs(n) for n in both.values())
    return {
        "precision": hits / pred_pairs if pred_pairs else 1.0,
        "recall": hits / true_pairs if true_pairs else 1.0,
        "true_pairs_found": hits,
        "predicted_pairs": pred_pairs,
        "true_pairs": true_pairs,
    }
