"""Argument checks shared by the metric functions, and the empty-image convention.

Every public function of :mod:`bench.metrics` validates its inputs here, so the
error messages read the same everywhere: they name the argument in backticks and
quote what was expected and what was received.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

__all__ = [
    "CRITERIA",
    "check_label_image",
    "check_same_shape",
    "check_thresholds",
    "check_criterion",
    "check_image_pairs",
    "as_image_pairs",
    "check_choice",
    "ratio",
]

#: Matching criteria: the score of a (true, predicted) pair of objects.
CRITERIA = ("iou", "iot", "iop")


def check_label_image(y, name: str, *, check_sign: bool = True) -> np.ndarray:
    """Return `y` as an integer ndarray of non-negative labels, or raise.

    Parameters
    ----------
    y : ndarray
        Candidate label image (0 = background).
    name : str
        Argument name used in error messages.
    check_sign : bool, optional
        Scan `y` for negative labels. Callers that pass `y` on to
        :func:`bench.metrics._overlap.label_overlap`, which checks the signs on the
        foreground pixels only, skip this second scan of the image.

    Returns
    -------
    ndarray
        `y` itself (no copy).

    Raises
    ------
    TypeError
        If `y` is not an ndarray of an integer dtype (bool and float are refused:
        a float image is usually a probability map passed by mistake).
    ValueError
        If `y` holds a negative label.
    """
    if not isinstance(y, np.ndarray):
        raise TypeError(f"`{name}` must be a numpy ndarray of integer labels, got {type(y).__name__}")
    if y.dtype == bool or not np.issubdtype(y.dtype, np.integer):
        raise TypeError(
            f"`{name}` must hold integer labels (0 = background), got dtype {y.dtype} "
            f"(shape {y.shape})"
        )
    if y.ndim == 0:
        raise ValueError(f"`{name}` must be an image with at least one axis, got a 0-d array")
    if check_sign and y.size and np.issubdtype(y.dtype, np.signedinteger):
        low = y.min()
        if low < 0:
            raise ValueError(f"`{name}` (shape {y.shape}) must not hold negative labels, found {int(low)}")
    return y


def check_same_shape(a: np.ndarray, name_a: str, b: np.ndarray, name_b: str) -> None:
    """Raise ``ValueError`` unless `a` and `b` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"`{name_a}` (shape {a.shape}) must have the same shape as `{name_b}` (shape {b.shape})"
        )


def check_thresholds(threshold, name: str = "iou_threshold") -> tuple[tuple[float, ...], bool]:
    """Normalise a scalar-or-sequence threshold argument.

    Returns
    -------
    thresholds : tuple of float
        The thresholds, each in (0, 1].
    scalar : bool
        True when `threshold` was a single number (the caller then returns a single
        result instead of a tuple).
    """
    if isinstance(threshold, (numbers.Real, np.floating, np.integer)) and not isinstance(threshold, bool):
        values, scalar = (threshold,), True
    elif isinstance(threshold, (Sequence, np.ndarray)) and not isinstance(threshold, str):
        values, scalar = tuple(np.asarray(threshold, dtype=float).ravel().tolist()), False
        if np.ndim(threshold) != 1 or not values:
            raise ValueError(
                f"`{name}` must be a number or a non-empty 1-d sequence of numbers, "
                f"got shape {np.shape(threshold)}"
            )
    else:
        raise TypeError(f"`{name}` must be a number or a sequence of numbers, got {type(threshold).__name__}")
    out = []
    for v in values:
        v = float(v)
        if not (0.0 < v <= 1.0):
            raise ValueError(f"`{name}` must lie in (0, 1], got {v!r}")
        out.append(v)
    return tuple(out), scalar


def check_criterion(criterion) -> str:
    """Raise ``ValueError`` unless `criterion` is one of :data:`CRITERIA`."""
    if criterion not in CRITERIA:
        raise ValueError(f"`criterion` must be one of {CRITERIA}, got {criterion!r}")
    return criterion


def check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    """Raise ``ValueError`` unless `value` is one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"`{name}` must be one of {choices}, got {value!r}")
    return value


def check_image_pairs(y_true, y_pred, name_true: str = "y_true", name_pred: str = "y_pred"):
    """Check two equally long sequences of label images, pairwise same shape.

    Returns
    -------
    list of (ndarray, ndarray)
    """
    for seq, name in ((y_true, name_true), (y_pred, name_pred)):
        if isinstance(seq, np.ndarray) or not isinstance(seq, Sequence):
            raise TypeError(
                f"`{name}` must be a list or tuple of label images, got {type(seq).__name__}"
                + (f" (shape {seq.shape}); wrap a single image in a list" if isinstance(seq, np.ndarray) else "")
            )
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"`{name_true}` ({len(y_true)} images) and `{name_pred}` ({len(y_pred)} images) "
            "must hold the same number of images"
        )
    pairs = []
    for i, (t, p) in enumerate(zip(y_true, y_pred)):
        t = check_label_image(t, f"{name_true}[{i}]")
        p = check_label_image(p, f"{name_pred}[{i}]")
        check_same_shape(t, f"{name_true}[{i}]", p, f"{name_pred}[{i}]")
        pairs.append((t, p))
    return pairs


def as_image_pairs(y_true, y_pred):
    """One pair of label images, or two sequences of them, as a list of validated pairs.

    Returns
    -------
    pairs : list of (ndarray, ndarray)
    single : bool
        True when one pair of arrays was given.
    """
    if isinstance(y_true, np.ndarray) and isinstance(y_pred, np.ndarray):
        y_true = check_label_image(y_true, "y_true")
        y_pred = check_label_image(y_pred, "y_pred")
        check_same_shape(y_true, "y_true", y_pred, "y_pred")
        return [(y_true, y_pred)], True
    pairs = check_image_pairs(y_true, y_pred)
    if not pairs:
        raise ValueError("`y_true` and `y_pred` must hold at least one image, got empty sequences")
    return pairs, False


def ratio(numerator: float, denominator: float, *, empty: bool) -> float:
    """Divide, applying the package's single convention for ``0 / 0``.

    The **empty-image convention** of :mod:`bench.metrics`: when truth and
    prediction hold nothing to score (no objects in either, ``empty=True``), every
    ratio that is ``0 / 0`` is **1.0** -- an empty field predicted empty is a
    perfect result. When there is something to score (``empty=False``) a ratio with
    a zero denominator is **0.0**, as in ``stardist.matching`` (for example precision
    when nothing was predicted but objects exist).

    Parameters
    ----------
    numerator, denominator : float
    empty : bool
        Whether truth and prediction are both empty.

    Returns
    -------
    float

    Examples
    --------
    >>> ratio(3, 4, empty=False)
    0.75
    >>> ratio(0, 0, empty=True)
    1.0
    >>> ratio(0, 0, empty=False)
    0.0
    """
    if denominator:
        return float(numerator / denominator)
    return 1.0 if empty else 0.0
