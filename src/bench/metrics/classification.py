"""Per-object classification scored on matched objects (e.g. empty vs loaded
lysosomes, basal vs activated cells).

Pair the objects first with :func:`bench.metrics.matched_pairs`, look up the true and
predicted class of each pair, then score the two class vectors here. Unmatched
objects are a segmentation error, already counted by the matching metrics, and are
not part of the classification score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import ratio

__all__ = ["ClassificationResult", "classification_metrics"]


@dataclass(frozen=True)
class ClassificationResult:
    """Binary classification scores of matched objects.

    Attributes
    ----------
    positive : int or str
        The class treated as positive.
    n, tp, fp, fn, tn : int
        Number of objects and the confusion counts for the positive class.
    precision, recall, f1 : float
        ``tp / (tp + fp)``, ``tp / (tp + fn)``, ``2 tp / (2 tp + fp + fn)``.
    mcc : float
        Matthews correlation coefficient.
    roc_auc : float
        Area under the ROC curve of the scores; NaN when no scores were given or
        when the truth holds a single class.
    """

    positive: int | str
    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float
    recall: float
    f1: float
    mcc: float
    roc_auc: float


def _roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count one half)."""
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import rankdata  # lazy: importing scipy.stats costs ~0.4 s per notebook kernel

    ranks = rankdata(s)  # average ranks for ties
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def classification_metrics(y_true, y_pred, *, scores=None, positive=1) -> ClassificationResult:
    """Precision, recall, F1, MCC and ROC-AUC of a binary per-object classification.

    Parameters
    ----------
    y_true, y_pred : (K,) array_like
        True and predicted class of each matched object (any hashable labels:
        ints or strings).
    scores : (K,) array_like of float, optional
        Score of the positive class for each object (higher = more likely
        positive), for ROC-AUC.
    positive : int or str, optional
        The positive class; every other value is negative.

    Returns
    -------
    ClassificationResult

    Notes
    -----
    :math:`\\mathrm{MCC} = (TP \\cdot TN - FP \\cdot FN) /
    \\sqrt{(TP+FP)(TP+FN)(TN+FP)(TN+FN)}`, 0 when a factor of the denominator is 0
    (as scikit-learn). ROC-AUC is the probability that a random positive scores
    above a random negative, ties counting one half (equal to scikit-learn's
    ``roc_auc_score``). Zero denominators follow the empty-image convention of the
    package: with no positive object in truth and prediction, precision, recall and
    F1 are 1.0; otherwise a ratio with a zero denominator is 0.0.

    References
    ----------
    .. [1] B. W. Matthews, "Comparison of the predicted and observed secondary
       structure of T4 phage lysozyme", Biochim. Biophys. Acta 405, 442-451 (1975).
       :doi:`10.1016/0005-2795(75)90109-9`

    Examples
    --------
    >>> r = classification_metrics([1, 1, 0, 0, 1], [1, 0, 0, 1, 1],
    ...                            scores=[0.9, 0.4, 0.2, 0.6, 0.8])
    >>> r.tp, r.fp, r.fn, r.tn
    (2, 1, 1, 1)
    >>> round(r.precision, 4), round(r.recall, 4), round(r.mcc, 4), round(r.roc_auc, 4)
    (0.6667, 0.6667, 0.1667, 0.8333)
    """
    yt = np.asarray(y_true)
    yp = np.asarray(y_pred)
    if yt.ndim != 1 or yp.ndim != 1:
        raise ValueError(f"`y_true` (shape {yt.shape}) and `y_pred` (shape {yp.shape}) must be 1-d")
    if yt.shape != yp.shape:
        raise ValueError(f"`y_true` (shape {yt.shape}) must have the same shape as `y_pred` (shape {yp.shape})")
    t = yt == positive
    p = yp == positive
    tp = int(np.count_nonzero(t & p))
    fp = int(np.count_nonzero(~t & p))
    fn = int(np.count_nonzero(t & ~p))
    tn = int(np.count_nonzero(~t & ~p))
    empty = tp + fp + fn == 0
    den = float(tp + fp) * float(tp + fn) * float(tn + fp) * float(tn + fn)
    mcc = (tp * tn - fp * fn) / np.sqrt(den) if den > 0 else 0.0
    if scores is None:
        auc = float("nan")
    else:
        s = np.asarray(scores, dtype=float)
        if s.shape != yt.shape:
            raise ValueError(f"`scores` (shape {s.shape}) must have the same shape as `y_true` (shape {yt.shape})")
        if not np.all(np.isfinite(s)):
            raise ValueError("`scores` must be finite")
        auc = _roc_auc(t, s)
    return ClassificationResult(
        positive=positive,
        n=int(yt.size),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        precision=ratio(tp, tp + fp, empty=empty),
        recall=ratio(tp, tp + fn, empty=empty),
        f1=ratio(2 * tp, 2 * tp + fp + fn, empty=empty),
        mcc=float(mcc),
        roc_auc=auc,
    )
