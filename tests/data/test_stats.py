"""bench.data.stats: counts per split, the same whichever way the samples are read."""

from __future__ import annotations

from bench.data.stats import split_stats
from bench.splits import get_split, load_test_truth

DATASET = "synth-lyso-easy"


def test_split_stats_match_the_test_truth():
    truth = load_test_truth(DATASET)
    stats = split_stats(get_split(DATASET))
    assert {k: v["images"] for k, v in stats["splits"].items()} == get_split(DATASET).sizes()
    test = stats["splits"]["test"]
    assert test["objects"] == sum(s.n_objects for s in truth)
    assert sum(test["classes"].values()) == test["objects"]
    assert test["shapes"] == sorted(list(t) for t in {tuple(s.shape) for s in truth})
