"""Boxes at a classical method's working scale: pixel truth implied by boxes, and
boxes of working-scale labels brought back to full resolution."""

from __future__ import annotations

import math

import numpy as np

from ...data.sample import Sample

__all__ = ["box_masks", "full_resolution_boxes", "box_corners"]

def full_resolution_boxes(boxes: np.ndarray, work_shape, factor: int, shape) -> np.ndarray:
    """YOLO boxes of working-scale labels -> those of the labels upscaled by `factor` and cropped to `shape`.

    Equal to ``boxes_from_labels(upscale_labels(labels, factor, shape))`` without
    building the full-resolution image (the working shape is ``ceil(shape /
    factor)``, so every working pixel keeps at least one full-resolution pixel).

    Examples
    --------
    >>> from bench.metrics import boxes_from_labels
    >>> from bench.methods._shared import upscale_labels
    >>> lab = np.zeros((3, 3), np.int32); lab[1:, 1:] = 1
    >>> b = full_resolution_boxes(boxes_from_labels(lab), lab.shape, 2, (5, 6))
    >>> bool(np.allclose(b, boxes_from_labels(upscale_labels(lab, 2, (5, 6)))))
    True
    """
    b = np.asarray(boxes, float).reshape(-1, 5)
    if b.shape[0] == 0:
        return b
    hw, ww = work_shape
    h, w = shape
    x0 = np.minimum((b[:, 1] - b[:, 3] / 2) * ww * factor, w)
    x1 = np.minimum((b[:, 1] + b[:, 3] / 2) * ww * factor, w)
    y0 = np.minimum((b[:, 2] - b[:, 4] / 2) * hw * factor, h)
    y1 = np.minimum((b[:, 2] + b[:, 4] / 2) * hw * factor, h)
    x0, x1, y0, y1 = np.rint(x0), np.rint(x1), np.rint(y0), np.rint(y1)
    return np.column_stack([b[:, 0], (x0 + x1) / (2 * w), (y0 + y1) / (2 * h), (x1 - x0) / w, (y1 - y0) / h])


def box_corners(sample: Sample) -> np.ndarray:
    h, w = sample.shape
    b = np.asarray(sample.boxes, float).reshape(-1, 5)
    xc, yc, bw, bh = b[:, 1] * w, b[:, 2] * h, b[:, 3] * w, b[:, 4] * h
    return np.stack([yc - bh / 2, xc - bw / 2, yc + bh / 2, xc + bw / 2], axis=1)


def box_masks(shape: tuple[int, int], boxes: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel truth implied by boxes at the working scale: (object, background) masks.

    Object: inside the ellipse inscribed in the inner half (half width, half
    height) of a box; background: outside every box. Pixels in between are
    unknown (in neither mask).
    """
    obj = np.zeros(shape, bool)
    inside_any = np.zeros(shape, bool)
    for y0, x0, y1, x1 in np.asarray(boxes, float) / factor:
        cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
        ry, rx = max((y1 - y0) / 2, 0.5), max((x1 - x0) / 2, 0.5)
        a0, a1 = max(int(math.floor(y0)), 0), min(int(math.ceil(y1)) + 1, shape[0])
        b0, b1 = max(int(math.floor(x0)), 0), min(int(math.ceil(x1)) + 1, shape[1])
        if a0 >= a1 or b0 >= b1:
            continue
        inside_any[a0:a1, b0:b1] = True
        yy, xx = np.ogrid[a0:a1, b0:b1]
        ell = ((yy + 0.5 - cy) / (0.5 * ry)) ** 2 + ((xx + 0.5 - cx) / (0.5 * rx)) ** 2 <= 1.0
        obj[a0:a1, b0:b1] |= ell
    return obj, ~inside_any
