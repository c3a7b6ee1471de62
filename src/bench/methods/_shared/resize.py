"""Resizing images and label images: every family's one place for it.

* :func:`zoom_image` / :func:`zoom_labels`: by one real factor (scipy), for the
  deep methods that train and predict at a working scale (StarDist, Cellpose).
* :func:`downscale_image` / :func:`downscale_labels` / :func:`upscale_labels`:
  by an integer factor (block mean / block centre / repetition), for the
  classical methods' working scale.
* :func:`resize_image` / :func:`resize_nearest`: to a given shape (U-Net).
"""

from __future__ import annotations

import numpy as np

from ..base import MissingDependencyError

__all__ = ["zoom_image", "zoom_labels", "downscale_image", "downscale_labels", "upscale_labels",
           "resize_image", "resize_nearest"]


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


def _check_2d(arr, name: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D array, got shape {arr.shape}")
    return arr


def downscale_image(image: np.ndarray, factor: int) -> np.ndarray:
    """Block-mean downscaling by an integer `factor` (edges padded by replication).

    Parameters
    ----------
    image : (M, N[, C]) ndarray
    factor : int
        1 returns `image` unchanged (as float32).

    Returns
    -------
    (ceil(M / factor), ceil(N / factor)[, C]) ndarray of float32

    Examples
    --------
    >>> downscale_image(np.arange(16.0).reshape(4, 4), 2).tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    if factor < 1 or int(factor) != factor:
        raise ValueError(f"`factor` must be an integer >= 1, got {factor!r}")
    image = np.asarray(image, dtype=np.float32)
    if factor == 1:
        return image
    m, n = image.shape[:2]
    pm, pn = (-m) % factor, (-n) % factor
    if pm or pn:
        pad = [(0, pm), (0, pn)] + [(0, 0)] * (image.ndim - 2)
        image = np.pad(image, pad, mode="edge")
    M, N = image.shape[0] // factor, image.shape[1] // factor
    blocks = image.reshape(M, factor, N, factor, *image.shape[2:])
    return blocks.mean(axis=(1, 3), dtype=np.float32)


def downscale_labels(labels: np.ndarray, factor: int) -> np.ndarray:
    """Nearest (block-centre) downscaling of a label image by an integer `factor`.

    Examples
    --------
    >>> downscale_labels(np.array([[1, 1, 2, 2], [1, 1, 2, 2]]), 2).tolist()
    [[1, 2]]
    """
    if factor < 1 or int(factor) != factor:
        raise ValueError(f"`factor` must be an integer >= 1, got {factor!r}")
    labels = _check_2d(labels, "labels")
    if factor == 1:
        return labels
    m, n = labels.shape
    M, N = -(-m // factor), -(-n // factor)
    rows = np.minimum(np.arange(M) * factor + factor // 2, m - 1)
    cols = np.minimum(np.arange(N) * factor + factor // 2, n - 1)
    return labels[np.ix_(rows, cols)]


def upscale_labels(labels: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour upscaling by an integer `factor`, cropped to `shape` (int32).

    Examples
    --------
    >>> upscale_labels(np.array([[1, 2]]), 2, (2, 3)).tolist()
    [[1, 1, 2], [1, 1, 2]]
    """
    labels = _check_2d(labels, "labels")
    if factor < 1 or int(factor) != factor:
        raise ValueError(f"`factor` must be an integer >= 1, got {factor!r}")
    out = labels if factor == 1 else np.repeat(np.repeat(labels, factor, axis=0), factor, axis=1)
    if out.shape[0] < shape[0] or out.shape[1] < shape[1]:
        raise ValueError(
            f"`labels` (shape {labels.shape}) times `factor` {factor} is smaller than `shape` {shape}"
        )
    return np.ascontiguousarray(out[: shape[0], : shape[1]], dtype=np.int32)


def resize_image(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(C, Y, X) float32 -> (C, *shape), antialiased bilinear (torch)."""
    if x.shape[1:] == tuple(shape):
        return x
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as exc:  # pragma: no cover - torch is there wherever U-Net runs
        raise MissingDependencyError("resize_image needs torch: pip install 'bench[torch]'") from exc

    t = torch.from_numpy(np.ascontiguousarray(x))[None]
    return F.interpolate(t, size=shape, mode="bilinear", antialias=True, align_corners=False)[0].numpy()


def resize_nearest(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a 2-D integer map to `shape` (pixel centres aligned).

    >>> resize_nearest(np.array([[1, 2], [3, 4]]), (4, 4))[0].tolist()
    [1, 1, 2, 2]
    """
    if labels.shape == tuple(shape):
        return labels
    ry = np.minimum(((np.arange(shape[0]) + 0.5) * labels.shape[0] / shape[0]).astype(int), labels.shape[0] - 1)
    rx = np.minimum(((np.arange(shape[1]) + 0.5) * labels.shape[1] / shape[1]).astype(int), labels.shape[1] - 1)
    return labels[np.ix_(ry, rx)]
