"""bench.ranking and bench.pixel_scores on small runs worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import f1_score, jaccard_score

from bench.data import DatasetInfo, Sample
from bench.leaderboard import leaderboard
from bench.methods import Prediction
from bench.pixel_scores import pixel_scores
from bench.ranking import rank_uncertainty
from bench.results import load_run, write_json
from bench.runner import save_external
from bench.scoring import score_predictions

INFO = DatasetInfo(name="toy", tasks=("instance",), channels=("a",), source="synthetic")
SEM = DatasetInfo(name="toy-sem", tasks=("semantic",), channels=("a",), source="synthetic",
                  semantic_names=("background", "x", "y"))


def _truth(n: int) -> list[Sample]:
    out = []
    for i in range(n):
        lab = np.zeros((8, 16), np.int32)
        for k in range(3):
            lab[2:6, 5 * k: 5 * k + 4] = k + 1
        out.append(Sample(name=f"im{i}", image=np.zeros((8, 16, 1), np.float32), channels=("a",), labels=lab))
    return out


def _keep(truth: Sample, keep: int) -> Prediction:
    return Prediction(labels=np.where(np.isin(truth.labels, range(1, keep + 1)), truth.labels, 0).astype(np.int32))


def _save(run, dataset, method, scores, *, seed=0):
    cell = run / "cells" / f"{dataset}__{method}__seed{seed}"
    save_external(scores, cell, method_id=method, dataset=dataset, seed=seed)


@pytest.fixture
def run_dir(tmp_path):
    """8 images; 'good' finds 3/3 objects, 'twin' is identical, 'half' 1/3 (2/3 on im0), plus a failed cell."""
    run = tmp_path / "r"
    truth = _truth(8)
    _save(run, "toy", "good", score_predictions(truth, [_keep(t, 3) for t in truth], info=INFO))
    _save(run, "toy", "twin", score_predictions(truth, [_keep(t, 3) for t in truth], info=INFO))
    _save(run, "toy", "half", score_predictions(truth, [_keep(t, 2 if t.name == "im0" else 1) for t in truth],
                                                info=INFO))
    write_json(run / "cells" / "toy__crash__seed0" / "cell.json",
               {"cell_id": "toy__crash__seed0", "status": "failed", "reason": "boom", "dataset": "toy",
                "split": "test", "method_id": "crash", "method": "crash", "seed": 0, "profile": "quick"})
    write_json(run / "manifest.json", {"run_id": "r", "updated": "2026-01-01T00:00:00+00:00"})
    return run


def test_rank_uncertainty_worked_by_hand(run_dir):
    run = load_run(run_dir)
    ru = rank_uncertainty(run, "toy", n_resamples=200, rng=0)
    assert ru.score == "f1" and len(ru.images) == 8
    assert ru.excluded == {"crash": "not every seed ran: failed"}
    iv = ru.intervals().set_index("method_id")
    # the resampled statistic is the leaderboard's own score on all images
    board = leaderboard(run, "toy", n_boot=0).set_index("method_id")
    for m in ("good", "twin", "half"):
        assert iv.loc[m, "score"] == pytest.approx(board.loc[m, "f1"])
    # half: 2 + 7 found of 24, 2*9/(24+9)
    assert iv.loc["half", "score"] == pytest.approx(18 / 33)
    assert iv.loc["good", "p_first"] == 1.0 and iv.loc["twin", "p_first"] == 1.0
    assert (iv.loc["half", "rank_low"], iv.loc["half", "rank_high"]) == (3, 3)
    pairs = ru.pairs().set_index(["method_id", "other"])
    # identical methods: p = 1, never significant; good vs half: 8 positive differences, p = 2**-8, Holm x 6
    assert pairs.loc[("good", "twin"), "p_value"] == 1.0 and not pairs.loc[("good", "twin"), "significant"]
    assert pairs.loc[("good", "half"), "p_value"] == pytest.approx(2.0**-8)
    assert pairs.loc[("good", "half"), "p_holm"] == pytest.approx(6 * 2.0**-8)
    assert pairs.loc[("good", "half"), "significant"] and not pairs.loc[("half", "good"), "significant"]
    assert iv.loc["good", "n_better_than"] == 1
    freq = ru.frequencies()
    assert freq[freq["method_id"] == "half"]["rank"].tolist() == [3]


def test_rank_uncertainty_needs_two_methods_and_a_run(run_dir, tmp_path):
    with pytest.raises(TypeError, match="RunResults"):
        rank_uncertainty(str(run_dir), "toy")
    assert rank_uncertainty(load_run(run_dir), "other") is None


def test_semantic_rank_uncertainty_uses_mean_foreground_iou(tmp_path):
    run = tmp_path / "s"
    t = np.array([[0, 1, 1, 2, 2, 0]] * 3, np.int32)
    truth = [Sample(name=f"s{i}", image=np.zeros((3, 6, 1), np.float32), channels=("a",), semantic=t)
             for i in range(6)]
    worse = t.copy()
    worse[:, 2] = 2
    _save(run, "toy-sem", "exact", score_predictions(truth, [Prediction(labels=t)] * 6, info=SEM))
    _save(run, "toy-sem", "worse", score_predictions(truth, [Prediction(labels=worse)] * 6, info=SEM))
    write_json(run / "manifest.json", {"run_id": "s"})
    r = load_run(run)
    ru = rank_uncertainty(r, "toy-sem", n_resamples=50, rng=1)
    iv = ru.intervals().set_index("method_id")
    board = leaderboard(r, "toy-sem", n_boot=0).set_index("method_id")
    assert ru.score == "miou"
    assert iv.loc["worse", "score"] == pytest.approx(board.loc["worse", "miou"])
    # class x: 3 of 6 pixels -> 0.5; class y: 6 of 9 -> 2/3
    assert iv.loc["worse", "score"] == pytest.approx((0.5 + 2 / 3) / 2)
    # 6 images: one-sided p = 2**-6, Holm over 2 pairs = 1/32 < 0.05
    assert ru.pairs().set_index(["method_id", "other"]).loc[("exact", "worse"), "significant"]


def test_pixel_scores_pool_images_and_match_sklearn(run_dir):
    run = load_run(run_dir)
    ps = pixel_scores(run.rows["pixels"]).set_index(["dataset", "method_id"])
    truth = _truth(8)
    preds = [_keep(t, 2 if t.name == "im0" else 1) for t in truth]
    yt = np.concatenate([(t.labels > 0).ravel() for t in truth])
    yp = np.concatenate([(p.labels > 0).ravel() for p in preds])
    r = ps.loc[("toy", "half")]
    assert r["n_images"] == 8
    assert r["pixel_iou"] == pytest.approx(jaccard_score(yt, yp))
    assert r["pixel_dice"] == pytest.approx(f1_score(yt, yp))
    assert r["mean_iou"] == pytest.approx(jaccard_score(yt, yp, average="macro"))
    assert r["weighted_iou"] == pytest.approx(jaccard_score(yt, yp, average="weighted"))
    # per image: im0 keeps 2 of 3 objects (IoU 2/3), the others 1 of 3 (IoU 1/3)
    assert r["cellular_jaccard"] == pytest.approx((2 / 3 + 7 / 3) / 8)
    assert r["cellular_f1"] == pytest.approx((0.8 + 7 * 0.5) / 8)
    good = ps.loc[("toy", "good")]
    assert good["pixel_iou"] == 1.0 and good["mean_bfscore"] == 1.0 and good["global_accuracy"] == 1.0
    with pytest.raises(ValueError, match="pixels"):
        pixel_scores(run.rows["instance"])


def test_pixels_table_is_written_with_the_cell(run_dir):
    cells = sorted((run_dir / "cells").glob("toy__good__seed0/tables/pixels.csv"))
    assert cells, "scoring writes the pixels table of an instance dataset"
    rec = json.loads((run_dir / "cells" / "toy__good__seed0" / "cell.json").read_text())
    assert "pixels" in rec["tasks"]
