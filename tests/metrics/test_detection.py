"""Boxes from labels, box matching and detection metrics."""

from __future__ import annotations

import numpy as np
import pytest

from bench.metrics import boxes_from_labels, detection_metrics, match_boxes
from bench.metrics.detection import _box_pairs


def _yolo(x0, y0, x1, y1, w, h, cls=0):
    return [cls, (x0 + x1) / (2 * w), (y0 + y1) / (2 * h), (x1 - x0) / w, (y1 - y0) / h]


def test_boxes_from_labels_equals_regionprops(lab):
    measure = pytest.importorskip("skimage.measure")
    rng = np.random.default_rng(0)
    labels = lab.blob_labels((37, 53), 20, rng)
    boxes = boxes_from_labels(labels, class_id=2)
    props = sorted(measure.regionprops(labels), key=lambda p: p.label)
    assert boxes.shape == (len(props), 5)
    h, w = labels.shape
    want = np.array([_yolo(p.bbox[1], p.bbox[0], p.bbox[3], p.bbox[2], w, h, 2) for p in props])
    assert boxes == pytest.approx(want)
    assert boxes_from_labels(np.zeros((3, 3), int)).shape == (0, 5)


def test_box_iou_equals_pixel_counting():
    rng = np.random.default_rng(1)
    w, h = 40, 30
    corners = []
    for _ in range(12):
        x0, y0 = rng.integers(0, w - 2), rng.integers(0, h - 2)
        corners.append((x0, y0, rng.integers(x0 + 1, w + 1), rng.integers(y0 + 1, h + 1)))
    boxes = np.array([_yolo(*c, w, h) for c in corners])
    ti, pj, iou = _box_pairs(boxes[:6], boxes[6:])
    masks = []
    for x0, y0, x1, y1 in corners:
        m = np.zeros((h, w), bool)
        m[y0:y1, x0:x1] = True
        masks.append(m)
    want = {}
    for i in range(6):
        for j in range(6):
            inter = np.sum(masks[i] & masks[6 + j])
            if inter:
                want[(i, j)] = inter / np.sum(masks[i] | masks[6 + j])
    assert dict(zip(zip(ti.tolist(), pj.tolist()), iou.tolist())) == pytest.approx(want)


def test_match_boxes_golden_and_classes():
    true = [[0, 0.25, 0.5, 0.5, 1.0], [0, 0.75, 0.5, 0.5, 1.0]]
    pred = [[0, 0.35, 0.5, 0.5, 1.0]]  # IoU with the first: 0.4 / 0.6
    r = match_boxes(true, pred)
    assert (r.tp, r.fp, r.fn, r.criterion) == (1, 0, 1, "box_iou")
    assert r.mean_matched_iou == pytest.approx(2 / 3)
    assert match_boxes(true, [[1, 0.35, 0.5, 0.5, 1.0]]).tp == 0  # other class never matches
    assert [x.tp for x in match_boxes(true, pred, iou_threshold=[0.5, 0.7])] == [1, 0]


def test_overlapping_predicted_boxes_matched_one_to_one():
    true = [[0, 0.5, 0.5, 0.4, 0.4]]
    pred = [[0, 0.5, 0.5, 0.4, 0.4], [0, 0.51, 0.5, 0.4, 0.4]]  # both IoU > 0.5
    r = match_boxes(true, pred)
    assert (r.tp, r.fp, r.fn, r.mean_matched_iou) == (1, 1, 0, 1.0)


def test_detection_metrics_golden():
    true = [[0, 0.25, 0.5, 0.5, 1.0], [0, 0.75, 0.5, 0.5, 1.0]]
    pred = [[0, 0.25, 0.5, 0.5, 1.0], [0, 0.5, 0.5, 0.2, 0.2]]
    r = detection_metrics(true, pred, pred_scores=[0.9, 0.4])
    assert (r.tp, r.fp, r.fn) == (1, 1, 1)
    assert (r.precision, r.recall, r.f1) == (0.5, 0.5, 0.5)
    assert r.map_50 == pytest.approx(51 / 101)  # precision 1 up to recall 0.5
    assert r.map_50_95 == pytest.approx(51 / 101)  # the one match has IoU 1
    assert r.classes == (0,)
    # without scores: one operating point, recall .5 at precision .5
    assert detection_metrics(true, pred).map_50 == pytest.approx(51 * 0.5 / 101)


def test_detection_metrics_mean_over_classes():
    true = np.array([[0, 0.2, 0.2, 0.2, 0.2], [1, 0.7, 0.7, 0.2, 0.2]])
    pred = np.array([[0, 0.2, 0.2, 0.2, 0.2], [0, 0.7, 0.7, 0.2, 0.2]])  # second has the wrong class
    r = detection_metrics(true, pred, pred_scores=[0.9, 0.8])
    assert r.classes == (0, 1)
    assert r.map_50 == pytest.approx((1.0 + 0.0) / 2)  # class 0: AP 1 (FP after TP); class 1: nothing found
    assert (r.tp, r.fp, r.fn) == (1, 1, 1)


def test_cellular_boxes_against_themselves_and_jittered(lab):
    folder = lab.SHARED_DATA / "cellular-annotated-color" / "labels"
    if not folder.is_dir():
        pytest.skip(f"real boxes absent: {folder} does not exist (read-only mirror, see ../shared/data/README.md)")
    files = sorted(folder.glob("*.txt"))[:4]
    truth = [np.loadtxt(f, ndmin=2) for f in files]
    perfect = detection_metrics(truth, [t.copy() for t in truth], pred_scores=[np.ones(len(t)) for t in truth])
    assert (perfect.precision, perfect.recall, perfect.map_50, perfect.map_50_95) == (1.0, 1.0, 1.0, 1.0)
    assert perfect.n_true == sum(len(t) for t in truth) and perfect.n_images == 4
    rng = np.random.default_rng(0)
    jittered = []
    for t in truth:
        j = t.copy()
        j[:, 1:3] += rng.normal(0, 0.004, (len(t), 2))  # ~8 px on 2048 px
        jittered.append(j[rng.random(len(t)) < 0.9])  # and drop 10 %
    r = detection_metrics(truth, jittered, pred_scores=[rng.random(len(j)) for j in jittered])
    assert 0.8 < r.recall < 0.95 and r.precision > 0.9
    assert r.map_50_95 < r.map_50 <= 1.0


def test_validation():
    with pytest.raises(ValueError, match=r"`true_boxes` must have shape \(K, 5\)"):
        match_boxes([[0, 0.5, 0.5, 0.1]], [])
    with pytest.raises(ValueError, match=r"`pred_boxes` must have non-negative widths"):
        match_boxes([], [[0, 0.5, 0.5, -0.1, 0.1]])
    with pytest.raises(ValueError, match=r"`pred_scores` \(shape \(1,\)\) must hold one score per row of `pred_boxes`"):
        detection_metrics([[0, 0.5, 0.5, 0.1, 0.1]], [[0, 0.5, 0.5, 0.1, 0.1]] * 2, pred_scores=[0.3])
    with pytest.raises(ValueError, match=r"must hold the same number of images"):
        detection_metrics([np.zeros((0, 5))] * 2, [np.zeros((0, 5))])
    with pytest.raises(ValueError, match=r"`labels` must be a 2-d image"):
        boxes_from_labels(np.zeros((2, 2, 2), int))


def test_empty_convention():
    none = np.zeros((0, 5))
    r = detection_metrics(none, none)
    assert (r.precision, r.recall, r.f1, r.map_50, r.map_50_95) == (1.0, 1.0, 1.0, 1.0, 1.0)
    r = detection_metrics(none, [[0, 0.5, 0.5, 0.1, 0.1]])
    assert (r.precision, r.map_50) == (0.0, 0.0)
