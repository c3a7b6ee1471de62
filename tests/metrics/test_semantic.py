"""Semantic (pixel) metrics against scikit-learn and scikit-image."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from bench.metrics import PER_CLASS_METRICS, semantic_metrics
from bench.metrics.semantic import class_boundary

sk = pytest.importorskip("sklearn.metrics", reason="the cross-checks need scikit-learn")


def test_golden():
    y_true = np.array([[0, 0, 1, 1, 1], [0, 0, 1, 1, 1]])
    y_pred = np.array([[0, 1, 1, 1, 1], [0, 0, 1, 1, 0]])
    r = semantic_metrics(y_true, y_pred)
    assert r.confusion.tolist() == [[3, 1], [1, 5]]
    assert r.tp.tolist() == [3, 5] and r.fp.tolist() == [1, 1] and r.fn.tolist() == [1, 1] and r.tn.tolist() == [5, 3]
    assert r.iou.tolist() == pytest.approx([3 / 5, 5 / 7])
    assert r.dice.tolist() == pytest.approx([6 / 8, 10 / 12])
    assert r.precision.tolist() == pytest.approx([3 / 4, 5 / 6])
    assert r.recall.tolist() == pytest.approx([3 / 4, 5 / 6])
    assert r.specificity.tolist() == pytest.approx([5 / 6, 3 / 4])
    assert r.accuracy.tolist() == pytest.approx([0.8, 0.8])
    assert r.global_accuracy == 0.8
    assert r.mean("iou") == pytest.approx((3 / 5 + 5 / 7) / 2)
    assert r.weighted("iou") == pytest.approx((4 * 3 / 5 + 6 * 5 / 7) / 10)
    assert pickle.loads(pickle.dumps(r)).confusion.tolist() == r.confusion.tolist()


def test_boundary_f1_by_hand():
    y_true = np.zeros((4, 6), int)
    y_true[:, 3:] = 1  # boundaries: column 2 (class 0) and column 3 (class 1)
    y_pred = np.zeros((4, 6), int)
    y_pred[:, 4:] = 1  # shifted by one pixel
    assert semantic_metrics(y_true, y_pred, boundary_tolerance=1).boundary_f1.tolist() == [1.0, 1.0]
    r = semantic_metrics(y_true, y_pred, boundary_tolerance=0)
    assert r.boundary_f1.tolist() == [0.0, 0.0]
    assert r.boundary_counts.tolist() == [[0, 4, 0, 4], [0, 4, 0, 4]]
    assert semantic_metrics(y_true, y_true, boundary_tolerance=0).boundary_f1.tolist() == [1.0, 1.0]


def test_class_boundary_equals_skimage_inner_boundary():
    seg = pytest.importorskip("skimage.segmentation")
    rng = np.random.default_rng(0)
    for _ in range(10):
        mask = rng.random((20, 25)) < rng.uniform(0.2, 0.9)
        assert np.array_equal(class_boundary(mask), seg.find_boundaries(mask, mode="inner"))


@pytest.mark.parametrize("seed", range(8))
def test_equals_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 5))
    y_true = rng.integers(0, k, (15, 18))
    y_pred = np.where(rng.random((15, 18)) < 0.7, y_true, rng.integers(0, k + 1, (15, 18)))
    r = semantic_metrics(y_true, y_pred)
    t, p = y_true.ravel(), y_pred.ravel()
    labels = np.union1d(t, p)
    assert np.array_equal(r.confusion, sk.confusion_matrix(t, p, labels=np.arange(r.n_classes)))
    assert r.global_accuracy == pytest.approx(sk.accuracy_score(t, p))
    present = r.present
    assert np.array_equal(np.flatnonzero(present), labels)
    assert r.iou[present] == pytest.approx(sk.jaccard_score(t, p, labels=labels, average=None, zero_division=0))
    assert r.dice[present] == pytest.approx(sk.f1_score(t, p, labels=labels, average=None, zero_division=0))
    assert r.precision[present] == pytest.approx(sk.precision_score(t, p, labels=labels, average=None, zero_division=0))
    assert r.recall[present] == pytest.approx(sk.recall_score(t, p, labels=labels, average=None, zero_division=0))
    spec = [sk.recall_score(t != c, p != c, zero_division=0) for c in labels]
    assert r.specificity[present] == pytest.approx(spec)
    for name, fn in (("iou", sk.jaccard_score), ("dice", sk.f1_score), ("precision", sk.precision_score), ("recall", sk.recall_score)):
        for avg in ("macro", "weighted"):
            want = fn(t, p, average=avg, zero_division=0)
            got = r.mean(name) if avg == "macro" else r.weighted(name)
            assert got == pytest.approx(want), (name, avg)


def test_absent_classes_are_nan_and_left_out():
    y = np.array([[0, 0, 2, 2]])
    r = semantic_metrics(y, y, n_classes=4)
    assert np.isnan(r.iou[1]) and np.isnan(r.iou[3]) and np.isnan(r.boundary_f1[3])
    assert r.mean("iou") == 1.0 and r.weighted("dice") == 1.0
    for name in PER_CLASS_METRICS:
        assert r.mean(name) == 1.0, name


def test_dataset_pools_counts():
    rng = np.random.default_rng(3)
    ys = [rng.integers(0, 3, (10, 12)) for _ in range(3)]
    ps = [np.where(rng.random(y.shape) < 0.8, y, 0) for y in ys]
    pooled = semantic_metrics(ys, ps, n_classes=3)
    single = [semantic_metrics(y, p, n_classes=3) for y, p in zip(ys, ps)]
    assert np.array_equal(pooled.confusion, sum(s.confusion for s in single))
    assert np.array_equal(pooled.boundary_counts, sum(s.boundary_counts for s in single))
    assert pooled.n_images == 3


def test_validation():
    y = np.array([[0, 1, 3]])
    with pytest.raises(ValueError, match=r"`n_classes` is 3 but the inputs hold class 3"):
        semantic_metrics(y, y, n_classes=3)
    with pytest.raises(ValueError, match=r"`y_true` \(shape \(1, 3\)\) must have the same shape as `y_pred`"):
        semantic_metrics(y, y[:, :2])
    with pytest.raises(TypeError, match=r"`y_pred` must hold integer labels"):
        semantic_metrics(y, y.astype(float))
    with pytest.raises(ValueError, match=r"`metric` must be one of"):
        semantic_metrics(y, y).mean("jaccard")
    with pytest.raises(ValueError, match=r"`boundary_tolerance` must be a non-negative"):
        semantic_metrics(y, y, boundary_tolerance=-1)


def test_boundaries_can_be_skipped():
    y_true = np.array([[0, 0, 1, 1, 1], [0, 0, 1, 1, 1]])
    y_pred = np.array([[0, 1, 1, 1, 1], [0, 0, 1, 1, 0]])
    fast = semantic_metrics(y_true, y_pred, boundary_tolerance=None)
    full = semantic_metrics(y_true, y_pred)
    assert np.array_equal(fast.confusion, full.confusion)
    assert np.all(np.isnan(fast.boundary_f1)) and np.isnan(fast.mean("boundary_f1"))
    assert fast.mean("iou") == full.mean("iou")


@pytest.mark.parametrize("tolerance", [0.0, 1.0, 1.5, 2.0, 2.5, 5 ** 0.5, 3.0, 7.9, 12.0])
@pytest.mark.parametrize("ndim", [2, 3])
def test_boundary_zone_equals_the_distance_transform(tolerance, ndim):
    """The tolerance zone found by dilation (small balls) or by a distance transform (large
    ones) counts exactly the pixels whose Euclidean distance transform is <= tolerance."""
    from scipy import ndimage as ndi

    from bench.metrics.semantic import _MAX_BALL_PIXELS, _ball, _near

    rng = np.random.default_rng(int(tolerance * 10) + ndim)
    shape = (64, 80) if ndim == 2 else (20, 24, 28)
    for density in (0.002, 0.05, 0.3):
        target = rng.random(shape) < density
        pixels = rng.random(shape) < 0.2
        reference = int(np.count_nonzero(ndi.distance_transform_edt(~target)[pixels] <= tolerance))
        assert _near(target, pixels, tolerance) == reference
    # both paths are exercised by the parameters above
    assert any(_ball(t, 2).sum() > _MAX_BALL_PIXELS for t in (12.0,))
    assert _ball(2.0, 2).sum() <= _MAX_BALL_PIXELS
