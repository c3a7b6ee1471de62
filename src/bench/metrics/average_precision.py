"""The two things called "average precision", kept apart.

* ``ap_dsb`` -- ``TP / (TP + FP + FN)`` at one IoU threshold, from a one-to-one
  matching of label images, with no scores involved. The 2018 Data Science Bowl
  averaged it over the IoU thresholds 0.50:0.05:0.95; Cellpose calls it "average
  precision", StarDist "accuracy". :func:`ap_dsb_sweep` computes it.
* COCO average precision -- the area under the precision-recall curve traced by
  ranking scored detections, averaged (mAP) over IoU thresholds 0.50:0.05:0.95.
  It needs a confidence score per predicted object. :func:`coco_average_precision`
  computes it.

The two can differ a lot on the same prediction: ``ap_dsb`` charges every false
positive and every miss at one operating point, COCO AP rewards a good ranking and
does not penalise low-score false positives that come after the last true positive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._overlap import label_overlap, pair_scores
from ._validation import as_image_pairs, check_choice, check_thresholds
from .matching import AGGREGATES, MatchResult, match_dataset, match_instances

__all__ = [
    "DSB_THRESHOLDS",
    "COCO_THRESHOLDS",
    "APSweep",
    "ap_dsb_sweep",
    "CocoAP",
    "coco_average_precision",
]

#: IoU thresholds 0.50, 0.55, ..., 0.95 of the Data Science Bowl 2018 score.
DSB_THRESHOLDS: tuple[float, ...] = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))
#: IoU thresholds 0.50, 0.55, ..., 0.95 of COCO's AP@[.5:.95].
COCO_THRESHOLDS: tuple[float, ...] = DSB_THRESHOLDS
#: Recall levels at which COCO interpolates precision (101 points).
_RECALL_LEVELS = np.linspace(0.0, 1.0, 101)


@dataclass(frozen=True)
class APSweep:
    """``ap_dsb`` over a range of IoU thresholds.

    Attributes
    ----------
    thresholds : tuple of float
        IoU thresholds, ascending.
    ap_dsb : tuple of float
        ``TP / (TP + FP + FN)`` at each threshold.
    mean_ap_dsb : float
        Mean of `ap_dsb` over the thresholds (the Data Science Bowl 2018 score).
    results : tuple of MatchResult
        The full matching result at each threshold (counts included).
    """

    thresholds: tuple[float, ...]
    ap_dsb: tuple[float, ...]
    mean_ap_dsb: float
    results: tuple[MatchResult, ...]

    @classmethod
    def from_results(cls, results: Sequence[MatchResult]) -> APSweep:
        """Collect matching results computed at several thresholds.

        Examples
        --------
        >>> from bench.metrics import MatchResult
        >>> rs = [MatchResult.from_counts(criterion="iou", threshold=t, n_true=2, n_pred=2,
        ...                               tp=k, sum_matched_iou=0.8 * k)
        ...       for t, k in [(0.5, 2), (0.9, 0)]]
        >>> APSweep.from_results(rs).mean_ap_dsb
        0.5
        """
        results = tuple(results)
        if not results or not all(isinstance(r, MatchResult) for r in results):
            raise TypeError("`results` must be a non-empty sequence of MatchResult")
        return cls(
            thresholds=tuple(r.threshold for r in results),
            ap_dsb=tuple(r.ap_dsb for r in results),
            mean_ap_dsb=float(np.mean([r.ap_dsb for r in results])),
            results=results,
        )


def ap_dsb_sweep(y_true, y_pred, *, thresholds=DSB_THRESHOLDS, aggregate="pooled") -> APSweep:
    """``ap_dsb = TP / (TP + FP + FN)`` at IoU thresholds 0.50:0.05:0.95, and their mean.

    Parameters
    ----------
    y_true, y_pred : (M, N[, P]) ndarray of int, or sequence of them
        Instance label images (0 = background): one pair, or two equally long
        sequences for a dataset.
    thresholds : sequence of float, optional
        IoU thresholds; default :data:`DSB_THRESHOLDS` (0.50, 0.55, ..., 0.95).
    aggregate : {"pooled", "per_image"}, optional
        For a dataset: pool the counts over images (default) or average per-image
        scores (the Data Science Bowl 2018 averaged per image). Ignored for one pair.

    Returns
    -------
    APSweep

    See Also
    --------
    coco_average_precision : the COCO definition, from scored detections.

    Notes
    -----
    At each threshold :math:`t`, objects are matched one to one
    (:func:`bench.metrics.match_instances`) and
    :math:`\\mathrm{AP}_{dsb}(t) = TP_t / (TP_t + FP_t + FN_t)`; the sweep's mean is
    :math:`\\frac{1}{|T|} \\sum_{t \\in T} \\mathrm{AP}_{dsb}(t)` [1]_. This is what
    Cellpose reports as "average precision" and StarDist as "accuracy"; it is not
    the COCO average precision.

    References
    ----------
    .. [1] J. C. Caicedo et al., "Nucleus segmentation across imaging experiments:
       the 2018 Data Science Bowl", Nature Methods 16, 1247-1253 (2019).
       :doi:`10.1038/s41592-019-0612-7`

    Examples
    --------
    >>> import numpy as np
    >>> y_true = np.zeros((5, 5), dtype=int)
    >>> y_true[1:4, 1:4] = 1
    >>> y_pred = np.zeros((5, 5), dtype=int)
    >>> y_pred[1:4, 1:3] = 1          # IoU 6 / 9 = 0.67
    >>> sweep = ap_dsb_sweep(y_true, y_pred)
    >>> sweep.ap_dsb
    (1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    >>> sweep.mean_ap_dsb
    0.4
    """
    thr, _ = check_thresholds(thresholds, "thresholds")
    check_choice(aggregate, "aggregate", AGGREGATES)
    pairs, single = as_image_pairs(y_true, y_pred)
    if single:
        results = match_instances(pairs[0][0], pairs[0][1], iou_threshold=list(thr))
    else:
        results = match_dataset(
            [t for t, _ in pairs], [p for _, p in pairs], iou_threshold=list(thr), aggregate=aggregate
        )
    return APSweep.from_results(results)


# ------------------------------------------------------------------- COCO AP


@dataclass(frozen=True)
class CocoAP:
    """COCO-style average precision at several IoU thresholds.

    Attributes
    ----------
    thresholds : tuple of float
        IoU thresholds.
    ap : tuple of float
        Average precision (101-point interpolated) at each threshold.
    mean_ap : float
        Mean of `ap` over the thresholds: COCO's AP@[.5:.95] for the default
        thresholds.
    n_true, n_pred : int
        Number of true objects and of scored predictions (all images).
    """

    thresholds: tuple[float, ...]
    ap: tuple[float, ...]
    mean_ap: float
    n_true: int
    n_pred: int

    def at(self, threshold: float) -> float:
        """AP at one of the thresholds, e.g. ``result.at(0.5)`` for AP50."""
        for t, a in zip(self.thresholds, self.ap):
            if np.isclose(t, threshold, rtol=0, atol=1e-9):
                return a
        raise ValueError(f"`threshold` must be one of {self.thresholds}, got {threshold!r}")


def greedy_match(ti: np.ndarray, pj: np.ndarray, iou: np.ndarray, rank: np.ndarray, threshold: float) -> np.ndarray:
    """COCO's greedy matching of ranked predictions: True for each true-positive prediction.

    Predictions are visited by `rank` (0 = highest score); each takes the unmatched
    true object with which it has the highest IoU >= `threshold` (ties: the later
    true object, as pycocotools).

    Parameters
    ----------
    ti, pj : (K,) ndarray of int
        True and predicted index of each overlapping pair.
    iou : (K,) ndarray of float
        IoU of each pair.
    rank : (P,) ndarray of int
        Visiting order position of every prediction.
    threshold : float

    Returns
    -------
    (P,) ndarray of bool
    """
    n_pred = rank.size
    is_tp = np.zeros(n_pred, dtype=bool)
    cand = iou >= threshold
    ti, pj, iou = ti[cand], pj[cand], iou[cand]
    if ti.size == 0:
        return is_tp
    if np.unique(ti).size == ti.size:
        # every true object is claimed by at most one prediction: no competition
        is_tp[pj] = True
        return is_tp
    # visit predictions by rank; within one, true objects by decreasing IoU (ties: later first)
    order = np.lexsort((-ti, -iou, rank[pj]))
    taken = set()
    done = np.zeros(n_pred, dtype=bool)
    for k in order:
        p = pj[k]
        if done[p]:
            continue
        t = ti[k]
        if t in taken:
            continue
        taken.add(t)
        done[p] = True
        is_tp[p] = True
    return is_tp


def ranked_average_precision(scores: np.ndarray, is_tp: np.ndarray, n_true: int) -> float:
    """COCO's 101-point interpolated average precision of ranked detections.

    Parameters
    ----------
    scores : (P,) ndarray of float
        Confidence of each detection.
    is_tp : (P,) ndarray of bool
        Whether each detection is a true positive.
    n_true : int
        Number of true objects.

    Returns
    -------
    float
        Mean over recall levels 0, 0.01, ..., 1 of the interpolated precision
        (the highest precision at any recall >= the level; 0 past the last recall
        reached). With no true object: 1.0 if there is no detection either (the
        empty-image convention), else 0.0.

    Notes
    -----
    Detections with equal scores form one operating point: the precision-recall
    curve is evaluated only after each block of tied scores, so the result does not
    depend on the order of tied detections (pycocotools evaluates after every
    detection; the two agree when scores are distinct).

    Examples
    --------
    >>> import numpy as np
    >>> ap = ranked_average_precision(np.array([0.9, 0.8, 0.7]), np.array([True, False, True]), 2)
    >>> round(ap, 6)    # (51 * 1 + 50 * 2/3) / 101
    0.834983
    """
    if n_true == 0:
        return 1.0 if scores.size == 0 else 0.0
    if scores.size == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    tp = np.cumsum(is_tp[order])
    fp = np.cumsum(~is_tp[order])
    block_end = np.ones(s.size, dtype=bool)
    block_end[:-1] = s[1:] != s[:-1]
    tp, fp = tp[block_end], fp[block_end]
    recall = tp / n_true
    precision = tp / (tp + fp)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, _RECALL_LEVELS, side="left")
    q = np.zeros(_RECALL_LEVELS.size)
    ok = idx < recall.size
    q[ok] = precision[idx[ok]]
    return float(q.mean())


def _scores_for(scores, ids: np.ndarray, name: str) -> np.ndarray:
    """Score of each predicted label in `ids` from a mapping or a label-indexed array."""
    if isinstance(scores, Mapping):
        missing = [int(i) for i in ids if int(i) not in scores]
        if missing:
            raise ValueError(f"`{name}` has no score for predicted labels {missing[:10]}")
        out = np.array([float(scores[int(i)]) for i in ids], dtype=float)
    else:
        arr = np.asarray(scores, dtype=float)
        if arr.ndim != 1:
            raise ValueError(
                f"`{name}` must be a mapping label -> score or a 1-d array indexed by label, got shape {arr.shape}"
            )
        if ids.size and ids.max() >= arr.size:
            raise ValueError(
                f"`{name}` (shape {arr.shape}) must be indexable by every predicted label; "
                f"the largest label is {int(ids.max())}"
            )
        out = arr[ids]
    if not np.all(np.isfinite(out)):
        raise ValueError(f"`{name}` must hold finite scores")
    return out


def coco_average_precision(y_true, y_pred, scores, *, thresholds=COCO_THRESHOLDS) -> CocoAP:
    """COCO-style average precision of scored instance predictions.

    Parameters
    ----------
    y_true, y_pred : (M, N[, P]) ndarray of int, or sequence of them
        Instance label images (0 = background): one pair, or two equally long
        sequences for a dataset (detections of all images are ranked together).
    scores : mapping or 1-d array, or sequence of them
        Confidence of each predicted object: a mapping ``label -> score`` or an array
        indexed by label (``scores[label]``). One per image for a dataset.
    thresholds : float or sequence of float, optional
        Mask-IoU thresholds; default :data:`COCO_THRESHOLDS` (0.50:0.05:0.95).

    Returns
    -------
    CocoAP

    See Also
    --------
    ap_dsb_sweep : the Data Science Bowl "average precision", no scores needed.

    Notes
    -----
    For each threshold, predictions are ranked by score and matched greedily, as
    in the COCO evaluation [1]_: each takes the unmatched true object with the
    highest IoU >= the threshold. The AP is the mean over the recall levels
    0, 0.01, ..., 1 of the interpolated precision
    :math:`p_{interp}(r) = \\max_{r' \\ge r} p(r')`. Differences from pycocotools:
    no area ranges, no crowd regions, no cap on detections per image, and tied
    scores form a single operating point (see :func:`ranked_average_precision`).
    Without true objects AP is 1.0 when nothing is predicted, else 0.0.

    References
    ----------
    .. [1] T.-Y. Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014.
       :doi:`10.1007/978-3-319-10602-1_48`

    Examples
    --------
    >>> import numpy as np
    >>> y_true = np.array([[1, 1, 0, 2, 2]])
    >>> y_pred = np.array([[1, 1, 0, 3, 0]])
    >>> r = coco_average_precision(y_true, y_pred, {1: 0.9, 3: 0.6}, thresholds=[0.5])
    >>> r.ap[0]             # both predictions match at IoU >= 0.5
    1.0
    >>> r = coco_average_precision(y_true, y_pred, {1: 0.9, 3: 0.6}, thresholds=[0.75])
    >>> round(r.ap[0], 4)   # the second (IoU 0.5) is a false positive: recall stops at 0.5
    0.505
    """
    thr, scalar = check_thresholds(thresholds, "thresholds")
    pairs, single = as_image_pairs(y_true, y_pred)
    score_list = [scores] if single else scores
    if single is False and (isinstance(scores, (Mapping, np.ndarray)) or not isinstance(scores, Sequence)):
        raise TypeError("`scores` must be a sequence with one mapping or array per image for a dataset")
    if len(score_list) != len(pairs):
        raise ValueError(f"`scores` ({len(score_list)} items) must hold one item per image ({len(pairs)} images)")

    per_image = []
    n_true = 0
    for k, ((t, p), sc) in enumerate(zip(pairs, score_list)):
        ov = label_overlap(t, p)
        s = _scores_for(sc, ov.pred_ids, "scores" if single else f"scores[{k}]")
        per_image.append((ov, pair_scores(ov, "iou"), s))
        n_true += ov.n_true
    all_scores = np.concatenate([s for _, _, s in per_image]) if per_image else np.zeros(0)
    # a global rank, so that greedy matching visits predictions by score in every image
    rank_all = np.empty(all_scores.size, dtype=np.intp)
    rank_all[np.argsort(-all_scores, kind="stable")] = np.arange(all_scores.size)

    aps = []
    for t in thr:
        flags = []
        start = 0
        for ov, iou, s in per_image:
            rank = rank_all[start : start + s.size]
            start += s.size
            flags.append(greedy_match(ov.ti, ov.pj, iou, rank, t))
        is_tp = np.concatenate(flags) if flags else np.zeros(0, dtype=bool)
        aps.append(ranked_average_precision(all_scores, is_tp, n_true))
    return CocoAP(
        thresholds=thr,
        ap=tuple(aps),
        mean_ap=float(np.mean(aps)),
        n_true=n_true,
        n_pred=int(all_scores.size),
    )
