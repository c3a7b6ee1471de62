"""bench.scoring: the tidy tables of raw counts, on tiny samples worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data import DatasetInfo, Sample
from bench.methods import Prediction
from bench.scoring import (
    AP_THRESHOLDS,
    TABLE_COLUMNS,
    THRESHOLDS,
    object_table,
    score_image,
    score_predictions,
    tasks_scored,
)

LYSO = DatasetInfo(name="toy-lyso", tasks=("instance", "classification"), channels=("lamp1", "cargo"),
                   source="synthetic", class_names=("empty", "loaded"))
NUCLEI = DatasetInfo(name="toy-nuclei", tasks=("instance",), channels=("dna",), source="synthetic")
BOXES = DatasetInfo(name="toy-boxes", tasks=("detection",), channels=("red", "green", "blue"), source="mirror")
PIXELS = DatasetInfo(name="toy-pixels", tasks=("semantic",), channels=("gfp", "rfp"), source="synthetic",
                     semantic_names=("background", "phagophore", "autolysosome"))


def _sample(labels=None, *, channels=("lamp1", "cargo"), **kw):
    shape = (labels if labels is not None else kw.get("semantic", np.zeros((4, 8), np.int32))).shape
    img = np.zeros((*shape, len(channels)), np.float32)
    return Sample(name=kw.pop("name", "img"), image=img, channels=channels,
                  labels=None if labels is None else np.asarray(labels, np.int32), **kw)


# true: objects 1 (2x2) and 2 (2x2); prediction: 5 covers object 1 exactly, 6 half of object 2, 7 spurious
Y_TRUE = np.array([[1, 1, 0, 2, 2, 0, 0, 0],
                   [1, 1, 0, 2, 2, 0, 0, 0],
                   [0, 0, 0, 0, 0, 0, 0, 0],
                   [0, 0, 0, 0, 0, 0, 0, 0]], np.int32)
Y_PRED = np.array([[5, 5, 0, 6, 0, 0, 0, 0],
                   [5, 5, 0, 6, 0, 0, 0, 0],
                   [0, 0, 0, 0, 0, 0, 7, 7],
                   [0, 0, 0, 0, 0, 0, 7, 7]], np.int32)


def test_thresholds_are_the_union_of_f1_and_ap_sweeps():
    assert THRESHOLDS[0] == 0.1 and THRESHOLDS[-1] == 0.95
    assert set(AP_THRESHOLDS) <= set(THRESHOLDS) and 0.3 in THRESHOLDS and len(THRESHOLDS) == 14


def test_tasks_scored_follow_the_dataset():
    assert tasks_scored(LYSO) == ("instance", "classification", "readouts", "pixels", "images")
    assert tasks_scored(BOXES) == ("detection", "readouts", "images")
    assert tasks_scored(PIXELS) == ("semantic", "pixels", "images")


def test_instance_rows_hold_raw_counts_worked_by_hand():
    truth = _sample(Y_TRUE, channels=("dna",))
    rows = score_image(truth, Prediction(labels=Y_PRED), info=NUCLEI)
    by_t = {r["threshold"]: r for r in rows["instance"]}
    assert len(by_t) == len(THRESHOLDS)
    # object 2 vs prediction 6: intersection 2, union 4 -> IoU 0.5
    assert by_t[0.5] == {"threshold": 0.5, "criterion": "iou", "n_true": 2, "n_pred": 3, "tp": 2, "fp": 1,
                      "fn": 0, "sum_matched_iou": 1.5}
    assert (by_t[0.55]["tp"], by_t[0.55]["fn"], by_t[0.55]["sum_matched_iou"]) == (1, 1, 1.0)
    assert rows["images"] == [{"height": 4, "width": 8, "n_true": 2, "n_pred": 3}]
    counts = {r["readout"]: (r["true"], r["pred"]) for r in rows["readouts"]}
    assert counts["count"] == (2.0, 3.0)


def test_classification_and_occupancy_rows():
    truth = _sample(Y_TRUE, classes={1: 0, 2: 1})
    pred = Prediction(labels=Y_PRED, classes={5: 1, 6: 1, 7: 1})
    rows = score_image(truth, pred, info=LYSO)
    cls = sorted((r["true_label"], r["pred_label"], r["true_class"], r["pred_class"]) for r in rows["classification"])
    assert cls == [(1, 5, 0, 1), (2, 6, 1, 1)]
    ro = {r["readout"]: (r["true"], r["pred"]) for r in rows["readouts"]}
    assert ro["count:empty"] == (1.0, 0.0) and ro["count:loaded"] == (1.0, 3.0)
    assert ro["occupancy"] == (0.5, 1.0)


def test_classification_rows_empty_when_the_method_does_not_classify():
    truth = _sample(Y_TRUE, classes={1: 0, 2: 1})
    rows = score_image(truth, Prediction(labels=Y_PRED), info=LYSO)
    assert rows["classification"] == []
    ro = {r["readout"]: (r["true"], r["pred"]) for r in rows["readouts"]}
    assert np.isnan(ro["occupancy"][1]) and ro["occupancy"][0] == 0.5


def test_detection_rows_match_predicted_boxes_to_yolo_truth():
    # two true boxes (normalised YOLO), class collapsed; the prediction finds the first exactly
    boxes = np.array([[0, 1 / 8, 0.25, 2 / 8, 0.5], [3, 0.5, 0.75, 0.25, 0.5]])
    truth = Sample(name="f", image=np.zeros((4, 8, 3), np.float32), channels=("red", "green", "blue"), boxes=boxes)
    labels = np.zeros((4, 8), np.int32)
    labels[0:2, 0:2] = 3
    rows = score_image(truth, Prediction(labels=labels), info=BOXES)
    r = {x["threshold"]: x for x in rows["detection"]}[0.5]
    assert (r["criterion"], r["n_true"], r["n_pred"], r["tp"], r["fn"], r["fp"]) == ("box_iou", 2, 1, 1, 1, 0)
    assert r["sum_matched_iou"] == pytest.approx(1.0)


def test_semantic_rows_are_the_full_confusion_matrix():
    sem_t = np.array([[0, 1, 1, 2]] * 2, np.int32)
    sem_p = np.array([[0, 1, 2, 2]] * 2, np.int32)
    truth = Sample(name="s", image=np.zeros((2, 4, 2), np.float32), channels=("gfp", "rfp"), semantic=sem_t)
    rows = score_image(truth, Prediction(labels=sem_p), info=PIXELS)
    cm = np.zeros((3, 3), int)
    for r in rows["semantic"]:
        cm[r["true_class"], r["pred_class"]] = r["n_pixels"]
    assert len(rows["semantic"]) == 9
    assert cm.tolist() == [[2, 0, 0], [0, 2, 2], [0, 0, 2]]
    with pytest.raises(ValueError, match="pixel class 3"):
        score_image(truth, Prediction(labels=sem_p + 1), info=PIXELS)


def test_pixel_rows_binary_foreground_worked_by_hand():
    truth = _sample(Y_TRUE, channels=("dna",))
    rows = {r["class_id"]: r for r in score_image(truth, Prediction(labels=Y_PRED), info=NUCLEI)["pixels"]}
    # foreground: true 8 px, predicted 10 px, shared 6; background the complement (32 px in all)
    assert (rows[1]["tp"], rows[1]["fp"], rows[1]["fn"], rows[1]["tn"]) == (6, 4, 2, 20)
    assert (rows[0]["tp"], rows[0]["fp"], rows[0]["fn"], rows[0]["tn"]) == (20, 2, 4, 6)
    # MATLAB bfscore's default tolerance: 0.75 % of the diagonal of a 4 x 8 image
    assert rows[1]["bf_tolerance"] == pytest.approx(0.0075 * np.hypot(4, 8))
    # inner boundaries, the image border not counting as outside: each 2x2 block in a corner
    # loses its corner pixel (true 3 + 4, predicted 3 + 2 + 3)
    assert rows[1]["bf_true"] == 7 and rows[1]["bf_pred"] == 8


def test_pixel_rows_of_a_semantic_dataset_follow_its_classes():
    sem_t = np.array([[0, 1, 1, 2]] * 2, np.int32)
    sem_p = np.array([[0, 1, 2, 2]] * 2, np.int32)
    truth = Sample(name="s", image=np.zeros((2, 4, 2), np.float32), channels=("gfp", "rfp"), semantic=sem_t)
    rows = score_image(truth, Prediction(labels=sem_p), info=PIXELS)["pixels"]
    assert [(r["class_id"], r["tp"], r["fp"], r["fn"]) for r in rows] == [(0, 2, 0, 0), (1, 2, 0, 2), (2, 2, 2, 0)]


def test_score_predictions_builds_tables_with_image_column():
    truth = [_sample(Y_TRUE, classes={1: 0, 2: 1}, name=f"im{i}") for i in range(2)]
    preds = [Prediction(labels=Y_PRED, classes={5: 0, 6: 1, 7: 0}), Prediction(labels=Y_TRUE, classes={1: 0, 2: 1})]
    scores = score_predictions(truth, preds, info=LYSO)
    for name, df in scores.tables.items():
        assert list(df.columns) == ["image", *TABLE_COLUMNS[name]], name
    assert set(scores["instance"]["image"]) == {"im0", "im1"}
    assert len(scores["instance"]) == 2 * len(THRESHOLDS)
    s = scores.summary().set_index("task")
    # pooled at 0.5: tp 2 + 2, n_true 4, n_pred 3 + 2 -> f1 = 8 / 9
    assert s.loc["instance", "f1@0.5"] == pytest.approx(8 / 9)
    assert s.loc["classification", "accuracy"] == pytest.approx(1.0)
    assert scores["semantic"].empty


def test_score_predictions_validates_inputs():
    truth = [_sample(Y_TRUE)]
    with pytest.raises(ValueError, match="same length"):
        score_predictions(truth, [], info=LYSO)
    with pytest.raises(ValueError, match="at least one sample"):
        score_predictions([], [], info=LYSO)
    with pytest.raises(ValueError, match="must have the image's shape"):
        score_predictions(truth, [Prediction(labels=np.zeros((3, 3), np.int32))], info=LYSO)
    with pytest.raises(TypeError, match="Prediction"):
        score_image(truth[0], Y_PRED, info=LYSO)


def test_object_table_sizes_and_matches():
    truth = [_sample(Y_TRUE)]
    t = object_table(truth, [Prediction(labels=Y_PRED)])
    true = t[t["side"] == "true"].set_index("label")
    pred = t[t["side"] == "pred"].set_index("label")
    assert true["area"].to_dict() == {1: 4, 2: 4}
    assert true["matched"].to_dict() == {1: True, 2: True}
    assert pred["matched"].to_dict() == {5: True, 6: True, 7: False}
    assert pred.loc[6, "iou"] == pytest.approx(0.5) and np.isnan(pred.loc[7, "iou"])


def test_semantic_summary_is_the_mean_foreground_iou():
    sem_t = np.array([[0, 1, 1, 2]] * 2, np.int32)
    sem_p = np.array([[0, 1, 2, 2]] * 2, np.int32)
    truth = [Sample(name="s", image=np.zeros((2, 4, 2), np.float32), channels=("gfp", "rfp"), semantic=sem_t)]
    s = score_predictions(truth, [Prediction(labels=sem_p)], info=PIXELS).summary().set_index("task")
    # class 1: tp 2, fn 2 -> IoU 0.5; class 2: tp 2, fp 2 -> IoU 0.5
    assert s.loc["semantic", "miou"] == pytest.approx(0.5)
