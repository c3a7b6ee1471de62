"""From foreground / probability maps to instance labels.

Shared by every classical method: the post-processing that turns a binary or
probability foreground into int32 instance labels (threshold, hole filling,
distance-transform seeded watershed, size filter). The integer rescaling and the
object-size statistics that the deep families use too live in
:mod:`bench.methods._shared`.

All functions are vectorised (numpy / scipy.ndimage / scikit-image); none loops over
pixels in Python.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from scipy import ndimage as ndi

from .._shared.parallel import thread_imap


__all__ = [
    "remove_small_objects",
    "fill_small_holes",
    "fill_dark_holes",
    "distance_markers",
    "split_touching",
    "instances_from_mask",
    "instances_from_probability",
    "paint_disks",
    "relabel",
]

logger = logging.getLogger(__name__)


def _check_2d(arr, name: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D array, got shape {arr.shape}")
    return arr


def relabel(labels: np.ndarray) -> np.ndarray:
    """Consecutive int32 labels ``1..n``, keeping the order of the original ids.

    Examples
    --------
    >>> relabel(np.array([[0, 7, 7], [3, 0, 9]])).tolist()
    [[0, 2, 2], [1, 0, 3]]
    """
    labels = _check_2d(labels, "labels")
    ids = np.unique(labels)
    ids = ids[ids > 0]
    lut = np.zeros(int(labels.max()) + 1 if labels.size else 1, dtype=np.int32)
    lut[ids] = np.arange(1, ids.size + 1, dtype=np.int32)
    return lut[labels]


def remove_small_objects(labels: np.ndarray, min_area: float) -> np.ndarray:
    """Set labels with fewer than `min_area` pixels to 0 and relabel consecutively.

    Parameters
    ----------
    labels : (M, N) ndarray of int
        Instance labels, 0 = background.
    min_area : float
        Minimum object area in pixels (objects of exactly `min_area` are kept).

    Returns
    -------
    (M, N) ndarray of int32

    Examples
    --------
    >>> lab = np.array([[1, 1, 0, 2],
    ...                 [1, 1, 0, 0],
    ...                 [0, 0, 0, 3]])
    >>> remove_small_objects(lab, 2).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]]
    """
    labels = _check_2d(labels, "labels")
    if labels.size == 0:
        return labels.astype(np.int32)
    counts = np.bincount(labels.ravel())
    keep = counts >= min_area
    keep[0] = False
    lut = np.zeros(counts.size, dtype=np.int32)
    lut[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return lut[labels]


def fill_small_holes(mask: np.ndarray, max_area: float) -> np.ndarray:
    """Fill background regions enclosed by `mask` that have at most `max_area` pixels.

    Used to turn ring-shaped objects (a LAMP1 membrane around a dark lumen) into
    filled objects without filling the large background areas enclosed by
    clusters of touching objects.

    Parameters
    ----------
    mask : (M, N) ndarray of bool
    max_area : float
        Largest hole (in pixels, 4-connected) to fill; ``inf`` fills every hole.

    Returns
    -------
    (M, N) ndarray of bool

    Examples
    --------
    >>> ring = np.array([[0, 0, 0, 0, 0],
    ...                  [0, 1, 1, 1, 0],
    ...                  [0, 1, 0, 1, 0],
    ...                  [0, 1, 1, 1, 0],
    ...                  [0, 0, 0, 0, 0]], bool)
    >>> int(fill_small_holes(ring, 1).sum()), int(fill_small_holes(ring, 0).sum())
    (9, 8)
    """
    mask = _check_2d(mask, "mask").astype(bool)
    if max_area <= 0:
        return mask.copy()
    # holes = 4-connected background components that do not touch the border
    lab, n = ndi.label(~mask)
    if n == 0:
        return mask.copy()
    border = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    fill = sizes <= max_area
    fill[border] = False
    fill[0] = False
    return mask | fill[lab]


def fill_dark_holes(plane: np.ndarray, *, max_area: float, n_levels: int = 6) -> np.ndarray:
    """Grey-level hole filling: raise dark regions enclosed by brighter rims to the rim level.

    An approximation of morphological reconstruction by erosion (Soille,
    2003) on `n_levels` grey levels between the median and the 99.5th
    percentile of `plane`: at each level the holes of ``plane > level`` with at
    most `max_area` pixels are raised to that level. A dark lumen inside a
    bright ring becomes a filled disk, so blob detectors see the ring as a blob.

    Parameters
    ----------
    plane : (M, N) ndarray of float
    max_area : float
        Largest hole filled (px).
    n_levels : int, optional

    Returns
    -------
    (M, N) ndarray of float32

    Examples
    --------
    >>> ring = np.zeros((7, 7), np.float32); ring[1:6, 1:6] = 1.0; ring[2:5, 2:5] = 0.0
    >>> out = fill_dark_holes(ring, max_area=9)
    >>> float(out[3, 3]) > 0.5, float(out[0, 0])
    (True, 0.0)
    """
    plane = np.asarray(_check_2d(plane, "plane"), np.float32)
    lo, hi = np.percentile(plane[:: max(1, plane.shape[0] // 512), :: max(1, plane.shape[1] // 512)], [50, 99.5])
    out = plane.copy()
    if hi <= lo:
        return out
    def holes(level) -> np.ndarray:
        above = plane > level
        return fill_small_holes(above, max_area) & ~above

    # the levels are independent (threads when the budget allows); the maximum is order-free
    levels = np.linspace(lo, hi, n_levels + 2)[1:-1]
    for level, h in zip(levels, thread_imap(holes, levels)):
        np.maximum(out, np.float32(level), out=out, where=h)
    return out


def distance_markers(
    mask: np.ndarray, *, min_distance: float, h: float = 0.0, distance: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeds for splitting touching objects: maxima of the distance transform.

    A pixel of `mask` is a seed when its Euclidean distance to the background
    equals the maximum over the square of half-width `min_distance` around it
    and, if `h` > 0, is at least `h` above the minimum over that square (a cheap
    suppression of shallow maxima). Connected seed pixels form one marker.

    Parameters
    ----------
    mask : (M, N) ndarray of bool
        Foreground.
    min_distance : float
        Half-width (px) of the square neighbourhood in which a seed must be the
        maximum; roughly the radius of the smallest object to split off.
    h : float, optional
        Minimum depth (px of distance) of a maximum relative to the minimum over
        the same neighbourhood; 0 keeps every maximum.
    distance : (M, N) ndarray, optional
        Precomputed distance transform of `mask`.

    Returns
    -------
    markers : (M, N) ndarray of int32
        Seed labels, 0 elsewhere.
    distance : (M, N) ndarray of float32
        The distance transform.
    """
    mask = _check_2d(mask, "mask").astype(bool)
    if distance is None:
        distance = ndi.distance_transform_edt(mask).astype(np.float32)
    size = 2 * max(int(round(min_distance)), 1) + 1
    # a square window: separable, so O(pixels) whatever its size
    dmax = ndi.maximum_filter(distance, size=size, mode="constant", cval=0.0)
    peaks = mask & (distance >= dmax) & (distance > 0)
    if h > 0:
        dmin = ndi.minimum_filter(distance, size=size, mode="constant", cval=0.0)
        peaks &= (distance - dmin) >= h
    markers, _ = ndi.label(peaks, structure=np.ones((3, 3), bool))
    return markers.astype(np.int32), distance


def split_touching(
    mask: np.ndarray,
    *,
    min_distance: float,
    markers: np.ndarray | None = None,
    distance: np.ndarray | None = None,
    h: float = 0.0,
) -> np.ndarray:
    """Split a foreground into instances by a seeded watershed on the distance transform.

    Every connected component of `mask` that receives no seed keeps one label,
    so no foreground pixel is lost.

    Parameters
    ----------
    mask : (M, N) ndarray of bool
    min_distance : float
        See :func:`distance_markers`.
    markers : (M, N) ndarray of int, optional
        Seeds to use instead of the distance-transform maxima.
    distance : (M, N) ndarray, optional
        Precomputed distance transform of `mask`.
    h : float, optional
        See :func:`distance_markers`.

    Returns
    -------
    (M, N) ndarray of int32
        Instance labels, consecutive from 1.

    Examples
    --------
    Two overlapping disks are split at their waist:

    >>> yy, xx = np.mgrid[:11, :20]
    >>> mask = ((yy - 5) ** 2 + (xx - 5) ** 2 <= 16) | ((yy - 5) ** 2 + (xx - 13) ** 2 <= 16)
    >>> lab = split_touching(mask, min_distance=3)
    >>> int(lab.max()), bool(lab[5, 5] != lab[5, 13])
    (2, True)
    """
    from skimage.segmentation import watershed

    mask = _check_2d(mask, "mask").astype(bool)
    if not mask.any():
        return np.zeros(mask.shape, np.int32)
    if markers is None:
        markers, distance = distance_markers(mask, min_distance=min_distance, h=h, distance=distance)
    elif distance is None:
        distance = ndi.distance_transform_edt(mask).astype(np.float32)
    markers = np.where(mask, markers, 0).astype(np.int32)
    labels = watershed(-distance, markers, mask=mask).astype(np.int32)
    # components without a seed keep one label each
    orphans = mask & (labels == 0)
    if orphans.any():
        extra, n = ndi.label(orphans)
        labels = np.where(orphans, extra + labels.max(), labels).astype(np.int32)
    return relabel(labels)


def instances_from_mask(
    mask: np.ndarray,
    *,
    min_area: float,
    max_hole: float = 0.0,
    split: bool = True,
    min_distance: float = 3.0,
    h: float = 0.0,
) -> np.ndarray:
    """Binary foreground -> instances: fill small holes, split touching objects, drop small ones.

    Parameters
    ----------
    mask : (M, N) ndarray of bool
    min_area : float
        Smallest object kept (px).
    max_hole : float, optional
        Holes up to this area are filled (see :func:`fill_small_holes`).
    split : bool, optional
        Seeded distance-transform watershed (:func:`split_touching`) if True,
        else 8-connected components.
    min_distance, h : float, optional
        Seed parameters (see :func:`distance_markers`).

    Returns
    -------
    (M, N) ndarray of int32

    Examples
    --------
    >>> m = np.zeros((6, 8), bool); m[1:4, 1:4] = True; m[5, 7] = True
    >>> instances_from_mask(m, min_area=2, split=False).tolist()[1]
    [0, 1, 1, 1, 0, 0, 0, 0]
    >>> int(instances_from_mask(m, min_area=2).max())
    1
    """
    mask = _check_2d(mask, "mask").astype(bool)
    if max_hole > 0:
        mask = fill_small_holes(mask, max_hole)
    if split:
        labels = split_touching(mask, min_distance=min_distance, h=h)
    else:
        labels, _ = ndi.label(mask, structure=np.ones((3, 3), bool))
    return remove_small_objects(labels, min_area)


def instances_from_probability(
    foreground: np.ndarray,
    *,
    threshold: float,
    min_area: float,
    core: np.ndarray | None = None,
    core_threshold: float = 0.5,
    max_hole: float = 0.0,
    min_distance: float = 3.0,
) -> np.ndarray:
    """Probability map -> instances: threshold, then a seeded watershed.

    Seeds are the connected components of ``core >= core_threshold`` inside the
    foreground when a `core` map (e.g. the probability of "object interior" from
    a three-class pixel classifier) is given, else the maxima of the distance
    transform of the thresholded foreground.

    Parameters
    ----------
    foreground : (M, N) ndarray of float
        Probability (or any score) of belonging to an object.
    threshold : float
        Foreground is ``foreground >= threshold``.
    min_area : float
        Smallest object kept (px).
    core : (M, N) ndarray of float, optional
        Probability of the object interior (away from object borders).
    core_threshold : float, optional
        Seeds are ``core >= core_threshold``.
    max_hole : float, optional
        Holes up to this area are filled before splitting.
    min_distance : float, optional
        Seed neighbourhood when no `core` is given.

    Returns
    -------
    (M, N) ndarray of int32

    Examples
    --------
    >>> p = np.zeros((5, 9)); p[1:4, 1:4] = 0.9; p[1:4, 5:8] = 0.8; p[2, 4] = 0.6
    >>> lab = instances_from_probability(p, threshold=0.5, min_area=1, core=p, core_threshold=0.7)
    >>> lab[2].tolist()
    [0, 1, 1, 1, 1, 2, 2, 2, 0]
    """
    foreground = _check_2d(foreground, "foreground")
    mask = foreground >= threshold
    if max_hole > 0:
        mask = fill_small_holes(mask, max_hole)
    if core is None:
        labels = split_touching(mask, min_distance=min_distance)
    else:
        core = _check_2d(core, "core")
        if core.shape != foreground.shape:
            raise ValueError(
                f"`core` (shape {core.shape}) must have the same shape as `foreground` "
                f"(shape {foreground.shape})"
            )
        from skimage.segmentation import watershed

        seeds, _ = ndi.label(mask & (core >= core_threshold))
        labels = watershed(-np.asarray(core, np.float32), seeds, mask=mask).astype(np.int32)
        orphans = mask & (labels == 0)
        if orphans.any():
            extra, _ = ndi.label(orphans)
            labels = np.where(orphans, extra + labels.max(), labels).astype(np.int32)
    return remove_small_objects(labels, min_area)


def paint_disks(
    shape: tuple[int, int],
    centers: np.ndarray,
    radii: np.ndarray,
    *,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """Label image of filled disks; where disks overlap, the later one in `order` wins.

    Parameters
    ----------
    shape : (int, int)
    centers : (K, 2) ndarray of float
        ``(y, x)`` of each disk, rounded to the nearest pixel.
    radii : (K,) ndarray of float
    order : (K,) ndarray of int, optional
        Painting order (indices into `centers`); default ``0..K-1``.

    Returns
    -------
    (M, N) ndarray of int32
        Disk ``k`` has label ``k + 1`` where visible; labels hidden completely
        by later disks are absent (not relabelled).

    Examples
    --------
    >>> paint_disks((3, 7), np.array([[1, 1], [1, 5]]), np.array([1.0, 1.0]))[1].tolist()
    [1, 1, 1, 0, 2, 2, 2]
    >>> paint_disks((1, 4), np.array([[0, 1], [0, 2]]), np.array([1.0, 1.0]), order=[1, 0]).tolist()
    [[1, 1, 1, 2]]
    """
    centers = np.asarray(centers, dtype=float).reshape(-1, 2)
    radii = np.asarray(radii, dtype=float).ravel()
    if radii.size != centers.shape[0]:
        raise ValueError(
            f"`radii` (length {radii.size}) must have one value per row of `centers` "
            f"({centers.shape[0]})"
        )
    out = np.zeros(shape, np.int32)
    k = radii.size
    if k == 0:
        return out
    order = np.arange(k) if order is None else np.asarray(order, dtype=np.int64)
    priority = np.empty(k, np.int64)
    priority[order] = np.arange(order.size)
    cy = np.rint(centers[:, 0]).astype(np.int64)
    cx = np.rint(centers[:, 1]).astype(np.int64)
    flat_parts, pri_parts = [], []
    # disks of one radius share one stamp of offsets: a loop over distinct radii
    for r in np.unique(radii):
        ri = int(math.floor(r))
        yy, xx = np.mgrid[-ri : ri + 1, -ri : ri + 1]
        inside = yy**2 + xx**2 <= r * r
        dy, dx = yy[inside], xx[inside]
        sel = np.flatnonzero((radii == r) & (np.isin(np.arange(k), order)))
        py = cy[sel, None] + dy[None]
        px = cx[sel, None] + dx[None]
        ok = (py >= 0) & (py < shape[0]) & (px >= 0) & (px < shape[1])
        flat_parts.append((py * shape[1] + px)[ok])
        pri_parts.append(np.broadcast_to(priority[sel, None], py.shape)[ok])
    flat = np.concatenate(flat_parts)
    pri = np.concatenate(pri_parts)
    if flat.size == 0:
        return out
    srt = np.lexsort((pri, flat))
    flat, pri = flat[srt], pri[srt]
    last = np.ones(flat.size, bool)
    last[:-1] = flat[1:] != flat[:-1]
    label_of_priority = order + 1
    out.ravel()[flat[last]] = label_of_priority[pri[last]].astype(np.int32)
    return out
