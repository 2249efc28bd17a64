"""Ring quality on the simulator against its ground truth, and the pairwise scoring itself."""

from __future__ import annotations

from tests.network.helpers import POISON
from tianwang.network import Network
from tianwang.network.quality import pairwise


def test_pairwise_counts_pairs():
    truth = {"a": "T1", "b": "T1", "c": "T1", "d": "T2", "e": "T2"}
    pred = {"a": "R1", "b": "R1", "d": "R2", "e": "R2", "x": "R2"}
    s = pairwise(pred, truth)
    assert (s["predicted_pairs"], s["true_pairs"], s["true_pairs_found"]) == (4, 4, 2)
    assert s["precision"] == 0.5 and s["recall"] == 0.5
    assert pairwise({}, {})["precision"] == 1.0


def test_rings_meet_the_precision_and_recall_bars(sim_run):
    net = Network(poison=POISON)
    truth, groups = {}, {}
    for rec, t in sim_run:
        net.link(rec)
        if t["ring_id"]:
            truth[rec["customer_id"]] = t["ring_id"]
        if t["group"]:
            groups[rec["customer_id"]] = t["group"]
    predicted = {c: r for r, members in net.ring_members().items() for c in members}
    score = pairwise(predicted, truth)
    assert len(set(truth.values())) >= 5
    assert score["precision"] >= 0.95 and score["recall"] >= 0.90, score
    assert not [c for c in predicted if groups.get(c) in ("campus", "family", "big_employer")]
