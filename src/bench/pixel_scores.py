"""The papers' own pixel quantities, from a run's ``pixels`` table.

The leaderboards rank by object scores; the papers the experiments chapters compare
against report pixel scores. :func:`pixel_scores` turns the per-image, per-class
counts that scoring stores (:data:`bench.scoring.TABLE_COLUMNS` ``["pixels"]``) into
those quantities, pooled over the images and seeds of each group:

``pixel_iou``, ``pixel_dice``
    IoU and Dice (= pixel F1) of the foreground against the background: LysoQuant's
    "IoU" and "F1" (binary datasets; NaN for datasets with more than two classes).
``global_iou``, ``mean_iou``, ``weighted_iou``, ``global_accuracy``, ``mean_accuracy``, ``mean_bfscore``
    The aggregates of the CDL/MDL paper (MATLAB's ``evaluateSemanticSegmentation``):
    micro-averaged, class-averaged and class-size-weighted IoU over every class
    (background included), pixel accuracy, class-averaged recall, and the BF score
    averaged over classes per image and then over images (tolerance: MATLAB's
    default, 0.75 % of the image diagonal).
``cellular_f1``, ``cellular_jaccard``
    The CELLULAR protocol as read here: per-image foreground Dice and IoU averaged
    over images (:func:`bench.metrics.cellular_scores`).

Definitions: :class:`bench.metrics.PixelCounts`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .metrics.pixel import PixelCounts, cellular_scores
from .aggregate import GROUP, _groups

__all__ = ["PIXEL_SCORES", "pixel_scores"]

#: Columns of :func:`pixel_scores` after the group columns and ``n_images``.
PIXEL_SCORES = ("pixel_iou", "pixel_dice", "global_iou", "mean_iou", "weighted_iou", "global_accuracy",
                "mean_accuracy", "mean_bfscore", "cellular_f1", "cellular_jaccard")

_COUNTS = ("tp", "fp", "fn", "tn", "bf_pred_matched", "bf_pred", "bf_true_matched", "bf_true")


def _counts(g: pd.DataFrame) -> PixelCounts:
    k = int(g["class_id"].max()) + 1
    keys = [c for c in ("seed", "image") if c in g.columns]
    images = list(g.groupby(keys, sort=True)) if keys else [((), g)]
    arr = np.zeros((len(images), k, len(_COUNTS)), np.int64)
    for i, (_, gi) in enumerate(images):
        arr[i, gi["class_id"].to_numpy(int)] = gi[list(_COUNTS)].to_numpy(np.int64)
    return PixelCounts(arr)


def pixel_scores(df: pd.DataFrame, *, by: Sequence[str] = GROUP) -> pd.DataFrame:
    """Pixel scores of every group of ``pixels`` rows, pooled over images (and seeds).

    Parameters
    ----------
    df : DataFrame
        ``pixels`` rows (``RunResults.rows["pixels"]`` or ``Scores["pixels"]``).
    by : sequence of str, optional
        Group columns (default ``dataset, method_id``).

    Returns
    -------
    DataFrame
        `by`, ``n_images`` (image x seed units), then :data:`PIXEL_SCORES`.
    """
    missing = [c for c in ("class_id", *_COUNTS) if c not in df.columns]
    if missing:
        raise ValueError(f"`df` must be a `pixels` table; it lacks column(s) {missing}")
    out = []
    for key, g in _groups(df, by):
        c = _counts(g)
        binary = c.counts.shape[1] == 2
        f1, jac = cellular_scores(c) if binary else (float("nan"), float("nan"))
        out.append({
            **dict(zip(by, key)), "n_images": c.n_images,
            "pixel_iou": float(c.per_class("iou")[1]) if binary else float("nan"),
            "pixel_dice": float(c.per_class("dice")[1]) if binary else float("nan"),
            "global_iou": c.global_iou, "mean_iou": c.mean("iou"), "weighted_iou": c.weighted("iou"),
            "global_accuracy": c.global_accuracy, "mean_accuracy": c.mean("accuracy"),
            "mean_bfscore": c.mean_bfscore, "cellular_f1": f1, "cellular_jaccard": jac,
        })
    return pd.DataFrame(out, columns=[*by, "n_images", *PIXEL_SCORES])
