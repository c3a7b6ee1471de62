"""Cell Tracking Challenge segmentation measure (SEG)."""

from __future__ import annotations

import numpy as np

from ._overlap import label_overlap
from ._validation import as_image_pairs, ratio

__all__ = ["ctc_seg"]


def ctc_seg(y_true, y_pred) -> float:
    """Cell Tracking Challenge SEG: mean Jaccard index of the reference objects.

    Parameters
    ----------
    y_true : (M, N[, P]) ndarray of int, or sequence of them
        Reference instance labels (0 = background).
    y_pred : (M, N[, P]) ndarray of int, or sequence of them
        Segmented instance labels, same shape(s).

    Returns
    -------
    float
        SEG in [0, 1]. For a sequence of images, the mean over all reference
        objects of all images (as the challenge averages over all annotated objects).

    Notes
    -----
    A reference object :math:`R` is matched to the segmented object :math:`S` with
    :math:`|R \\cap S| > 0.5 |R|` (at most one can qualify) and scores
    :math:`J(R, S) = |R \\cap S| / |R \\cup S|`; an unmatched reference object
    scores 0 [1]_. SEG is the mean over reference objects, so false positives are
    not penalised. With no reference object SEG follows the package's empty-image
    convention: 1.0 if nothing was segmented either, else 0.0.

    References
    ----------
    .. [1] M. Maska et al., "A benchmark for comparison of cell tracking
       algorithms", Bioinformatics 30(11), 1609-1617 (2014).
       :doi:`10.1093/bioinformatics/btu080`

    Examples
    --------
    >>> import numpy as np
    >>> y_true = np.array([[1, 1, 1, 1, 0],
    ...                    [0, 0, 0, 0, 0],
    ...                    [2, 2, 0, 0, 0]])
    >>> y_pred = np.array([[3, 3, 3, 0, 0],
    ...                    [0, 0, 0, 0, 0],
    ...                    [4, 0, 0, 0, 0]])
    >>> ctc_seg(y_true, y_pred)   # object 1: J = 3/4; object 2: 1/2 is not > 50 %
    0.375
    """
    pairs, _ = as_image_pairs(y_true, y_pred)
    n_true = n_pred = 0
    total = 0.0
    for t, p in pairs:
        ov = label_overlap(t, p)
        at = ov.true_area[ov.ti]
        ok = 2 * ov.intersection > at
        inter = ov.intersection[ok]
        union = at[ok] + ov.pred_area[ov.pj[ok]] - inter
        total += float(np.sum(inter / union))
        n_true += ov.n_true
        n_pred += ov.n_pred
    return ratio(total, n_true, empty=n_true == 0 and n_pred == 0)
