"""From the U-Net's pixel-class probabilities to instances, classes and scores (numpy only)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import ndimage as ndi

from ._targets import BACKGROUND, FIRST_OBJECT_CLASS
from ...metrics import match_instances

__all__ = [
    "Thresholds",
    "instances_from_probs",
    "object_classes",
    "object_scores",
    "tune_thresholds",
    "FG_GRID",
    "SEED_GRID",
    "CI_FG_GRID",
    "CI_SEED_GRID",
]

#: Foreground-probability thresholds tried on the validation split.
FG_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: Interior-probability (seed) thresholds tried on the validation split.
SEED_GRID = (0.3, 0.5, 0.7, 0.85)
#: The small grids of the ``ci`` profile (tests: seconds, not quality).
CI_FG_GRID = (0.5, 0.7)
CI_SEED_GRID = (0.5, 0.7)


@dataclass(frozen=True)
class Thresholds:
    """Post-processing parameters, chosen on validation data and saved with the model.

    Attributes
    ----------
    fg : float
        A pixel is foreground when ``1 - p(background) > fg``.
    seed : float
        A foreground pixel seeds an object when ``p(interior) > seed``.
    min_size : int
        Objects smaller than this (pixels at the network's working scale) are removed.
    val_f1 : float or None
        Pooled F1 at IoU 0.5 of these thresholds on the validation split.
    """

    fg: float = 0.5
    seed: float = 0.5
    min_size: int = 1
    val_f1: float | None = None


def _check_probs(probs: np.ndarray) -> None:
    if probs.ndim != 3 or probs.shape[0] < FIRST_OBJECT_CLASS + 1:
        raise ValueError(
            f"`probs` must be (2 + K, M, N) class probabilities with K >= 1, got shape {probs.shape}"
        )


def instances_from_probs(probs: np.ndarray, *, fg: float, seed: float, min_size: int) -> np.ndarray:
    """Instance labels from pixel-class probabilities.

    1. ``mask = 1 - p(background) > fg``;
    2. seeds = connected components (4-connectivity) of ``mask & p(interior) > seed``,
       where ``p(interior)`` sums the object-class channels, so a boundary line
       between touching objects splits their seeds;
    3. seeds grow over ``mask`` by a watershed of ``-p(interior)`` (the ridge
       is the predicted boundary);
    4. mask components holding no seed become objects of their own; objects
       smaller than `min_size` pixels are removed; ids are made consecutive.

    Parameters
    ----------
    probs : (2 + K, M, N) ndarray of float
        Softmax output: background, boundary, K object classes.
    fg, seed : float
        Thresholds (see :class:`Thresholds`).
    min_size : int
        Smallest object kept, in pixels.

    Returns
    -------
    (M, N) ndarray of int32

    Examples
    --------
    Two objects touching along a predicted boundary column:

    >>> p = np.zeros((3, 4, 5), np.float32)
    >>> p[0] = 1.0; p[0, :, 1:4] = 0.0
    >>> p[2, :, 1:4] = 1.0; p[2, :, 2] = 0.0; p[1, :, 2] = 1.0
    >>> lab = instances_from_probs(p, fg=0.5, seed=0.5, min_size=1)
    >>> int(lab.max()), lab[:, 1].tolist(), lab[:, 3].tolist(), bool((lab[:, 2] > 0).all())
    (2, [1, 1, 1, 1], [2, 2, 2, 2], True)
    """
    from skimage.segmentation import relabel_sequential, watershed

    _check_probs(probs)
    interior = probs[FIRST_OBJECT_CLASS:].sum(axis=0)
    mask = (1.0 - probs[BACKGROUND]) > fg
    seeds, n = ndi.label(mask & (interior > seed))
    if n:
        labels = watershed(-interior, markers=seeds, mask=mask).astype(np.int32)
    else:
        labels = np.zeros(mask.shape, np.int32)
    rest = mask & (labels == 0)
    if rest.any():
        extra, m = ndi.label(rest)
        labels[extra > 0] = extra[extra > 0] + labels.max()
    if min_size > 1 and labels.any():
        area = np.bincount(labels.ravel())
        small = area < min_size
        small[0] = False
        labels[small[labels]] = 0
    return relabel_sequential(labels)[0].astype(np.int32)


def _object_means(values: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each (C, M, N) channel over each object; ids present in `labels`."""
    flat = labels.ravel()
    n = int(flat.max()) + 1
    count = np.bincount(flat, minlength=n).astype(np.float64)
    ids = np.flatnonzero(count[1:]) + 1
    sums = np.stack([np.bincount(flat, weights=v.ravel(), minlength=n) for v in values])
    return ids, sums[:, ids] / count[ids]


def object_classes(probs: np.ndarray, labels: np.ndarray) -> dict[int, int]:
    """Class of each object: the object class with the highest mean probability inside it.

    >>> p = np.zeros((4, 1, 3), np.float32); p[2, 0, 0] = 1; p[3, 0, 2] = 1
    >>> object_classes(p, np.array([[1, 0, 2]]))
    {1: 0, 2: 1}
    """
    _check_probs(probs)
    ids, means = _object_means(probs[FIRST_OBJECT_CLASS:], labels)
    return {int(i): int(k) for i, k in zip(ids, means.argmax(axis=0))}


def object_scores(probs: np.ndarray, labels: np.ndarray) -> dict[int, float]:
    """Confidence of each object: its mean foreground probability ``1 - p(background)``.

    >>> p = np.zeros((3, 1, 2), np.float32); p[0] = [0.2, 0.6]; p[2] = [0.8, 0.4]
    >>> object_scores(p, np.array([[1, 1]]))
    {1: 0.6}
    """
    _check_probs(probs)
    ids, means = _object_means((1.0 - probs[BACKGROUND])[None], labels)
    return {int(i): round(float(s), 6) for i, s in zip(ids, means[0])}


def tune_thresholds(
    probs: Sequence[np.ndarray],
    truth: Sequence[np.ndarray],
    *,
    min_sizes: Sequence[int],
    fg_grid: Sequence[float] = FG_GRID,
    seed_grid: Sequence[float] = SEED_GRID,
) -> Thresholds:
    """Post-processing thresholds with the best pooled F1 at IoU 0.5 on validation images.

    A coordinate search: every (`fg`, `seed`) pair of the grids with the first
    of `min_sizes`, then every one of `min_sizes` with the best pair. Ties are
    broken by the mean matched IoU, then by grid order. The F1 is computed with
    :func:`bench.metrics.match_instances`, pooled over images (counts are
    summed before the ratio).

    Parameters
    ----------
    probs : sequence of (2 + K, M, N) ndarray
        Validation probabilities (at the working scale).
    truth : sequence of (M, N) ndarray of int
        Validation instance labels at the same scale.
    min_sizes : sequence of int
        Candidate smallest object sizes (pixels), the first being the default.
    """
    if len(probs) != len(truth) or not probs:
        raise ValueError(f"need as many truth images as probability maps (>0), got {len(truth)} and {len(probs)}")
    if not min_sizes:
        raise ValueError("`min_sizes` must name at least one size")

    def score(fg, seed, min_size):
        tp = n_true = n_pred = 0
        siou = 0.0
        for p, t in zip(probs, truth):
            r = match_instances(y_true=t, y_pred=instances_from_probs(p, fg=fg, seed=seed, min_size=min_size))
            tp, n_true, n_pred, siou = tp + r.tp, n_true + r.n_true, n_pred + r.n_pred, siou + r.sum_matched_iou
        f1 = 1.0 if n_true + n_pred == 0 else 2 * tp / (n_true + n_pred)
        return round(f1, 9), round(siou / tp if tp else 0.0, 9)

    def best_of(candidates):
        best, best_key = None, None
        for c in candidates:
            key = score(*c)
            if best_key is None or key > best_key:
                best, best_key = c, key
        return best, best_key

    (fg, seed, _), _ = best_of([(f, s, min_sizes[0]) for f, s in itertools.product(fg_grid, seed_grid)])
    (fg, seed, min_size), key = best_of([(fg, seed, int(m)) for m in dict.fromkeys(min_sizes)])
    return Thresholds(fg=fg, seed=seed, min_size=min_size, val_f1=round(key[0], 6))
