"""Pixel scores as the papers report them, cross-checked with scikit-learn and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, jaccard_score

from bench.metrics.pixel import PixelCounts, bf_tolerance, cellular_scores, pixel_counts

from .conftest import blob_labels


def _random_pairs(seed, n=3, shape=(40, 48), k=None):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = blob_labels(shape, 12, rng)
        p = blob_labels(shape, 10, rng)
        if k is not None:
            t, p = t % k, p % k
        out.append((t, p))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_foreground_iou_and_dice_match_sklearn(seed):
    pairs = _random_pairs(seed)
    c = pixel_counts([t for t, _ in pairs], [p for _, p in pairs], binary=True, boundary_tolerance=None)
    yt = np.concatenate([(t > 0).ravel() for t, _ in pairs])
    yp = np.concatenate([(p > 0).ravel() for _, p in pairs])
    assert c.per_class("iou")[1] == pytest.approx(jaccard_score(yt, yp))
    assert c.per_class("dice")[1] == pytest.approx(f1_score(yt, yp))
    # Dice = 2 IoU / (1 + IoU): the identity LysoQuant's numbers satisfy
    iou = c.per_class("iou")[1]
    assert c.per_class("dice")[1] == pytest.approx(2 * iou / (1 + iou))


@pytest.mark.parametrize("seed", [3, 4])
def test_global_mean_weighted_iou_match_sklearn(seed):
    pairs = _random_pairs(seed, k=3)
    c = pixel_counts([t for t, _ in pairs], [p for _, p in pairs], n_classes=3, boundary_tolerance=None)
    yt = np.concatenate([t.ravel() for t, _ in pairs])
    yp = np.concatenate([p.ravel() for _, p in pairs])
    labels = [0, 1, 2]
    assert c.global_iou == pytest.approx(jaccard_score(yt, yp, labels=labels, average="micro"))
    assert c.mean("iou") == pytest.approx(jaccard_score(yt, yp, labels=labels, average="macro"))
    assert c.weighted("iou") == pytest.approx(jaccard_score(yt, yp, labels=labels, average="weighted"))
    assert c.mean("dice") == pytest.approx(f1_score(yt, yp, labels=labels, average="macro"))
    assert c.global_accuracy == pytest.approx(np.mean(yt == yp))


def _bf_brute(t, p, tol):
    """BF score of one class by definition: boundary pixels matched within `tol` (Euclidean)."""
    def boundary(m):
        pad = np.pad(m, 1, constant_values=True)
        inner = pad[:-2, 1:-1] & pad[2:, 1:-1] & pad[1:-1, :-2] & pad[1:-1, 2:]
        return m & ~inner
    bt, bp = np.argwhere(boundary(t)), np.argwhere(boundary(p))
    if len(bt) == 0 and len(bp) == 0:
        return 1.0
    if len(bt) == 0 or len(bp) == 0:
        return 0.0
    d = np.sqrt(((bp[:, None, :] - bt[None, :, :]) ** 2).sum(-1))
    prec = np.mean(d.min(axis=1) <= tol)
    rec = np.mean(d.min(axis=0) <= tol)
    return 0.0 if prec + rec == 0 else 2 * prec * rec / (prec + rec)


def test_bfscore_matches_brute_force_and_matlab_mean():
    pairs = _random_pairs(5, n=2, k=3)
    c = pixel_counts([t for t, _ in pairs], [p for _, p in pairs], n_classes=3, boundary_tolerance=1.5)
    per = c.per_image("bfscore")
    for i, (t, p) in enumerate(pairs):
        for k in range(3):
            assert per[i, k] == pytest.approx(_bf_brute(t == k, p == k, 1.5))
    # MATLAB's MeanBFScore: mean over classes per image, then over images
    assert c.mean_bfscore == pytest.approx(np.mean([np.nanmean(per[i]) for i in range(2)]))


def test_hand_computed_square():
    t = np.zeros((6, 7), int)
    t[1:5, 1:5] = 1  # 16 pixels
    p = np.zeros((6, 7), int)
    p[1:5, 2:6] = 1  # shifted right by one: 12 shared
    c = pixel_counts(t, p, binary=True, boundary_tolerance=0.5)
    assert c.counts[0, 1, :4].tolist() == [12, 4, 4, 22]
    assert c.per_class("iou")[1] == pytest.approx(12 / 20)
    assert c.per_class("dice")[1] == pytest.approx(24 / 32)
    # foreground boundaries: 12 pixels each; 6 shared (tolerance < 1 means exact)
    assert c.counts[0, 1, 4:].tolist() == [6, 12, 6, 12]
    assert c.per_image("bfscore")[0, 1] == pytest.approx(0.5)


def test_matlab_default_tolerance_and_cellular_protocol():
    assert bf_tolerance((100, 100)) == pytest.approx(0.0075 * np.sqrt(2) * 100)
    t1 = np.zeros((4, 4), int)
    t1[:2] = 1
    p1 = t1.copy()                      # perfect: IoU 1, Dice 1
    t2 = np.zeros((4, 4), int)
    t2[:, :2] = 1                       # 8 px
    p2 = np.zeros((4, 4), int)
    p2[:, :1] = 1                       # 4 px inside: IoU 0.5, Dice 2/3
    c = pixel_counts([t1, t2], [p1, p2], binary=True, boundary_tolerance=None)
    f1, jac = cellular_scores(c)
    assert f1 == pytest.approx((1 + 2 / 3) / 2)
    assert jac == pytest.approx((1 + 0.5) / 2)
    # the pooled score weighs pixels, not images: 12 / 16
    assert c.per_class("iou")[1] == pytest.approx(12 / 16)


def test_empty_images_and_bad_input():
    z = np.zeros((5, 5), int)
    c = pixel_counts(z, z, binary=True)
    assert np.isnan(c.per_class("iou")[1]) and c.per_class("iou")[0] == 1.0
    assert cellular_scores(c) == (1.0, 1.0)
    with pytest.raises(ValueError, match="same, non-zero"):
        pixel_counts([z], [], binary=True)
    with pytest.raises(TypeError, match="ndarrays"):
        pixel_counts(z, [z])
    with pytest.raises(ValueError, match="boundary_tolerance"):
        pixel_counts(z, z, boundary_tolerance="nearest")
    with pytest.raises(ValueError, match="shape"):
        PixelCounts(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="metric"):
        c.per_class("accuracy_score")
    with pytest.raises(ValueError, match="binary"):
        cellular_scores(pixel_counts(z, z, n_classes=3, boundary_tolerance=None))
