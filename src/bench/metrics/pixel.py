"""Pixel scores as the papers report them: binary foreground IoU / Dice, MATLAB-style
global / mean / weighted IoU and BF score, and the CELLULAR protocol's F1 and Jaccard.

The benchmark's headline scores are object scores (:mod:`bench.metrics.matching`);
the papers it compares against report pixel scores. This module computes those from
per-image, per-class counts (what :mod:`bench.scoring` stores in its ``pixels``
table), so that they can be pooled over any set of images later:

``tp, fp, fn, tn``
    one-vs-rest pixel counts of the class in the image;
``bf_pred_matched, bf_pred, bf_true_matched, bf_true``
    boundary pixels of the class (predicted boundary pixels within the tolerance
    of a true boundary pixel, predicted boundary pixels, and the converse), as
    :func:`bench.metrics.semantic_metrics` counts them.

For an instance dataset the classes are background (0) and foreground (1: any
object); for a semantic dataset, the dataset's pixel classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._validation import check_label_image, check_same_shape
from .semantic import _boundary_counts, _div, semantic_metrics

__all__ = ["BF_TOLERANCE_FRACTION", "PixelCounts", "bf_tolerance", "cellular_scores", "pixel_counts"]

#: MATLAB's ``bfscore`` default distance tolerance: 0.75 % of the image diagonal.
BF_TOLERANCE_FRACTION = 0.0075


def bf_tolerance(shape: Sequence[int]) -> float:
    """The BF-score distance tolerance MATLAB's ``bfscore`` uses by default, in pixels.

    Examples
    --------
    >>> round(bf_tolerance((256, 256)), 3)
    2.715
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2 or min(shape) < 1:
        raise ValueError(f"`shape` must hold at least two positive sizes, got {shape}")
    return BF_TOLERANCE_FRACTION * float(np.sqrt(np.sum(np.square(shape, dtype=float))))


@dataclass(frozen=True, eq=False)
class PixelCounts:
    """Per-image, per-class pixel and boundary counts, and the scores made from them.

    Attributes
    ----------
    counts : (I, K, 8) ndarray of int64
        For image ``i`` and class ``k``: ``tp, fp, fn, tn, bf_pred_matched,
        bf_pred, bf_true_matched, bf_true``.

    Notes
    -----
    Pooled scores sum the counts over images first. With :math:`TP_k, FP_k, FN_k`
    summed over images:

    * per-class IoU :math:`= TP_k/(TP_k+FP_k+FN_k)`, Dice :math:`= 2TP_k/(2TP_k+FP_k+FN_k)`;
    * ``global_iou`` :math:`= \\sum_k TP_k / \\sum_k (TP_k+FP_k+FN_k)` (scikit-learn's
      ``jaccard_score(average="micro")``); ``global_accuracy`` :math:`= \\sum_k TP_k / N`;
    * ``mean(m)``: unweighted mean over the classes present in truth or prediction
      (MATLAB's ``MeanIoU``, scikit-learn's ``average="macro"`` over those labels);
    * ``weighted(m)``: mean weighted by the true pixels of each class (MATLAB's
      ``WeightedIoU``, scikit-learn's ``average="weighted"``);
    * ``mean_bfscore``: MATLAB's ``MeanBFScore``, the BF score of each class in each
      image, averaged over the classes present in that image, then over images.

    A ratio with a zero denominator is 0.0; a class absent from truth and
    prediction is NaN and left out of means.
    """

    counts: np.ndarray

    def __post_init__(self):
        c = np.asarray(self.counts)
        if c.ndim != 3 or c.shape[2] != 8:
            raise ValueError(f"`counts` must have shape (images, classes, 8), got {c.shape}")

    @property
    def n_images(self) -> int:
        return int(self.counts.shape[0])

    def _pooled(self) -> np.ndarray:
        return self.counts.sum(axis=0)

    @staticmethod
    def _per_class(c: np.ndarray, metric: str) -> np.ndarray:
        tp, fp, fn, tn = (c[..., i].astype(float) for i in range(4))
        present = (tp + fp + fn) > 0
        if metric == "iou":
            v = _div(tp, tp + fp + fn)
        elif metric == "dice":
            v = _div(2 * tp, 2 * tp + fp + fn)
        elif metric == "accuracy":  # MATLAB's class accuracy: the recall of the class
            v = _div(tp, tp + fn)
        elif metric == "bfscore":
            pm, pt, tm, tt = (c[..., i].astype(float) for i in range(4, 8))
            p, r = _div(pm, pt), _div(tm, tt)
            v = np.where((pt == 0) & (tt == 0), 1.0, _div(2 * p * r, p + r))
        else:
            raise ValueError(f"`metric` must be 'iou', 'dice', 'accuracy' or 'bfscore', got {metric!r}")
        return np.where(present, v, np.nan)

    def per_class(self, metric: str) -> np.ndarray:
        """(K,) per-class `metric` (``iou``, ``dice``, ``accuracy``, ``bfscore``) of the pooled counts."""
        return self._per_class(self._pooled(), metric)

    def per_image(self, metric: str) -> np.ndarray:
        """(I, K) per-class `metric` of each image."""
        return self._per_class(self.counts, metric)

    def mean(self, metric: str) -> float:
        """Unweighted mean of the pooled per-class `metric` over the classes present."""
        v = self.per_class(metric)
        return float(np.nanmean(v)) if np.any(np.isfinite(v)) else float("nan")

    def weighted(self, metric: str) -> float:
        """Mean of the pooled per-class `metric` weighted by the true pixels of each class."""
        c = self._pooled()
        w = (c[:, 0] + c[:, 2]).astype(float)
        v = self.per_class(metric)
        ok = np.isfinite(v)
        return float(np.sum(v[ok] * w[ok]) / w[ok].sum()) if w[ok].sum() > 0 else float("nan")

    @property
    def global_iou(self) -> float:
        """Micro-averaged IoU: all classes' counts summed before the ratio."""
        c = self._pooled()
        tp, fp, fn = c[:, 0].sum(), c[:, 1].sum(), c[:, 2].sum()
        return float(tp / (tp + fp + fn)) if tp + fp + fn else 1.0

    @property
    def global_accuracy(self) -> float:
        """Correctly classified pixels / all pixels."""
        c = self._pooled()
        n = c[0, 0] + c[0, 1] + c[0, 2] + c[0, 3] if len(c) else 0
        return float(c[:, 0].sum() / n) if n else 1.0

    @property
    def mean_bfscore(self) -> float:
        """MATLAB's ``MeanBFScore``: per image, the mean BF score over its classes; then the mean over images."""
        per = self.per_image("bfscore")
        ok = np.isfinite(per).any(axis=1)
        return float(np.mean(np.nanmean(per[ok], axis=1))) if ok.any() else float("nan")

    def image_mean(self, metric: str, class_id: int) -> float:
        """Mean over images of one class's per-image `metric` (images where the class is absent count 1.0).

        An image with the class in neither truth nor prediction is a perfect
        result for it (the convention of :mod:`bench.metrics`).
        """
        v = self.per_image(metric)[:, int(class_id)]
        return float(np.mean(np.where(np.isnan(v), 1.0, v))) if v.size else float("nan")


def _counts_one(t: np.ndarray, p: np.ndarray, n_classes: int, tolerance: float | None) -> np.ndarray:
    r = semantic_metrics(y_true=t, y_pred=p, n_classes=n_classes, boundary_tolerance=None)
    out = np.zeros((n_classes, 8), dtype=np.int64)
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = r.tp, r.fp, r.fn, r.tn
    if tolerance is not None:
        out[:, 4:] = _boundary_counts(t, p, n_classes, tolerance)
    return out


def pixel_counts(
    y_true, y_pred, *, n_classes: int | None = None, binary: bool = False, boundary_tolerance: float | str | None = "matlab"
) -> PixelCounts:
    """Per-image, per-class pixel and boundary counts.

    Parameters
    ----------
    y_true, y_pred : (M, N) ndarray of int, or sequence of them
        Pixel classes (or, with ``binary=True``, instance labels: 0 = background).
    n_classes : int, optional
        Number of classes (default: largest class + 1; 2 when `binary`).
    binary : bool, optional
        Score foreground (any label > 0) against background: classes 0 and 1.
    boundary_tolerance : float, "matlab" or None, optional
        Distance in pixels within which boundary pixels match; ``"matlab"``
        (default) takes MATLAB ``bfscore``'s default for each image,
        :func:`bf_tolerance`; ``None`` skips the boundaries.

    Returns
    -------
    PixelCounts

    Examples
    --------
    >>> t = np.array([[0, 1, 1, 0], [0, 2, 2, 0]])
    >>> p = np.array([[0, 1, 0, 0], [0, 3, 3, 3]])
    >>> c = pixel_counts(t, p, binary=True, boundary_tolerance=None)
    >>> c.per_class("iou").round(3).tolist(), round(c.global_accuracy, 3)
    ([0.6, 0.6], 0.75)
    """
    if isinstance(y_true, np.ndarray) and isinstance(y_pred, np.ndarray):
        pairs = [(y_true, y_pred)]
    elif isinstance(y_true, (list, tuple)) and isinstance(y_pred, (list, tuple)):
        if len(y_true) != len(y_pred) or not y_true:
            raise ValueError(
                f"`y_true` ({len(y_true)} images) and `y_pred` ({len(y_pred)} images) must hold the same, "
                "non-zero number of images"
            )
        pairs = list(zip(y_true, y_pred))
    else:
        raise TypeError("`y_true` and `y_pred` must both be ndarrays or both be lists of ndarrays")
    for i, (t, p) in enumerate(pairs):
        check_label_image(t, f"y_true[{i}]")
        check_label_image(p, f"y_pred[{i}]")
        check_same_shape(t, f"y_true[{i}]", p, f"y_pred[{i}]")
    if binary:
        pairs = [((t > 0).astype(np.int64), (p > 0).astype(np.int64)) for t, p in pairs]
        n_classes = 2 if n_classes is None else n_classes
    if n_classes is None:
        n_classes = max(int(max(t.max(initial=0), p.max(initial=0))) for t, p in pairs) + 1
    if isinstance(boundary_tolerance, str) and boundary_tolerance != "matlab":
        raise ValueError(f"`boundary_tolerance` must be a number, 'matlab' or None, got {boundary_tolerance!r}")
    out = []
    for t, p in pairs:
        tol = bf_tolerance(t.shape) if boundary_tolerance == "matlab" else boundary_tolerance
        if tol is not None and not (np.isfinite(tol) and tol >= 0):
            raise ValueError(f"`boundary_tolerance` must be non-negative, got {tol!r}")
        out.append(_counts_one(t, p, int(n_classes), tol))
    return PixelCounts(np.stack(out))


def cellular_scores(counts: PixelCounts) -> tuple[float, float]:
    """The CELLULAR protocol's F1 and Jaccard, as read here: per image, then averaged.

    Al Outa et al. (2023) score the cell segmentations of their technical validation
    with an F1 score and a Jaccard index. The paper's text was not available where
    this was written; the reading implemented is the usual one for binary cell masks
    evaluated image by image: for each test image the pixel Dice (= F1) and IoU
    (= Jaccard) of the foreground (all cells against background), then the mean over
    images. It differs from the pooled pixel scores in weighting every image the
    same, however many cells it holds.

    Parameters
    ----------
    counts : PixelCounts
        Binary counts (:func:`pixel_counts` with ``binary=True``), one row per image.

    Returns
    -------
    (f1, jaccard) : tuple of float
    """
    if counts.counts.shape[1] != 2:
        raise ValueError(f"`counts` must be binary (2 classes: background, foreground), got {counts.counts.shape[1]}")
    return counts.image_mean("dice", 1), counts.image_mean("iou", 1)
