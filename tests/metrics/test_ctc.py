"""Cell Tracking Challenge SEG."""

from __future__ import annotations

import numpy as np
import pytest

from bench.metrics import ctc_seg


def _seg_oracle(y_true, y_pred):
    """SEG object by object, straight from the definition."""
    scores = []
    for r in np.unique(y_true):
        if r == 0:
            continue
        ref = y_true == r
        j = 0.0
        for s in np.unique(y_pred[ref]):
            if s == 0:
                continue
            seg = y_pred == s
            inter = np.sum(ref & seg)
            if inter > 0.5 * ref.sum():
                j = inter / np.sum(ref | seg)
        scores.append(j)
    return scores


def test_golden():
    y_true = np.array([[1, 1, 1, 1, 0], [0, 0, 0, 0, 0], [2, 2, 0, 0, 0]])
    y_pred = np.array([[3, 3, 3, 0, 0], [0, 0, 0, 0, 0], [4, 0, 0, 0, 0]])
    # object 1: 3 of 4 pixels covered by 3 -> J = 3/4; object 2: exactly half -> not > 50 %
    assert ctc_seg(y_true, y_pred) == pytest.approx(0.375)
    # false positives are not penalised
    y_pred[1, :] = 9
    assert ctc_seg(y_true, y_pred) == pytest.approx(0.375)
    assert ctc_seg(y_true, y_true) == 1.0


def test_empty_convention():
    z = np.zeros((2, 2), int)
    y = np.array([[0, 1], [0, 0]])
    assert ctc_seg(z, z) == 1.0
    assert ctc_seg(z, y) == 0.0
    assert ctc_seg(y, z) == 0.0


def test_random_blobs_match_definition(lab):
    rng = np.random.default_rng(5)
    for _ in range(5):
        y_true = lab.blob_labels((40, 40), 15, rng)
        y_pred = lab.PERTURBATIONS[str(rng.choice(list(lab.PERTURBATIONS)))](y_true, rng)
        assert ctc_seg(y_true, y_pred) == pytest.approx(np.mean(_seg_oracle(y_true, y_pred)))


def test_gowt1_dataset_pools_over_all_reference_objects(gowt1_masks, lab):
    rng = np.random.default_rng(2)
    ys = [y for _, y in gowt1_masks[:3]]
    ps = [lab.PERTURBATIONS[k](y, rng) for y, k in zip(ys, ("eroded", "split", "shifted"))]
    want = np.mean(sum((_seg_oracle(y, p) for y, p in zip(ys, ps)), []))
    assert ctc_seg(ys, ps) == pytest.approx(want)
    assert ctc_seg(ys, ys) == 1.0
