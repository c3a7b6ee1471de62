"""Masks from boxes: weak training labels for methods that learn from masks.

Many labs have boxes, not masks (they come from detection tools or quick
annotation). A method that learns from instance masks (the U-Net, StarDist,
Cellpose) can still be trained on a detection dataset by turning each box into
a mask. Three label makers, in increasing reliance on the image:

``box``
    The box itself (every pixel whose centre lies inside it): boxes used
    directly as the instance supervision.
``ellipse``
    The ellipse inscribed in the box (centre and semi-axes of the box): the
    usual shape prior for round cells.
``threshold``
    The box's pixels kept by one threshold *learned inside the boxes*
    (:func:`fit_box_threshold`): on the training images, every candidate plane
    (each channel, normalised per image to its 1st-99.8th percentiles and
    lightly smoothed, its inverse, and its local standard deviation for
    texture) is scored by how well a single threshold separates the pixels
    inside the boxes from those of the ring around each box (Youden's J, the
    largest true-positive minus false-positive rate); the best plane and its
    plane and its threshold are kept (the lowest threshold reaching the best
    J; on a clean image it sits just above the ring's values, so the blurred
    halo of an object is kept with it -- on synth-cells the Otsu threshold of
    the same pixels gave a mean object IoU of 0.57 against 0.71). Each box's mask is then the box's pixels above the
    threshold, holes filled, largest 8-connected component. A box where that
    leaves less than :data:`MIN_THRESHOLD_FRACTION` of its inscribed ellipse
    (a cell the plane cannot see) gets the ellipse instead; the number of such
    boxes is returned and logged, never hidden.

**Overlaps** are resolved deterministically: a pixel covered by several
boxes' masks belongs to the *smallest* box (by box area), equal areas to the
lower box index; a box whose mask is entirely covered by smaller boxes has no
pixel left (it is counted as ``n_hidden``). Object ids are box indices + 1.

**Pixel convention.** Boxes are YOLO rows ``(class, x_center, y_center,
width, height)`` normalised by the image width and height, with pixel *edges*
as coordinates (pixel ``(r, c)`` spans ``[r, r+1) x [c, c+1)``), the
convention of :func:`bench.metrics.boxes_from_labels`; a pixel belongs to a
box or ellipse when its centre ``(r + 0.5, c + 0.5)`` does. So the ``box``
maker inverts :func:`~bench.metrics.boxes_from_labels` for rectangular
objects. A box too small to contain any pixel centre gets the pixel holding
its centre.

A sample with masks but no boxes (synthetic data, where the truth is known)
gets the boxes of its masks (:func:`sample_boxes`), so the price of box
supervision can be measured against exact masks.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import ndimage as ndi

from .sample import Sample
from ..metrics import boxes_from_labels

__all__ = [
    "MAKERS",
    "MIN_THRESHOLD_FRACTION",
    "BoxThreshold",
    "BoxLabels",
    "box_corners",
    "box_label_image",
    "box_planes",
    "fit_box_threshold",
    "drop_empty_boxes",
    "sample_boxes",
    "box_training_samples",
]

logger = logging.getLogger(__name__)

#: The label makers, by name.
MAKERS = ("ellipse", "threshold", "box")
#: A thresholded box mask smaller than this fraction of the box's inscribed ellipse
#: is replaced by the ellipse.
MIN_THRESHOLD_FRACTION = 0.1
#: Planes are computed on images block-averaged so that the median box side is
#: about this many pixels (never upsampled).
PLANE_BOX_SIDE = 48.0
#: Smoothing of the planes (Gaussian sigma, in working pixels) and window of the
#: local standard deviation (sigma, in working pixels).
PLANE_SIGMA = 1.0
TEXTURE_SIGMA = 2.0
#: Width of the ring around each box, as a fraction of the box's shorter side.
RING_FRACTION = 0.25
#: Pixels sampled per class (inside boxes / ring) to fit the threshold.
MAX_FIT_PIXELS = 200_000
#: Thresholds whose Youden J is within this of the best form the plateau whose middle is used.
_TOL = 1e-6


@dataclass(frozen=True)
class BoxThreshold:
    """A threshold learned inside the training boxes (see :func:`fit_box_threshold`).

    Attributes
    ----------
    plane : str
        ``"<channel>"``, ``"-<channel>"`` (inverted) or ``"std:<channel>"``
        (local standard deviation) of :func:`box_planes`.
    value : float
        A pixel is object when its plane value is strictly above it.
    youden_j : float
        Separation of box pixels from ring pixels on the training images (0..1).
    """

    plane: str
    value: float
    youden_j: float


@dataclass(frozen=True)
class BoxLabels:
    """Instance labels made from boxes, with what happened on the way.

    Attributes
    ----------
    labels : (Y, X) ndarray of int32
        Object ``k + 1`` is made from box ``k``; 0 = background.
    n_boxes : int
    n_hidden : int
        Boxes left without any pixel (covered by smaller boxes).
    n_fallback : int
        ``threshold`` maker: boxes given their ellipse (the threshold kept too little).
    """

    labels: np.ndarray
    n_boxes: int
    n_hidden: int = 0
    n_fallback: int = 0


def _check_shape(shape) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"`shape` must be (height, width), got {shape!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"`shape` must be positive, got {shape!r}")
    return h, w


def box_corners(boxes, shape) -> np.ndarray:
    """YOLO rows -> pixel corners ``(y0, x0, y1, x1)`` (pixel edges), validated.

    Parameters
    ----------
    boxes : (K, 5) array_like
        ``(class, x_center, y_center, width, height)`` normalised to [0, 1].
    shape : (int, int)
        Image height and width.

    Raises
    ------
    ValueError
        For a wrong shape, non-finite values, a width or height <= 0, or a box
        reaching outside the image.

    Examples
    --------
    >>> box_corners([[0, 0.5, 0.25, 0.5, 0.5]], (4, 4)).tolist()
    [[0.0, 1.0, 2.0, 3.0]]
    """
    h, w = _check_shape(shape)
    arr = np.asarray(boxes, dtype=float)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 5)
    if arr.ndim != 2 or arr.shape[1] != 5:
        raise ValueError(
            f"`boxes` must have shape (K, 5) with rows (class, x_center, y_center, width, height), "
            f"got shape {arr.shape}"
        )
    for i, (_, xc, yc, bw, bh) in enumerate(arr):
        if not np.all(np.isfinite(arr[i])):
            raise ValueError(f"`boxes` row {i} holds a non-finite value: {arr[i].tolist()}")
        if bw <= 0 or bh <= 0:
            raise ValueError(f"`boxes` row {i} has width {bw} and height {bh}; both must be > 0")
        if xc - bw / 2 < -_TOL or xc + bw / 2 > 1 + _TOL or yc - bh / 2 < -_TOL or yc + bh / 2 > 1 + _TOL:
            raise ValueError(
                f"`boxes` row {i} ({arr[i].tolist()}) reaches outside the image; YOLO boxes are "
                "normalised to [0, 1]"
            )
    x0 = np.clip((arr[:, 1] - arr[:, 3] / 2) * w, 0, w)
    x1 = np.clip((arr[:, 1] + arr[:, 3] / 2) * w, 0, w)
    y0 = np.clip((arr[:, 2] - arr[:, 4] / 2) * h, 0, h)
    y1 = np.clip((arr[:, 2] + arr[:, 4] / 2) * h, 0, h)
    return np.column_stack([y0, x0, y1, x1])


def _window(y0, x0, y1, x1, h, w) -> tuple[slice, slice]:
    """Rows / columns whose pixel centres can lie in the box (at least the centre pixel)."""
    r0, r1 = int(math.ceil(y0 - 0.5)), int(math.ceil(y1 - 0.5))
    c0, c1 = int(math.ceil(x0 - 0.5)), int(math.ceil(x1 - 0.5))
    if r1 <= r0:
        r0 = min(max(int(math.floor((y0 + y1) / 2)), 0), h - 1)
        r1 = r0 + 1
    if c1 <= c0:
        c0 = min(max(int(math.floor((x0 + x1) / 2)), 0), w - 1)
        c1 = c0 + 1
    return slice(max(r0, 0), min(r1, h)), slice(max(c0, 0), min(c1, w))


def _ellipse(y0, x0, y1, x1, win: tuple[slice, slice]) -> np.ndarray:
    ys, xs = win
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    ry, rx = max((y1 - y0) / 2, 1e-9), max((x1 - x0) / 2, 1e-9)
    yy = (np.arange(ys.start, ys.stop) + 0.5 - cy)[:, None] / ry
    xx = (np.arange(xs.start, xs.stop) + 0.5 - cx)[None, :] / rx
    m = yy**2 + xx**2 <= 1.0
    if not m.any():  # a box narrower than a pixel: the pixel holding its centre
        m[min(int((cy - ys.start)), m.shape[0] - 1), min(int((cx - xs.start)), m.shape[1] - 1)] = True
    return m


def _paint_order(corners: np.ndarray) -> np.ndarray:
    """Largest box first, equal areas: higher index first (so later paints win)."""
    area = (corners[:, 2] - corners[:, 0]) * (corners[:, 3] - corners[:, 1])
    idx = np.arange(corners.shape[0])
    return np.lexsort((-idx, -area))


def box_label_image(
    boxes,
    shape,
    *,
    maker: str = "ellipse",
    image: np.ndarray | None = None,
    threshold: BoxThreshold | None = None,
) -> BoxLabels:
    """Instance labels made from boxes by one label maker (see the module docstring).

    Parameters
    ----------
    boxes : (K, 5) array_like
        YOLO rows, normalised.
    shape : (int, int)
        Height and width of the label image.
    maker : {"ellipse", "threshold", "box"}
    image : (Y, X, C) ndarray, optional
        The image (``threshold`` maker only).
    threshold : BoxThreshold, optional
        From :func:`fit_box_threshold` (``threshold`` maker only).

    Returns
    -------
    BoxLabels

    Examples
    --------
    >>> box_label_image([[0, 0.5, 0.5, 1.0, 1.0]], (5, 5)).labels
    array([[0, 1, 1, 1, 0],
           [1, 1, 1, 1, 1],
           [1, 1, 1, 1, 1],
           [1, 1, 1, 1, 1],
           [0, 1, 1, 1, 0]], dtype=int32)
    >>> int(box_label_image([[0, 0.5, 0.5, 1.0, 1.0]], (5, 5), maker="box").labels.sum())
    25
    """
    if maker not in MAKERS:
        raise ValueError(f"`maker` must be one of {MAKERS}, got {maker!r}")
    h, w = _check_shape(shape)
    corners = box_corners(boxes, (h, w))
    plane = None
    if maker == "threshold":
        if threshold is None or image is None:
            raise ValueError("maker='threshold' needs `image` and a fitted `threshold` (fit_box_threshold)")
        if not isinstance(threshold, BoxThreshold):
            raise TypeError(f"`threshold` must be a BoxThreshold, got {type(threshold).__name__}")
        if image.ndim != 3 or image.shape[:2] != (h, w):
            raise ValueError(f"`image` (shape {image.shape}) must be (Y, X, C) with (Y, X) = `shape` {(h, w)}")
        factor = _plane_factor(corners)
        plane = _full_plane(image, threshold.plane, factor) > threshold.value
    labels = np.zeros((h, w), np.int32)
    n_fallback = 0
    for k in _paint_order(corners):
        y0, x0, y1, x1 = corners[k]
        win = _window(y0, x0, y1, x1, h, w)
        if maker == "box":
            m = np.ones((win[0].stop - win[0].start, win[1].stop - win[1].start), bool)
        elif maker == "ellipse":
            m = _ellipse(y0, x0, y1, x1, win)
        else:
            ell = _ellipse(y0, x0, y1, x1, win)
            m = _largest_component(ndi.binary_fill_holes(plane[win]))
            if m.sum() < MIN_THRESHOLD_FRACTION * ell.sum():
                m = ell
                n_fallback += 1
        labels[win][m] = k + 1
    present = np.unique(labels[labels > 0]).size
    if n_fallback:
        logger.info("threshold labels: %d of %d boxes got their ellipse", n_fallback, corners.shape[0])
    return BoxLabels(labels=labels, n_boxes=corners.shape[0], n_hidden=corners.shape[0] - present,
                     n_fallback=n_fallback)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    lab, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    if n <= 1:
        return lab > 0
    sizes = np.bincount(lab.ravel())[1:]
    return lab == (int(np.argmax(sizes)) + 1)


# ------------------------------------------------------------------ planes
def _plane_factor(corners: np.ndarray) -> int:
    """Block-averaging factor so that the median box side is about PLANE_BOX_SIDE px."""
    if corners.shape[0] == 0:
        return 1
    side = np.median(np.minimum(corners[:, 2] - corners[:, 0], corners[:, 3] - corners[:, 1]))
    return max(1, int(side // PLANE_BOX_SIDE))


def _block_mean(x: np.ndarray, k: int) -> np.ndarray:
    if k == 1:
        return x
    h, w = x.shape[:2]
    hh, ww = -(-h // k) * k, -(-w // k) * k
    pad = np.pad(x, ((0, hh - h), (0, ww - w)) + ((0, 0),) * (x.ndim - 2), mode="edge")
    return pad.reshape(hh // k, k, ww // k, k, *x.shape[2:]).mean(axis=(1, 3))


def box_planes(image: np.ndarray, *, factor: int = 1, channels: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Candidate planes of the ``threshold`` maker, at ``1 / factor`` of the image's size.

    For each channel ``c`` (named by `channels`, else ``"0"``, ``"1"``...):
    ``c`` (normalised to the image's 1st-99.8th percentiles, Gaussian sigma
    :data:`PLANE_SIGMA`), ``-c`` (its inverse) and ``std:c`` (local standard
    deviation, Gaussian window :data:`TEXTURE_SIGMA`: texture, for transmitted light).
    """
    image = np.asarray(image, np.float32)
    if image.ndim != 3:
        raise ValueError(f"`image` must be (Y, X, C), got shape {image.shape}")
    names = [str(i) for i in range(image.shape[2])] if channels is None else list(channels)
    if len(names) != image.shape[2]:
        raise ValueError(f"{len(names)} channel names for an image with {image.shape[2]} channels")
    small = _block_mean(image, int(factor))
    out = {}
    for c, name in enumerate(names):
        x = small[..., c].astype(np.float64)
        lo, hi = np.percentile(x, (1.0, 99.8))
        x = (x - lo) / max(hi - lo, 1e-9)
        out[name] = ndi.gaussian_filter(x, PLANE_SIGMA)
        out[f"-{name}"] = -out[name]
        mean = ndi.gaussian_filter(x, TEXTURE_SIGMA)
        var = ndi.gaussian_filter(x * x, TEXTURE_SIGMA) - mean * mean
        out[f"std:{name}"] = np.sqrt(np.maximum(var, 0.0))
    return out


def _full_plane(image: np.ndarray, plane: str, factor: int) -> np.ndarray:
    planes = box_planes(image, factor=factor)
    if plane not in planes:
        raise ValueError(f"threshold plane {plane!r} does not exist for an image with {image.shape[2]} channels")
    p = planes[plane]
    if factor > 1:
        p = np.repeat(np.repeat(p, factor, axis=0), factor, axis=1)[: image.shape[0], : image.shape[1]]
    return p


def _inside_and_ring(corners: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = shape
    inside = np.zeros(shape, bool)
    near = np.zeros(shape, bool)
    for y0, x0, y1, x1 in corners:
        inside[_window(y0, x0, y1, x1, h, w)] = True
        m = RING_FRACTION * min(y1 - y0, x1 - x0)
        near[_window(max(y0 - m, 0), max(x0 - m, 0), min(y1 + m, h), min(x1 + m, w), h, w)] = True
    return inside, near & ~inside


def _best_threshold(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """(J, t): the largest TPR - FPR of ``x > t`` (Youden's J) and the lowest t reaching it.

    >>> _best_threshold(np.array([2.0, 3.0]), np.array([0.0, 1.0]))
    (1.0, 1.0)
    """
    pos = np.sort(pos)
    neg = np.sort(neg)
    t = np.unique(np.concatenate([pos, neg]))
    j = (1.0 - np.searchsorted(pos, t, side="right") / pos.size) - (1.0 - np.searchsorted(neg, t, side="right") / neg.size)
    i = int(np.argmax(j))
    return float(j[i]), float(t[i])


def fit_box_threshold(samples: Sequence[Sample], *, rng=0) -> BoxThreshold:
    """Learn the ``threshold`` maker's plane and threshold from boxes (no masks used).

    Parameters
    ----------
    samples : sequence of Sample
        Training samples with boxes (or masks, whose boxes are used: :func:`sample_boxes`).
    rng : None, int or Generator
        Seeds the pixel subsample.

    Returns
    -------
    BoxThreshold
        The plane and threshold separating box pixels from ring pixels best
        (Youden's J), pooled over the samples; ties: the first plane in
        :func:`box_planes` order.
    """
    rng = np.random.default_rng(rng)
    if not samples:
        raise ValueError("`samples` is empty; the threshold is learned from training boxes")
    pos: dict[str, list[np.ndarray]] = {}
    neg: dict[str, list[np.ndarray]] = {}
    per_image = max(1, MAX_FIT_PIXELS // len(samples))
    for s in samples:
        corners = box_corners(drop_empty_boxes(sample_boxes(s))[0], s.shape)
        if corners.shape[0] == 0:
            continue
        factor = _plane_factor(corners)
        planes = box_planes(s.image, factor=factor)
        small_shape = next(iter(planes.values())).shape
        inside, ring = _inside_and_ring(corners / factor, small_shape)
        pi, ri = np.flatnonzero(inside), np.flatnonzero(ring)
        if pi.size == 0 or ri.size == 0:
            continue
        pi = rng.choice(pi, min(per_image, pi.size), replace=False)
        ri = rng.choice(ri, min(per_image, ri.size), replace=False)
        for name, p in planes.items():
            pos.setdefault(name, []).append(p.ravel()[pi])
            neg.setdefault(name, []).append(p.ravel()[ri])
    if not pos:
        raise ValueError("no sample has boxes with both inside pixels and a ring around them")
    best: BoxThreshold | None = None
    for name in pos:
        j, t = _best_threshold(np.concatenate(pos[name]), np.concatenate(neg[name]))
        if best is None or j > best.youden_j:
            best = BoxThreshold(plane=name, value=t, youden_j=round(j, 6))
    logger.info("box threshold: plane %s > %.4g (Youden J %.3f)", best.plane, best.value, best.youden_j)
    return best


# ----------------------------------------------------------------- samples
def drop_empty_boxes(boxes) -> tuple[np.ndarray, int]:
    """The YOLO rows with width and height > 0, and how many were dropped.

    Examples
    --------
    >>> kept, n = drop_empty_boxes([[0, 0.5, 0.5, 0.2, 0.2], [0, 0.1, 0.1, 0.0, 0.0]])
    >>> kept.tolist(), n
    ([[0.0, 0.5, 0.5, 0.2, 0.2]], 1)
    """
    arr = np.asarray(boxes, dtype=float)
    if arr.size == 0:
        return arr.reshape(0, 5), 0
    if arr.ndim != 2 or arr.shape[1] != 5:
        raise ValueError(f"`boxes` must have shape (K, 5), got shape {arr.shape}")
    keep = (arr[:, 3] > 0) & (arr[:, 4] > 0)
    return arr[keep], int((~keep).sum())


def sample_boxes(sample: Sample) -> np.ndarray:
    """The sample's boxes, else the boxes of its instance masks (class column 0).

    Raises
    ------
    ValueError
        When the sample has neither boxes nor instance labels.
    """
    if sample.boxes is not None:
        return np.asarray(sample.boxes, float)
    if sample.labels is not None:
        return boxes_from_labels(sample.labels)
    raise ValueError(f"sample {sample.name!r} has neither boxes nor instance labels to make masks from")


def box_training_samples(
    samples: Sequence[Sample], maker: str, *, threshold: BoxThreshold | None = None
) -> tuple[list[Sample], dict]:
    """The samples with instance labels made from their boxes and nothing else of the truth.

    Parameters
    ----------
    samples : sequence of Sample
        With boxes, or with masks (their boxes are used).
    maker : {"ellipse", "threshold", "box"}
    threshold : BoxThreshold, optional
        Needed by ``maker="threshold"`` (fit it on the *training* samples).

    Returns
    -------
    samples : list of Sample
        ``labels`` = the box masks, ``boxes`` = the boxes used; classes,
        pixel classes and the original masks dropped.
    info : dict
        ``maker``, ``n_boxes``, ``n_hidden``, ``n_fallback``, ``n_empty``
        summed over samples.

    Notes
    -----
    **Empty boxes.** A box of zero width or height (the CELLULAR annotations
    hold two among 14,024, points at the image edge) marks no extent: it is
    dropped before the masks are made, counted in ``n_empty`` and logged,
    and the sample's ``boxes`` keep only the boxes used. (A box thinner than
    a pixel but not empty still gets the pixel holding its centre.)
    """
    if maker not in MAKERS:
        raise ValueError(f"`maker` must be one of {MAKERS}, got {maker!r}")
    out = []
    info = {"maker": maker, "n_boxes": 0, "n_hidden": 0, "n_fallback": 0, "n_empty": 0}
    for s in samples:
        boxes = sample_boxes(s)
        boxes, n_empty = drop_empty_boxes(boxes)
        if n_empty:
            logger.info("sample %r: %d box(es) of zero width or height dropped", s.name, n_empty)
            info["n_empty"] += n_empty
        made = box_label_image(boxes, s.shape, maker=maker, image=s.image, threshold=threshold)
        out.append(dataclasses.replace(s.image_only(), labels=made.labels, boxes=boxes))
        for key in ("n_boxes", "n_hidden", "n_fallback"):
            info[key] += getattr(made, key)
    return out, info
