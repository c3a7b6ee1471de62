"""Detection scored against bounding boxes (YOLO ground truth, e.g. ``cellular-boxes``).

Boxes are YOLO rows ``(class, x_center, y_center, width, height)`` normalised to
[0, 1] by the image width (x, columns) and height (y, rows), the format of
:attr:`bench.data.Sample.boxes`. A predicted instance label image becomes boxes with
:func:`boxes_from_labels`; the boxes of each object enclose its pixels (pixel
edges, so a one-pixel object has width ``1 / image_width``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_label_image, check_thresholds, ratio
from .average_precision import COCO_THRESHOLDS, greedy_match, ranked_average_precision
from .matching import _Matcher, pool_results

__all__ = ["boxes_from_labels", "match_boxes", "detection_metrics", "DetectionResult"]

_BLOCK = 1024  # true boxes per block when computing box overlaps
_TOUCH = 1e-9  # overlaps narrower than this (in image widths / heights) are rounding errors


def boxes_from_labels(labels, *, class_id: int = 0) -> np.ndarray:
    """Bounding box of every object of a 2-d label image, as normalised YOLO rows.

    Parameters
    ----------
    labels : (M, N) ndarray of int
        Instance labels, 0 = background.
    class_id : int, optional
        Class written in the first column of every row.

    Returns
    -------
    (K, 5) ndarray of float64
        ``(class, x_center, y_center, width, height)`` per object, normalised by the
        image width ``N`` and height ``M``; rows in ascending label order
        (``np.unique(labels)[1:]``).

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((4, 5), dtype=int)
    >>> labels[1:3, 0:2] = 7
    >>> boxes_from_labels(labels)
    array([[0. , 0.2, 0.5, 0.4, 0.5]])
    """
    labels = check_label_image(labels, "labels")
    if labels.ndim != 2:
        raise ValueError(f"`labels` must be a 2-d image, got shape {labels.shape}")
    h, w = labels.shape
    flat = labels.ravel()
    idx = np.flatnonzero(flat)
    if idx.size == 0:
        return np.zeros((0, 5))
    vals = flat[idx]
    order = np.argsort(vals, kind="stable")
    vals, idx = vals[order], idx[order]
    starts = np.flatnonzero(np.r_[True, vals[1:] != vals[:-1]])
    rows, cols = np.divmod(idx, w)
    r0 = np.minimum.reduceat(rows, starts)
    r1 = np.maximum.reduceat(rows, starts) + 1
    c0 = np.minimum.reduceat(cols, starts)
    c1 = np.maximum.reduceat(cols, starts) + 1
    return np.column_stack(
        [np.full(starts.size, float(class_id)), (c0 + c1) / (2 * w), (r0 + r1) / (2 * h), (c1 - c0) / w, (r1 - r0) / h]
    )


def _check_boxes(boxes, name: str) -> np.ndarray:
    arr = np.asarray(boxes, dtype=float)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 5)
    if arr.ndim != 2 or arr.shape[1] != 5:
        raise ValueError(
            f"`{name}` must have shape (K, 5) with rows (class, x_center, y_center, width, height), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must hold finite numbers")
    if np.any(arr[:, 3:] < 0):
        raise ValueError(f"`{name}` must have non-negative widths and heights")
    return arr


def _box_pairs(true_boxes: np.ndarray, pred_boxes: np.ndarray):
    """Pairs of same-class boxes that overlap: (ti, pj, iou), sorted by (ti, pj)."""
    def corners(b):
        return b[:, 1] - b[:, 3] / 2, b[:, 2] - b[:, 4] / 2, b[:, 1] + b[:, 3] / 2, b[:, 2] + b[:, 4] / 2

    tx0, ty0, tx1, ty1 = corners(true_boxes)
    px0, py0, px1, py1 = corners(pred_boxes)
    # areas from the same corners as the intersections, so identical boxes have IoU 1
    t_area = (tx1 - tx0) * (ty1 - ty0)
    p_area = (px1 - px0) * (py1 - py0)
    out_t, out_p, out_iou = [], [], []
    for s in range(0, true_boxes.shape[0], _BLOCK):
        b = slice(s, s + _BLOCK)
        iw = np.minimum(tx1[b, None], px1[None, :]) - np.maximum(tx0[b, None], px0[None, :])
        ih = np.minimum(ty1[b, None], py1[None, :]) - np.maximum(ty0[b, None], py0[None, :])
        # boxes that only touch can overlap by a rounding error: not an overlap
        inter = np.where(iw > _TOUCH, iw, 0.0) * np.where(ih > _TOUCH, ih, 0.0)
        same = true_boxes[b, 0, None] == pred_boxes[None, :, 0]
        i, j = np.nonzero((inter > 0) & same)
        it = inter[i, j]
        out_t.append(i + s)
        out_p.append(j)
        out_iou.append(it / (t_area[i + s] + p_area[j] - it))
    if not out_t:
        z = np.zeros(0, dtype=np.intp)
        return z, z, np.zeros(0)
    return np.concatenate(out_t).astype(np.intp), np.concatenate(out_p).astype(np.intp), np.concatenate(out_iou)


def match_boxes(true_boxes, pred_boxes, *, iou_threshold=0.5):
    """Match true and predicted boxes one to one by box IoU.

    Parameters
    ----------
    true_boxes, pred_boxes : (K, 5) array_like
        YOLO rows ``(class, x_center, y_center, width, height)``, normalised.
        Boxes of different classes never match.
    iou_threshold : float or sequence of float, optional
        Minimum box IoU of a match, in (0, 1].

    Returns
    -------
    MatchResult or tuple of MatchResult
        With ``criterion="box_iou"``; ``sum_matched_iou`` sums box IoUs.

    Notes
    -----
    The matching is the optimal one-to-one assignment of
    :func:`bench.metrics.match_instances` (most pairs with IoU >= threshold, ties
    broken by the summed IoU), applied to box IoUs. Unlike pixel masks, boxes of one
    image may overlap each other, so a true box can have several candidates even
    above IoU 0.5; the assignment resolves them.

    Examples
    --------
    >>> true = [[0, 0.25, 0.5, 0.5, 1.0], [0, 0.75, 0.5, 0.5, 1.0]]
    >>> pred = [[0, 0.35, 0.5, 0.5, 1.0]]           # IoU with the first: 0.4 / 0.6
    >>> r = match_boxes(true, pred)
    >>> r.tp, r.fp, r.fn, round(r.mean_matched_iou, 4)
    (1, 0, 1, 0.6667)
    """
    thresholds, scalar = check_thresholds(iou_threshold)
    t = _check_boxes(true_boxes, "true_boxes")
    p = _check_boxes(pred_boxes, "pred_boxes")
    ti, pj, iou = _box_pairs(t, p)
    matcher = _Matcher(t.shape[0], p.shape[0], ti, pj, iou, "box_iou")
    results = tuple(matcher.result(th, matcher.matched(th)) for th in thresholds)
    return results[0] if scalar else results


@dataclass(frozen=True)
class DetectionResult:
    """Box-detection scores of a prediction, pooled over images.

    Attributes
    ----------
    iou_threshold : float
        Box IoU threshold of the one-to-one matching behind the counts.
    n_true, n_pred, tp, fp, fn : int
        Counts of that matching, summed over images.
    precision, recall, f1 : float
        ``tp / n_pred``, ``tp / n_true``, ``2 tp / (n_true + n_pred)``.
    map_50 : float
        COCO average precision at box IoU 0.5, mean over the classes that have true
        boxes ("mAP50").
    map_50_95 : float
        The same averaged over IoU 0.50:0.05:0.95 ("mAP50-95").
    classes : tuple of int
        Classes the mAP averages over.
    n_images : int
    """

    iou_threshold: float
    n_true: int
    n_pred: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    map_50: float
    map_50_95: float
    classes: tuple[int, ...]
    n_images: int


def _as_box_lists(true_boxes, pred_boxes, pred_scores):
    # a dataset is a list or tuple of (K, 5) ndarrays; anything else is one image
    single = not (
        isinstance(true_boxes, (list, tuple))
        and len(true_boxes) > 0
        and all(isinstance(b, np.ndarray) and b.ndim == 2 for b in true_boxes)
    )
    if single:
        tl, pl, sl = [true_boxes], [pred_boxes], [pred_scores]
    else:
        tl, pl = list(true_boxes), list(pred_boxes)
        if not isinstance(pred_boxes, (list, tuple)):
            raise TypeError("`pred_boxes` must be a list of (K, 5) arrays when `true_boxes` is one")
        sl = [None] * len(tl) if pred_scores is None else list(pred_scores)
    if not (len(tl) == len(pl) == len(sl)):
        raise ValueError(
            f"`true_boxes` ({len(tl)} images), `pred_boxes` ({len(pl)}) and `pred_scores` ({len(sl)}) "
            "must hold the same number of images"
        )
    if not tl:
        raise ValueError("`true_boxes` must hold at least one image, got an empty sequence")
    out = []
    for k, (t, p, s) in enumerate(zip(tl, pl, sl)):
        sfx = "" if single else f"[{k}]"
        t = _check_boxes(t, "true_boxes" + sfx)
        p = _check_boxes(p, "pred_boxes" + sfx)
        if s is None:
            s = np.ones(p.shape[0])
        else:
            s = np.asarray(s, dtype=float)
            if s.shape != (p.shape[0],):
                raise ValueError(
                    f"`pred_scores{sfx}` (shape {s.shape}) must hold one score per row of "
                    f"`pred_boxes{sfx}` (shape {p.shape})"
                )
            if not np.all(np.isfinite(s)):
                raise ValueError(f"`pred_scores{sfx}` must hold finite scores")
        out.append((t, p, s))
    return out


def detection_metrics(true_boxes, pred_boxes, *, pred_scores=None, iou_threshold=0.5) -> DetectionResult:
    """Precision, recall, F1, mAP50 and mAP50-95 of predicted boxes.

    Parameters
    ----------
    true_boxes, pred_boxes : (K, 5) array_like, or list of (K, 5) ndarray
        YOLO rows ``(class, x_center, y_center, width, height)``, normalised; one
        image, or a list with one ndarray per image for a dataset. Predicted boxes
        usually come from :func:`boxes_from_labels`.
    pred_scores : (K,) array_like, or sequence of them, optional
        Confidence of each predicted box, for the ranking behind mAP. Without
        scores every box gets the same score: the precision-recall curve has a
        single point and mAP reduces to the interpolated precision at the
        recall reached.
    iou_threshold : float, optional
        Box IoU threshold of the one-to-one matching behind precision, recall and
        F1.

    Returns
    -------
    DetectionResult

    Notes
    -----
    Precision, recall and F1 come from the optimal one-to-one matching of
    :func:`match_boxes` per image, with counts pooled over images. mAP follows
    COCO [1]_: per class, detections of all images are ranked by score and matched
    greedily (:func:`bench.metrics.average_precision.greedy_match`), AP is the
    101-point interpolated area under the precision-recall curve, and the mean is
    over the classes with at least one true box (and, for mAP50-95, over the IoU
    thresholds 0.50:0.05:0.95). With no true box at all, mAP is 1.0 if nothing was
    predicted and 0.0 otherwise (the empty-image convention).

    References
    ----------
    .. [1] T.-Y. Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014.
       :doi:`10.1007/978-3-319-10602-1_48`

    Examples
    --------
    >>> true = [[0, 0.25, 0.5, 0.5, 1.0], [0, 0.75, 0.5, 0.5, 1.0]]
    >>> pred = [[0, 0.25, 0.5, 0.5, 1.0], [0, 0.5, 0.5, 0.2, 0.2]]
    >>> r = detection_metrics(true, pred, pred_scores=[0.9, 0.4])
    >>> r.precision, r.recall, r.f1
    (0.5, 0.5, 0.5)
    >>> round(r.map_50, 4)
    0.505
    """
    thr, scalar = check_thresholds(iou_threshold)
    if not scalar:
        raise TypeError("`iou_threshold` must be a single number for `detection_metrics`")
    images = _as_box_lists(true_boxes, pred_boxes, pred_scores)
    pairs = [_box_pairs(t, p) for t, p, _ in images]
    per_image = []
    for (t, p, _), (ti, pj, iou) in zip(images, pairs):
        m = _Matcher(t.shape[0], p.shape[0], ti, pj, iou, "box_iou")
        per_image.append(m.result(thr[0], m.matched(thr[0])))
    pooled = pool_results(per_image)

    classes = tuple(sorted({int(c) for t, _, _ in images for c in np.unique(t[:, 0])}))
    n_pred_total = sum(p.shape[0] for _, p, _ in images)
    aps = np.zeros((len(classes), len(COCO_THRESHOLDS)))
    for ci, c in enumerate(classes):
        scores = np.concatenate([s[p[:, 0] == c] for _, p, s in images])
        rank_all = np.empty(scores.size, dtype=np.intp)
        rank_all[np.argsort(-scores, kind="stable")] = np.arange(scores.size)
        n_true = sum(int(np.count_nonzero(t[:, 0] == c)) for t, _, _ in images)
        for k, th in enumerate(COCO_THRESHOLDS):
            flags, start = [], 0
            for (t, p, _), (ti, pj, iou) in zip(images, pairs):
                in_c = p[:, 0] == c
                n_c = int(np.count_nonzero(in_c))
                # predicted boxes of class c, re-indexed 0..n_c-1 (pairs are same-class)
                new_index = np.cumsum(in_c) - 1
                keep = in_c[pj]
                flags.append(greedy_match(ti[keep], new_index[pj[keep]], iou[keep], rank_all[start : start + n_c], th))
                start += n_c
            is_tp = np.concatenate(flags) if flags else np.zeros(0, dtype=bool)
            aps[ci, k] = ranked_average_precision(scores, is_tp, n_true)
    if classes:
        map_50, map_50_95 = float(aps[:, 0].mean()), float(aps.mean())
    else:
        map_50 = map_50_95 = ratio(0, 0, empty=n_pred_total == 0)
    return DetectionResult(
        iou_threshold=thr[0],
        n_true=pooled.n_true,
        n_pred=pooled.n_pred,
        tp=pooled.tp,
        fp=pooled.fp,
        fn=pooled.fn,
        precision=pooled.precision,
        recall=pooled.recall,
        f1=pooled.f1,
        map_50=map_50,
        map_50_95=map_50_95,
        classes=classes,
        n_images=len(images),
    )
