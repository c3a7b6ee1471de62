"""Segment Anything mask records -> one instance label image (pure numpy).

``SamAutomaticMaskGenerator.generate(image)`` (Kirillov et al. 2023) returns a
list of *mask records*, one dict per candidate object::

    {"segmentation": (Y, X) bool ndarray, "area": int, "bbox": [x, y, w, h],
     "predicted_iou": float, "stability_score": float,
     "point_coords": [[x, y]], "crop_box": [x, y, w, h]}

The masks overlap (SAM proposes a whole, its parts, and sometimes the
background). A benchmark needs one label image, so this module

1. **filters** records by area (pixels of the mask), predicted IoU and
   stability score (:func:`filter_records`);
2. **resolves overlaps** greedily (:func:`resolve_overlaps`): records are
   ranked by a priority, and each one, from the highest priority down, claims
   the pixels of its mask that no higher-priority record has claimed. A record
   whose claimed part is smaller than ``min_visible_fraction`` of its mask (it
   is mostly covered by better ones) is dropped and claims nothing. Label ids
   are consecutive from 1 in priority order (1 = highest);
3. returns a **score** per object (its ``predicted_iou``, ``stability_score``
   or their product), for COCO-style AP.

Priorities (``order``):

* ``"predicted_iou"`` (default): SAM's own estimate of the mask's quality;
  ties broken by ``stability_score``, then smaller area, then input order;
* ``"stability_score"``: the mask's stability under threshold changes; ties
  broken by ``predicted_iou``, then smaller area, then input order;
* ``"smaller_on_top"``: smaller masks first, so parts win over wholes (the
  choice for puncta or organelles inside a cell-sized proposal); ties broken
  by ``predicted_iou``, then input order.

Nothing here imports torch or segment_anything; the functions only read the
keys listed above, so they are tested on hand-made records.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = [
    "ORDERS",
    "SCORES",
    "check_records",
    "filter_records",
    "priority_order",
    "resolve_overlaps",
    "records_to_labels",
]

#: Overlap-resolution priorities accepted by :func:`resolve_overlaps`.
ORDERS = ("predicted_iou", "stability_score", "smaller_on_top")
#: Per-object scores accepted by :func:`resolve_overlaps`.
SCORES = ("predicted_iou", "stability_score", "product")

_NUMERIC_KEYS = ("predicted_iou", "stability_score")


def _record_area(rec: Mapping[str, Any]) -> int:
    return int(np.count_nonzero(rec["segmentation"]))


def check_records(records: Sequence[Mapping[str, Any]], *, shape: tuple[int, int] | None = None) -> tuple[int, int]:
    """Validate mask records and return their common ``(Y, X)`` shape.

    Parameters
    ----------
    records : sequence of dict
        Each with ``"segmentation"`` (a 2-D bool or 0/1 array),
        ``"predicted_iou"`` and ``"stability_score"`` (finite numbers) and
        optionally ``"area"`` (must equal the number of mask pixels).
    shape : (int, int), optional
        Expected mask shape; required when `records` is empty.

    Returns
    -------
    (int, int)
        The mask shape.

    Raises
    ------
    ValueError, TypeError
        Naming the record index and the field at fault.

    Examples
    --------
    >>> check_records([{"segmentation": np.ones((2, 3), bool), "predicted_iou": 0.9,
    ...                 "stability_score": 0.95}])
    (2, 3)
    """
    if isinstance(records, (str, bytes)) or not isinstance(records, Sequence):
        raise TypeError(f"`records` must be a list of dicts, got {type(records).__name__}")
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2 or min(shape) < 0:
            raise ValueError(f"`shape` must be two non-negative ints, got {shape}")
    if not records:
        if shape is None:
            raise ValueError("`shape` is required when `records` is empty")
        return shape
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise TypeError(f"`records[{i}]` must be a dict, got {type(rec).__name__}")
        missing = [k for k in ("segmentation", *_NUMERIC_KEYS) if k not in rec]
        if missing:
            raise ValueError(f"`records[{i}]` lacks key(s) {missing}")
        seg = rec["segmentation"]
        if not isinstance(seg, np.ndarray) or seg.ndim != 2:
            raise ValueError(
                f"`records[{i}]['segmentation']` must be a 2-D array, got "
                f"{type(seg).__name__} of shape {getattr(seg, 'shape', None)}"
            )
        if seg.dtype != bool and (
            not np.issubdtype(seg.dtype, np.integer) or (seg.size and (seg.min() < 0 or seg.max() > 1))
        ):
            raise TypeError(f"`records[{i}]['segmentation']` must be boolean (or 0/1 integers), got {seg.dtype}")
        if shape is None:
            shape = seg.shape
        elif seg.shape != shape:
            raise ValueError(
                f"`records[{i}]['segmentation']` (shape {seg.shape}) must have the shape {shape} "
                "of `shape` or of the first mask"
            )
        for k in _NUMERIC_KEYS:
            v = rec[k]
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
                raise ValueError(f"`records[{i}]['{k}']` must be a finite number, got {v!r}")
        if "area" in rec and int(rec["area"]) != _record_area(rec):
            raise ValueError(
                f"`records[{i}]['area']` is {rec['area']} but its mask has {_record_area(rec)} pixels"
            )
    return shape


def filter_records(
    records: Sequence[Mapping[str, Any]],
    *,
    min_area: int = 0,
    max_area: int | None = None,
    min_predicted_iou: float = 0.0,
    min_stability: float = 0.0,
) -> list[Mapping[str, Any]]:
    """Keep the records whose mask area and scores pass the thresholds (order kept).

    Parameters
    ----------
    records : sequence of dict
        SAM mask records (see :func:`check_records`).
    min_area, max_area : int, optional
        Inclusive bounds on the number of mask pixels; ``max_area=None``: no
        upper bound (use it to drop the background mask SAM often proposes).
    min_predicted_iou, min_stability : float, optional
        Inclusive lower bounds on ``predicted_iou`` and ``stability_score``.

    Returns
    -------
    list of dict
        The same record objects, in their input order.

    Examples
    --------
    >>> m = np.zeros((4, 4), bool); m[:2, :2] = True
    >>> recs = [{"segmentation": m, "predicted_iou": 0.9, "stability_score": 0.97},
    ...         {"segmentation": ~m, "predicted_iou": 0.95, "stability_score": 0.80}]
    >>> len(filter_records(recs, min_stability=0.9)), len(filter_records(recs, max_area=4))
    (1, 1)
    """
    if min_area < 0:
        raise ValueError(f"`min_area` must be >= 0, got {min_area}")
    if max_area is not None and max_area < min_area:
        raise ValueError(f"`max_area` ({max_area}) must be >= `min_area` ({min_area})")
    for name, v in (("min_predicted_iou", min_predicted_iou), ("min_stability", min_stability)):
        if not math.isfinite(v):
            raise ValueError(f"`{name}` must be finite, got {v}")
    if records:
        check_records(records)
    out = []
    for rec in records:
        area = _record_area(rec)
        if area < min_area or (max_area is not None and area > max_area):
            continue
        if float(rec["predicted_iou"]) < min_predicted_iou or float(rec["stability_score"]) < min_stability:
            continue
        out.append(rec)
    return out


def priority_order(records: Sequence[Mapping[str, Any]], *, order: str = "predicted_iou") -> np.ndarray:
    """Indices of `records` from highest to lowest priority (see the module docstring).

    Examples
    --------
    >>> a = np.zeros((3, 3), bool); a[0, 0] = True
    >>> b = np.ones((3, 3), bool)
    >>> recs = [{"segmentation": b, "predicted_iou": 0.99, "stability_score": 0.9},
    ...         {"segmentation": a, "predicted_iou": 0.90, "stability_score": 0.9}]
    >>> priority_order(recs).tolist(), priority_order(recs, order="smaller_on_top").tolist()
    ([0, 1], [1, 0])
    """
    if order not in ORDERS:
        raise ValueError(f"`order` must be one of {ORDERS}, got {order!r}")
    n = len(records)
    if n == 0:
        return np.zeros(0, np.int64)
    iou = np.array([float(r["predicted_iou"]) for r in records])
    stab = np.array([float(r["stability_score"]) for r in records])
    area = np.array([_record_area(r) for r in records], dtype=np.int64)
    idx = np.arange(n)
    # np.lexsort sorts by the last key first, ascending: negate to get "higher first"
    if order == "predicted_iou":
        keys = (idx, area, -stab, -iou)
    elif order == "stability_score":
        keys = (idx, area, -iou, -stab)
    else:  # smaller_on_top
        keys = (idx, -iou, area)
    return np.lexsort(keys).astype(np.int64)


def resolve_overlaps(
    records: Sequence[Mapping[str, Any]],
    *,
    shape: tuple[int, int] | None = None,
    order: str = "predicted_iou",
    min_visible_fraction: float = 0.5,
    score: str = "predicted_iou",
) -> tuple[np.ndarray, dict[int, float]]:
    """Paint overlapping SAM masks into one label image, best first.

    Parameters
    ----------
    records : sequence of dict
        SAM mask records (see :func:`check_records`), already filtered.
    shape : (int, int), optional
        Output shape; required if `records` is empty.
    order : {"predicted_iou", "stability_score", "smaller_on_top"}, optional
        Priority (see the module docstring).
    min_visible_fraction : float in [0, 1], optional
        A record keeps its object only if the pixels it can still claim are at
        least this fraction of its mask (and at least one pixel); otherwise it
        is dropped. ``0`` keeps every record that claims a pixel.
    score : {"predicted_iou", "stability_score", "product"}, optional
        Per-object score returned.

    Returns
    -------
    labels : (Y, X) ndarray of int32
        0 = background; ids 1..K consecutive, 1 = highest priority.
    scores : dict of int to float
        Score of each label id.

    Notes
    -----
    Every labelled pixel belongs to the mask of its record, no pixel gets two
    labels, and, with ``min_visible_fraction=0``, the labelled pixels are
    exactly the union of the masks. The result does not depend on the input
    order of records except through the final tie-break. A claimed part may
    be disconnected (a mask cut in two by a better one); it stays one object.

    Examples
    --------
    >>> big = np.zeros((4, 6), bool); big[:, :4] = True
    >>> small = np.zeros((4, 6), bool); small[1:3, 2:6] = True
    >>> recs = [{"segmentation": big, "predicted_iou": 0.9, "stability_score": 0.95},
    ...         {"segmentation": small, "predicted_iou": 0.8, "stability_score": 0.99}]
    >>> lab, sc = resolve_overlaps(recs, min_visible_fraction=0)
    >>> lab
    array([[1, 1, 1, 1, 0, 0],
           [1, 1, 1, 1, 2, 2],
           [1, 1, 1, 1, 2, 2],
           [1, 1, 1, 1, 0, 0]], dtype=int32)
    >>> sc
    {1: 0.9, 2: 0.8}
    >>> resolve_overlaps(recs, order="smaller_on_top", min_visible_fraction=0)[0]
    array([[2, 2, 2, 2, 0, 0],
           [2, 2, 1, 1, 1, 1],
           [2, 2, 1, 1, 1, 1],
           [2, 2, 2, 2, 0, 0]], dtype=int32)
    """
    if not 0.0 <= min_visible_fraction <= 1.0:
        raise ValueError(f"`min_visible_fraction` must be in [0, 1], got {min_visible_fraction}")
    if score not in SCORES:
        raise ValueError(f"`score` must be one of {SCORES}, got {score!r}")
    out_shape = check_records(records, shape=shape)
    labels = np.zeros(out_shape, np.int32)
    scores: dict[int, float] = {}
    next_id = 1
    for i in priority_order(records, order=order):
        rec = records[int(i)]
        mask = np.asarray(rec["segmentation"]).astype(bool, copy=False)
        area = int(np.count_nonzero(mask))
        if area == 0:
            continue
        free = mask & (labels == 0)
        n_free = int(np.count_nonzero(free))
        if n_free == 0 or n_free < min_visible_fraction * area:
            continue
        labels[free] = next_id
        iou, stab = float(rec["predicted_iou"]), float(rec["stability_score"])
        scores[next_id] = iou if score == "predicted_iou" else stab if score == "stability_score" else iou * stab
        next_id += 1
    return labels, scores


def records_to_labels(
    records: Sequence[Mapping[str, Any]],
    *,
    shape: tuple[int, int] | None = None,
    min_area: int = 0,
    max_area: int | None = None,
    min_predicted_iou: float = 0.0,
    min_stability: float = 0.0,
    order: str = "predicted_iou",
    min_visible_fraction: float = 0.5,
    score: str = "predicted_iou",
) -> tuple[np.ndarray, dict[int, float]]:
    """:func:`filter_records` then :func:`resolve_overlaps` (see those for parameters).

    Examples
    --------
    >>> m = np.zeros((3, 3), bool); m[1, 1] = True
    >>> recs = [{"segmentation": m, "predicted_iou": 0.9, "stability_score": 0.96},
    ...         {"segmentation": ~m, "predicted_iou": 0.9, "stability_score": 0.96}]
    >>> records_to_labels(recs, max_area=4)[0].tolist()
    [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    """
    shape = check_records(records, shape=shape)
    kept = filter_records(
        records,
        min_area=min_area,
        max_area=max_area,
        min_predicted_iou=min_predicted_iou,
        min_stability=min_stability,
    )
    return resolve_overlaps(kept, shape=shape, order=order, min_visible_fraction=min_visible_fraction, score=score)
