"""bench.results and bench.leaderboard: the schema round trip and the aggregations."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from bench.data import DatasetInfo, Sample
from bench.leaderboard import COLUMNS, format_leaderboard, leaderboard
from bench.methods import Prediction
from bench.results import CELL_FIELDS, KEY_COLUMNS, latest_run, list_runs, load_run, write_json
from bench.aggregate import ap_sweep, bootstrap_scores, classification_scores, match_scores, readout_errors, semantic_scores
from bench.runner import save_external
from bench.scoring import TABLES, score_predictions

INFO = DatasetInfo(name="toy", tasks=("instance", "classification"), channels=("a",), source="synthetic",
                   class_names=("empty", "loaded"))


def _truth(n: int) -> list[Sample]:
    out = []
    for i in range(n):
        lab = np.zeros((6, 12), np.int32)
        for k in range(3):
            lab[1:4, 4 * k: 4 * k + 3] = k + 1
        out.append(Sample(name=f"im{i}", image=np.zeros((6, 12, 1), np.float32), channels=("a",), labels=lab,
                          classes={1: 0, 2: 1, 3: 1}))
    return out


def _pred(truth: Sample, keep: int) -> Prediction:
    lab = np.where(np.isin(truth.labels, range(1, keep + 1)), truth.labels, 0).astype(np.int32)
    return Prediction(labels=lab, classes={k: 1 for k in range(1, keep + 1)})


@pytest.fixture
def run_dir(tmp_path):
    """A run with 'good' (finds 3/3 objects), 'half' (1/3), a failed and a skipped method."""
    run = tmp_path / "toy-run"
    truth = _truth(4)
    for method, keep in (("good", 3), ("half", 1)):
        scores = score_predictions(truth, [_pred(t, keep) for t in truth], info=INFO)
        save_external(scores, run / "cells" / f"toy__{method}__seed0", method_id=method, dataset="toy")
        rec = json.loads((run / "cells" / f"toy__{method}__seed0" / "cell.json").read_text())
        rec.update(fit_s=2.0 if method == "good" else 1.0, predict_s_per_image=0.5, peak_mem_mb=100.0)
        write_json(run / "cells" / f"toy__{method}__seed0" / "cell.json", rec)
    for method, status, reason in (("crash", "failed", "RuntimeError: boom"), ("nope", "skipped", "no weights")):
        write_json(run / "cells" / f"toy__{method}__seed0" / "cell.json",
                   {"cell_id": f"toy__{method}__seed0", "status": status, "reason": reason, "dataset": "toy",
                    "split": "test", "method_id": method, "method": method, "seed": 0, "profile": "quick"})
    write_json(run / "manifest.json", {"run_id": "toy-run", "updated": "2026-01-01T00:00:00+00:00"})
    return run


def test_load_run_round_trip(run_dir):
    run = load_run(run_dir)
    assert run.run_id == "toy-run"
    assert set(CELL_FIELDS) <= set(run.cells.columns)
    assert sorted(run.cells["status"]) == ["failed", "ok", "ok", "skipped"]
    assert set(run.rows) == set(TABLES)
    inst = run.rows["instance"]
    assert list(inst.columns[: len(KEY_COLUMNS)]) == list(KEY_COLUMNS)
    assert set(inst["method_id"]) == {"good", "half"}
    assert len(inst) == 2 * 4 * 14
    assert run.rows["semantic"].empty and "n_pixels" in run.rows["semantic"].columns
    with pytest.raises(ValueError, match="must be one of"):
        run.table("nope")


def test_load_run_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a benchmark run"):
        load_run(tmp_path)
    with pytest.raises(FileNotFoundError, match="no benchmark run"):
        latest_run(tmp_path / "empty")


def test_latest_run_is_the_most_recently_updated(tmp_path):
    for name, updated in (("a", "2026-01-02"), ("b", "2026-01-01"), ("c", "2026-01-03")):
        write_json(tmp_path / name / "manifest.json", {"run_id": name, "updated": updated})
    assert [p.name for p in list_runs(tmp_path)] == ["b", "a", "c"]
    assert latest_run(tmp_path).name == "c"


def test_write_json_is_atomic_and_leaves_no_temporary_file(tmp_path):
    p = write_json(tmp_path / "x.json", {"a": np.int64(3), "b": np.float32(0.5), "c": (1, 2)})
    assert json.loads(p.read_text()) == {"a": 3, "b": 0.5, "c": [1, 2]}
    with pytest.raises(TypeError, match="cannot write object"):
        write_json(tmp_path / "y.json", {"a": object()})
    assert sorted(q.name for q in tmp_path.iterdir()) == ["x.json"]


def test_match_scores_pooled_and_per_image(run_dir):
    inst = load_run(run_dir).rows["instance"]
    s = match_scores(inst, threshold=0.5).set_index("method_id")
    assert s.loc["good", "f1"] == 1.0
    # half: 1 of 3 found per image: tp 4, n_true 12, n_pred 4 -> f1 = 8 / 16
    assert (s.loc["half", "tp"], s.loc["half", "n_true"], s.loc["half", "n_pred"]) == (4, 12, 4)
    assert s.loc["half", "f1"] == pytest.approx(0.5)
    assert s.loc["half", "recall"] == pytest.approx(1 / 3)
    per = match_scores(inst, threshold=0.5, aggregate="per_image").set_index("method_id")
    assert per.loc["half", "recall"] == pytest.approx(1 / 3)
    sweep = ap_sweep(inst, by=("method_id",))
    assert len(sweep) == 2 * 10 and set(sweep["threshold"]) == {round(0.5 + 0.05 * k, 2) for k in range(10)}
    with pytest.raises(ValueError, match="`aggregate`"):
        match_scores(inst, aggregate="mean")
    with pytest.raises(ValueError, match="`by` names column"):
        match_scores(inst, by=("nope",))


def test_bootstrap_interval_brackets_the_estimate(run_dir):
    inst = load_run(run_dir).rows["instance"]
    inst = inst[inst["method_id"] == "half"].copy()
    inst.loc[inst["image"] == "im0", "tp"] = 3  # make images differ
    inst.loc[inst["image"] == "im0", "n_pred"] = 3
    inst.loc[inst["image"] == "im0", "sum_matched_iou"] = 3.0
    b = bootstrap_scores(inst, by=("method_id",), n_resamples=200).iloc[0]
    assert 0 <= b["f1_low"] <= b["f1"] <= b["f1_high"] <= 1
    assert b["f1_low"] < b["f1_high"]


def test_classification_and_readouts(run_dir):
    run = load_run(run_dir)
    c = classification_scores(run.rows["classification"], class_names=INFO.class_names).set_index(
        ["method_id", "class_name"])
    # 'good' predicts class 1 (loaded) for all: objects 2, 3 right, object 1 wrong
    assert c.loc[("good", "all"), "accuracy"] == pytest.approx(2 / 3)
    assert c.loc[("good", "loaded"), "recall"] == 1.0 and c.loc[("good", "empty"), "recall"] == 0.0
    e = readout_errors(run.rows["readouts"]).set_index(["method_id", "readout"])
    assert e.loc[("good", "count"), "mae"] == 0.0
    assert e.loc[("half", "count"), "mae"] == 2.0
    assert e.loc[("half", "occupancy"), "true_mean"] == pytest.approx(2 / 3)


def test_semantic_scores_from_confusion_rows():
    rows = pd.DataFrame({"dataset": "d", "method_id": "m", "image": "i",
                         "true_class": [0, 0, 1, 1], "pred_class": [0, 1, 0, 1], "n_pixels": [3, 1, 1, 5]})
    s = semantic_scores(rows, class_names=("bg", "fg")).set_index("class_name")
    assert s.loc["bg", "iou"] == pytest.approx(0.6) and s.loc["fg", "iou"] == pytest.approx(5 / 7)


def test_leaderboard_orders_ranks_and_reports_status(run_dir):
    board = leaderboard(run_dir, n_boot=100)
    assert list(board.columns) == list(COLUMNS)
    assert board["method_id"].tolist() == ["good", "half", "crash", "nope"]
    assert board["rank"].tolist()[:2] == [1, 2] and board["rank"].isna().tolist()[2:] == [True, True]
    b = board.set_index("method_id")
    assert b.loc["good", "score"] == 1.0 and b.loc["half", "score"] == pytest.approx(0.5)
    assert b.loc["crash", "status"] == "failed" and b.loc["crash", "reason"] == "RuntimeError: boom"
    assert b.loc["nope", "status"] == "skipped" and np.isnan(b.loc["nope", "score"])
    assert b.loc["good", "fit_s"] == 2.0 and b.loc["good", "task"] == "instance"
    assert b.loc["half", "count_mae"] == 2.0
    assert b.loc["half", "f1_low"] <= 0.5 <= b.loc["half", "f1_high"]
    with pytest.raises(ValueError, match="no cells"):
        leaderboard(run_dir, dataset="other")


def test_format_leaderboard(run_dir):
    board = leaderboard(run_dir, n_boot=0)
    md = format_leaderboard(board)
    assert md.splitlines()[0].startswith("| rank") and "| good" in md and "boom" in md
    csv = format_leaderboard(board, "csv", columns=None)
    assert pd.read_csv(io.StringIO(csv)).shape == board.shape
    html = format_leaderboard(board, "html")
    assert html.startswith("<table") and "bench-leaderboard" in html
    with pytest.raises(ValueError, match="`fmt` must be one of"):
        format_leaderboard(board, "latex")


def test_load_run_keeps_only_the_cells_the_manifest_lists(run_dir):
    write_json(run_dir / "manifest.json", {"run_id": "toy-run", "cells": {"toy__good__seed0": "ok"}})
    run = load_run(run_dir)
    assert run.cells["method_id"].tolist() == ["good"]
    assert set(run.rows["instance"]["method_id"]) == {"good"}
