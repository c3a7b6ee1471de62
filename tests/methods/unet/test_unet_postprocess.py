import numpy as np
import pytest

from bench.methods.unet._postprocess import (
    instances_from_probs,
    object_classes,
    object_scores,
    tune_thresholds,
)
from bench.methods.unet._targets import instance_targets


def _probs_from_targets(target, n_out, *, sharp=0.9):
    """Soft one-hot probabilities of a target map."""
    p = np.full((n_out, *target.shape), (1 - sharp) / (n_out - 1), np.float32)
    for c in range(n_out):
        p[c][target == c] = sharp
    return p


def _two_touching():
    lab = np.zeros((30, 40), np.int32)
    lab[5:25, 5:20] = 1
    lab[5:25, 20:35] = 2
    return lab


def test_perfect_probabilities_give_back_the_instances():
    lab = _two_touching()
    lab[27:29, 2:4] = 3  # a tiny object without interior rim
    t = instance_targets(lab, {1: 0, 2: 1, 3: 0}, 2)
    pred = instances_from_probs(_probs_from_targets(t, 4), fg=0.5, seed=0.5, min_size=1)
    from bench.metrics import match_instances

    r = match_instances(y_true=lab, y_pred=pred, iou_threshold=0.9)
    assert r.tp == 3 and r.fp == 0 and r.fn == 0
    assert pred.dtype == np.int32


def test_without_a_boundary_touching_objects_merge():
    lab = _two_touching()
    t = instance_targets(lab, None, 1)
    t[t == 1] = 2  # forget the boundary class
    pred = instances_from_probs(_probs_from_targets(t, 3), fg=0.5, seed=0.5, min_size=1)
    assert pred.max() == 1


def test_min_size_and_unseeded_components():
    p = np.zeros((3, 10, 10), np.float32)
    p[0] = 1.0
    p[0, 1:3, 1:3] = 0.0
    p[1, 1:3, 1:3] = 1.0  # foreground but all boundary: no seed, becomes its own object
    p[0, 6:7, 6:7] = 0.0
    p[2, 6:7, 6:7] = 1.0  # a 1-pixel object
    lab = instances_from_probs(p, fg=0.5, seed=0.5, min_size=1)
    assert lab.max() == 2
    lab = instances_from_probs(p, fg=0.5, seed=0.5, min_size=2)
    assert lab.max() == 1 and (lab[1:3, 1:3] == 1).all()


def test_classes_and_scores():
    lab = _two_touching()
    t = instance_targets(lab, {1: 1, 2: 0}, 2)
    p = _probs_from_targets(t, 4)
    assert object_classes(p, lab) == {1: 1, 2: 0}
    s = object_scores(p, lab)
    assert set(s) == {1, 2} and all(0.5 < v <= 1.0 for v in s.values())
    with pytest.raises(ValueError, match="`probs` must be"):
        object_classes(p[:2], lab)


def test_tuning_picks_thresholds_that_work():
    lab = _two_touching()
    t = instance_targets(lab, None, 1)
    p = _probs_from_targets(t, 3, sharp=0.9)
    # make the interior weak so that only a low seed threshold finds the objects,
    # and the background so uncertain that only a high fg threshold rejects it
    p[2][t == 2] = 0.4
    p[1][t == 2] = 0.5
    p[0][t == 2] = 0.1
    p[0][t == 0] = 0.45
    p[1][t == 0] = 0.55
    p[2][t == 0] = 0.0
    th = tune_thresholds([p], [lab], min_sizes=[1, 1000])
    assert th.val_f1 == 1.0
    assert th.seed < 0.4 and th.fg >= 0.6 and th.min_size == 1
    with pytest.raises(ValueError, match="need as many"):
        tune_thresholds([p], [], min_sizes=[1])
