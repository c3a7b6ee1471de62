"""ap_dsb (Data Science Bowl) and COCO average precision."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from bench.metrics import (
    COCO_THRESHOLDS,
    DSB_THRESHOLDS,
    APSweep,
    ap_dsb_sweep,
    coco_average_precision,
    match_instances,
)
from bench.metrics.average_precision import greedy_match, ranked_average_precision


def test_threshold_constants():
    assert DSB_THRESHOLDS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
    assert COCO_THRESHOLDS == DSB_THRESHOLDS


# ------------------------------------------------------------------------ ap_dsb


def test_ap_dsb_sweep_golden():
    y_true = np.zeros((5, 5), int)
    y_true[1:4, 1:4] = 1
    y_pred = np.zeros((5, 5), int)
    y_pred[1:4, 1:3] = 1  # IoU 6/9
    y_pred[0, 4] = 2  # a false positive
    sweep = ap_dsb_sweep(y_true, y_pred)
    # IoU 0.667 >= t for t <= 0.65: TP 1, FP 1, FN 0 -> 1/2; above: TP 0 -> 0
    assert sweep.ap_dsb == (0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0, 0, 0)
    assert sweep.mean_ap_dsb == 0.2
    assert sweep.thresholds == DSB_THRESHOLDS
    assert [r.tp for r in sweep.results] == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert pickle.loads(pickle.dumps(sweep)) == sweep


def test_ap_dsb_is_stardist_accuracy(lab):
    sd = pytest.importorskip("stardist.matching", reason="the cross-check needs stardist")
    rng = np.random.default_rng(11)
    y_true = lab.blob_labels((80, 70), 30, rng)
    y_pred = lab.split_labels(lab.dilate_labels(y_true, 1), rng, 0.2)
    sweep = ap_dsb_sweep(y_true, y_pred)
    theirs = sd.matching(y_true, y_pred, thresh=list(DSB_THRESHOLDS))
    assert sweep.ap_dsb == pytest.approx([m.accuracy for m in theirs], abs=1e-12)


def test_ap_dsb_dataset_pooled_and_per_image(lab):
    sd = pytest.importorskip("stardist.matching", reason="the cross-check needs stardist")
    rng = np.random.default_rng(12)
    ys = [lab.blob_labels((40, 50), int(rng.integers(3, 20)), rng) for _ in range(4)]
    ps = [lab.shift_labels(y, 1, 0) for y in ys]
    for aggregate, by_image in (("pooled", False), ("per_image", True)):
        sweep = ap_dsb_sweep(ys, ps, aggregate=aggregate)
        theirs = sd.matching_dataset(ys, ps, thresh=list(DSB_THRESHOLDS), by_image=by_image, show_progress=False)
        assert sweep.ap_dsb == pytest.approx([m.accuracy for m in theirs], abs=1e-12)
        assert all(r.aggregate == aggregate for r in sweep.results)


def test_ap_dsb_sweep_validation():
    y = np.zeros((3, 3), int)
    with pytest.raises(ValueError, match=r"`thresholds` must lie in \(0, 1\]"):
        ap_dsb_sweep(y, y, thresholds=[0.0, 0.5])
    with pytest.raises(ValueError, match=r"`aggregate` must be one of"):
        ap_dsb_sweep([y], [y], aggregate="median")
    with pytest.raises(TypeError):
        APSweep.from_results([])


# ----------------------------------------------------------------- ranked AP


def test_ranked_average_precision_by_hand():
    # ranks: TP, FP, TP with 2 true objects -> (recall, precision) = (.5, 1), (.5, .5), (1, 2/3)
    # interpolated precision: 1 up to recall .5 (51 levels), 2/3 above (50 levels)
    ap = ranked_average_precision(np.array([0.9, 0.8, 0.7]), np.array([True, False, True]), 2)
    assert ap == pytest.approx((51 + 50 * 2 / 3) / 101)
    # a false positive after the last true positive costs nothing
    ap = ranked_average_precision(np.array([0.9, 0.8, 0.1]), np.array([True, True, False]), 2)
    assert ap == 1.0
    # a missed object caps recall
    assert ranked_average_precision(np.array([0.9]), np.array([True]), 2) == pytest.approx(51 / 101)


def test_ranked_average_precision_ties_form_one_operating_point():
    is_tp = np.array([True, False, True, False])
    scores = np.ones(4)
    # one point: recall 1, precision 1/2 -> every level interpolates to 1/2
    assert ranked_average_precision(scores, is_tp, 2) == pytest.approx(0.5)
    assert ranked_average_precision(scores, is_tp[::-1].copy(), 2) == pytest.approx(0.5)


def test_ranked_average_precision_empty_convention():
    none = np.zeros(0)
    assert ranked_average_precision(none, none.astype(bool), 0) == 1.0
    assert ranked_average_precision(np.array([0.5]), np.array([False]), 0) == 0.0
    assert ranked_average_precision(none, none.astype(bool), 3) == 0.0


def test_greedy_match_takes_best_unmatched_true_object():
    # prediction 0 overlaps true 0 (IoU .6); prediction 1 overlaps true 0 (.9) and true 1 (.55)
    ti = np.array([0, 0, 1])
    pj = np.array([0, 1, 1])
    iou = np.array([0.6, 0.9, 0.55])
    rank = np.array([1, 0])  # prediction 1 first: takes its best, true 0; prediction 0 is left with nothing
    assert greedy_match(ti, pj, iou, rank, 0.5).tolist() == [False, True]
    rank = np.array([0, 1])  # prediction 0 first: takes true 0; prediction 1 falls back to true 1
    assert greedy_match(ti, pj, iou, rank, 0.5).tolist() == [True, True]
    assert greedy_match(ti, pj, iou, rank, 0.58).tolist() == [True, False]


# ----------------------------------------------------------------- COCO AP


def _coco_oracle(y_trues, y_preds, scores, thr):
    """pycocotools' evaluateImg + accumulate for one category, no crowd, no area range,
    no detection cap, transliterated on dense IoU matrices computed pixel by pixel."""
    all_scores, all_matched, n_gt = [], [], 0
    for y_true, y_pred, sc in zip(y_trues, y_preds, scores):
        gt_ids = [g for g in np.unique(y_true) if g]
        dt_ids = sorted((d for d in np.unique(y_pred) if d), key=lambda d: -sc[d])
        ious = np.array(
            [
                [np.sum((y_pred == d) & (y_true == g)) / np.sum((y_pred == d) | (y_true == g)) for g in gt_ids]
                for d in dt_ids
            ]
        ).reshape(len(dt_ids), len(gt_ids))
        gtm = [0] * len(gt_ids)
        for di, d in enumerate(dt_ids):
            iou, m = min(thr, 1 - 1e-10), -1
            for gi in range(len(gt_ids)):
                if gtm[gi] > 0:
                    continue
                if ious[di, gi] < iou:
                    continue
                iou, m = ious[di, gi], gi
            all_scores.append(sc[d])
            all_matched.append(m != -1)
            if m != -1:
                gtm[m] = 1
        n_gt += len(gt_ids)
    order = np.argsort(-np.array(all_scores), kind="mergesort")
    tps = np.array(all_matched, bool)[order]
    tp = np.cumsum(tps).astype(float)
    fp = np.cumsum(~tps).astype(float)
    rc = tp / n_gt
    pr = list(tp / (fp + tp + np.spacing(1)))
    for i in range(len(pr) - 1, 0, -1):
        if pr[i] > pr[i - 1]:
            pr[i - 1] = pr[i]
    rec_thrs = np.linspace(0.0, 1.0, 101)
    q = np.zeros(101)
    for ri, pi in enumerate(np.searchsorted(rc, rec_thrs, side="left")):
        if pi < len(pr):
            q[ri] = pr[pi]
    return q.mean()


@pytest.mark.parametrize("seed", range(4))
def test_coco_ap_equals_pycocotools_logic(seed, lab):
    rng = np.random.default_rng(seed)
    ys, ps, ss = [], [], []
    for _ in range(3):
        y = lab.blob_labels((30, 36), int(rng.integers(2, 10)), rng, scale_ids=False)
        p = lab.split_labels(lab.shift_labels(y, int(rng.integers(0, 3)), 1), rng, 0.3)
        p = np.where(rng.random() < 0.5, p, lab.merge_labels(p, rng))
        ids = np.unique(p)
        ss.append({int(i): float(rng.random()) for i in ids if i})
        ys.append(y)
        ps.append(p)
    thresholds = (0.3, 0.5, 0.75)
    ours = coco_average_precision(ys, ps, ss, thresholds=thresholds)
    for t, ap in zip(thresholds, ours.ap):
        assert ap == pytest.approx(_coco_oracle(ys, ps, ss, t), abs=1e-12)
    assert ours.n_true == sum(len(np.unique(y)) - 1 for y in ys)


def test_coco_ap_scores_as_array_or_mapping_and_at():
    y_true = np.array([[1, 1, 0, 2, 2]])
    y_pred = np.array([[1, 1, 0, 3, 0]])
    a = coco_average_precision(y_true, y_pred, {1: 0.9, 3: 0.6})
    b = coco_average_precision(y_true, y_pred, np.array([0, 0.9, 0, 0.6]))
    assert a == b
    assert a.at(0.5) == 1.0 and a.at(0.75) == pytest.approx(51 / 101)
    assert a.mean_ap == pytest.approx((1.0 + 9 * 51 / 101) / 10)
    with pytest.raises(ValueError, match=r"`threshold` must be one of"):
        a.at(0.42)


def test_coco_ap_validation():
    y = np.array([[1, 0, 2]])
    with pytest.raises(ValueError, match=r"`scores` has no score for predicted labels \[2\]"):
        coco_average_precision(y, y, {1: 0.5})
    with pytest.raises(ValueError, match=r"`scores` \(shape \(2,\)\) must be indexable by every predicted label"):
        coco_average_precision(y, y, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"`scores\[1\]` has no score"):
        coco_average_precision([y, y], [y, y], [{1: 1, 2: 1}, {}])
    with pytest.raises(TypeError, match=r"one mapping or array per image"):
        coco_average_precision([y], [y], {1: 1, 2: 1})


def test_the_two_average_precisions_differ():
    """Many low-confidence false positives: COCO AP ignores them, ap_dsb does not."""
    y_true = np.zeros((6, 12), int)
    y_true[0:2, 0:2] = 1
    y_true[0:2, 4:6] = 2
    y_pred = y_true.copy()
    y_pred[4:6, 0:2], y_pred[4:6, 4:6], y_pred[4:6, 8:10] = 3, 4, 5  # 3 spurious objects
    scores = {1: 0.9, 2: 0.8, 3: 0.2, 4: 0.1, 5: 0.05}
    assert coco_average_precision(y_true, y_pred, scores).mean_ap == 1.0
    assert ap_dsb_sweep(y_true, y_pred).mean_ap_dsb == 2 / 5
    assert match_instances(y_true, y_pred).precision == 2 / 5


def test_coco_ap_empty_convention():
    z = np.zeros((3, 3), int)
    assert coco_average_precision(z, z, {}).mean_ap == 1.0
    y = z.copy()
    y[0, 0] = 1
    assert coco_average_precision(z, y, {1: 0.5}).mean_ap == 0.0
    assert coco_average_precision(y, z, {}).mean_ap == 0.0
