"""Zooming images and label images by one factor (scipy), shared by the deep methods
that train and predict at a working scale (StarDist, Cellpose)."""

from __future__ import annotations

import numpy as np

__all__ = ["zoom_image", "zoom_labels"]


def zoom_image(x: np.ndarray, s: float) -> np.ndarray:
    """(Y, X, C) image zoomed by `s` in Y and X (linear interpolation), as float32.

    >>> zoom_image(np.ones((4, 6, 2)), 0.5).shape
    (2, 3, 2)
    """
    if s == 1.0:
        return x
    from scipy import ndimage as ndi

    return ndi.zoom(x, (s, s, 1), order=1).astype(np.float32)


def zoom_labels(y: np.ndarray, s: float) -> np.ndarray:
    """(Y, X) label image zoomed by `s` (nearest neighbour), as int32.

    >>> zoom_labels(np.array([[1, 2], [3, 4]]), 2.0)[0].tolist()
    [1, 1, 2, 2]
    """
    if s == 1.0:
        return y
    from scipy import ndimage as ndi

    return ndi.zoom(y, (s, s), order=0).astype(np.int32)
