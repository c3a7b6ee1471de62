"""bench.data.stats: counts per split, the same whichever way the samples are read."""

from __future__ import annotations

import pytest

from bench.data import DataError
from bench.data.stats import dataset_stats
from bench.splits import get_split, load_test_truth

DATASET = "synth-lyso-easy"


def test_dataset_stats_match_the_test_truth():
    truth = load_test_truth(DATASET)
    stats = dataset_stats(DATASET)
    assert {k: v["images"] for k, v in stats["splits"].items()} == get_split(DATASET).sizes()
    test = stats["splits"]["test"]
    assert test["objects"] == sum(s.n_objects for s in truth)
    assert sum(test["classes"].values()) == test["objects"]
    assert test["shapes"] == sorted(list(t) for t in {tuple(s.shape) for s in truth})


def test_a_dataset_without_a_split_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setattr("bench.splits.splits_dir", lambda: tmp_path)
    with pytest.raises(DataError, match="no split file"):
        dataset_stats(DATASET)
