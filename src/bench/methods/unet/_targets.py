"""Training targets of the U-Net: pixel classes from instance labels (numpy only).

The network predicts, for every pixel, one of ``2 + K`` classes::

    0        background
    1        boundary  (object pixels that separate objects, see below)
    2 + k    interior of an object of class k  (k = 0 .. K-1; K = 1 without classes)

This is the "three-class" (background / boundary / interior) formulation used to
split touching nuclei with a semantic network (e.g. Caicedo et al., 2019,
Cytometry A, doi:10.1002/cyto.a.23863), with the interior class split by object
class so the same softmax also classifies objects (empty / loaded lysosomes).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

__all__ = ["BACKGROUND", "BOUNDARY", "FIRST_OBJECT_CLASS", "boundary_mask", "instance_targets"]

BACKGROUND = 0
BOUNDARY = 1
FIRST_OBJECT_CLASS = 2


def _check_labels(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"`labels` must be a 2-D integer label image, got {labels.dtype} array of shape {labels.shape}"
        )
    return labels


def boundary_mask(labels: np.ndarray) -> np.ndarray:
    """Object pixels of the boundary class.

    Two kinds of object pixels are boundary:

    * **contacts** -- pixels of an object with an 8-neighbour in a *different*
      object: touching objects are cut apart by a line two pixels wide;
    * **rims** -- the inner rim (pixels with a 4-neighbour outside the object)
      of every object that keeps at least half of its pixels as interior. Small
      objects (a punctum of a few pixels, whose rim is most of it) keep their
      rim as interior, so they are never erased from the seeds.

    Parameters
    ----------
    labels : (M, N) ndarray of int
        Instance labels, 0 = background.

    Returns
    -------
    (M, N) ndarray of bool

    Examples
    --------
    Two touching 3x3 squares: the contact columns are boundary, and each square
    (9 pixels, rim of 8) is too small to lose its rim.

    >>> lab = np.zeros((5, 8), np.int32)
    >>> lab[1:4, 1:4] = 1; lab[1:4, 4:7] = 2
    >>> boundary_mask(lab).astype(int)
    array([[0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 1, 1, 0, 0, 0],
           [0, 0, 0, 1, 1, 0, 0, 0],
           [0, 0, 0, 1, 1, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0]])
    """
    labels = _check_labels(labels)
    obj = labels > 0
    if not obj.any():
        return np.zeros(labels.shape, bool)
    lab = labels.astype(np.int64)
    big = int(lab.max()) + 1
    fp8 = np.ones((3, 3), bool)
    # contact: an object neighbour with another id (max or min over the neighbourhood,
    # background excluded from the min by setting it above every id)
    hi = ndi.maximum_filter(lab, footprint=fp8, mode="nearest")
    lo = ndi.minimum_filter(np.where(obj, lab, big), footprint=fp8, mode="nearest")
    contact = obj & ((hi != lab) | (lo != lab))
    # rim: a 4-neighbour that is not the same object (image border counts as inside)
    fp4 = ndi.generate_binary_structure(2, 1)
    hi4 = ndi.maximum_filter(lab, footprint=fp4, mode="nearest")
    lo4 = ndi.minimum_filter(lab, footprint=fp4, mode="nearest")
    rim = obj & ((hi4 != lab) | (lo4 != lab))
    n = int(lab.max()) + 1
    area = np.bincount(lab.ravel(), minlength=n)
    rim_area = np.bincount(lab[rim], minlength=n)
    keeps_half = (area - rim_area) * 2 >= area
    return contact | (rim & keeps_half[lab])


def instance_targets(
    labels: np.ndarray, classes: dict[int, int] | None, n_object_classes: int
) -> np.ndarray:
    """Pixel-class target of an instance label image (see the module docstring).

    Parameters
    ----------
    labels : (M, N) ndarray of int
        Instance labels, 0 = background.
    classes : dict of int to int or None
        Class (0 .. `n_object_classes` - 1) of each instance id; ``None`` when
        the model has a single object class. Objects missing from `classes`
        raise, so that no object silently becomes class 0.
    n_object_classes : int
        K, the number of object classes (1 without classes).

    Returns
    -------
    (M, N) ndarray of int64
        0 background, 1 boundary, 2 + k interior of class k.

    Examples
    --------
    >>> lab = np.zeros((4, 6), np.int32); lab[:, :3] = 1; lab[:, 3:] = 2
    >>> instance_targets(lab, {1: 0, 2: 1}, 2)
    array([[2, 2, 1, 1, 3, 3],
           [2, 2, 1, 1, 3, 3],
           [2, 2, 1, 1, 3, 3],
           [2, 2, 1, 1, 3, 3]])
    """
    labels = _check_labels(labels)
    if n_object_classes < 1:
        raise ValueError(f"`n_object_classes` must be >= 1, got {n_object_classes}")
    n = int(labels.max()) + 1 if labels.size else 1
    lut = np.full(n, FIRST_OBJECT_CLASS, np.int64)
    lut[0] = BACKGROUND
    if classes is not None and n_object_classes > 1:
        ids = np.unique(labels[labels > 0])
        missing = [int(i) for i in ids if int(i) not in classes]
        if missing:
            raise ValueError(f"`classes` has no class for object id(s) {missing[:5]}")
        for i in ids:
            k = int(classes[int(i)])
            if not 0 <= k < n_object_classes:
                raise ValueError(
                    f"`classes`: object {int(i)} has class {k}, outside 0..{n_object_classes - 1}"
                )
            lut[int(i)] = FIRST_OBJECT_CLASS + k
    target = lut[labels]
    target[boundary_mask(labels)] = BOUNDARY
    return target
