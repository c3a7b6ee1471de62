"""Intensity normalisation: one constant, one function, for every family.

**The choice.** Each image is normalised on its own, channel by channel: its
:data:`NORM_PERCENTILES` (1st and 99.8th) percentiles become 0 and 1, values
beyond are kept (not clipped). This is what StarDist (csbdeep's ``normalize``,
same percentiles) and Cellpose (1st / 99th) do, and it makes every method
invariant to a change of bit depth, gain or offset between the images it was
trained on and the images it is given: an image re-encoded as ``a * x + b``
(``a > 0``) is normalised to the same values. A normalisation computed once
from the training images (a dataset-level range) is not: a model trained on
8-bit images and given 16-bit ones with an offset sees a near-constant field.
One pair of percentiles for every family keeps results comparable; Cellpose's
own default is (1, 99), its networks here are trained (or fine-tuned) on the
(1, 99.8) normalisation.

Percentiles are computed on a regular sub-grid of at most ~512 x 512 pixels
(:data:`MAX_SIDE`), so the cost does not grow with the image.
"""

from __future__ import annotations

import numpy as np

from .parallel import map_rows

__all__ = ["NORM_PERCENTILES", "MAX_SIDE", "percentile_range", "normalize"]

#: Low / high percentiles mapped to 0 / 1.
NORM_PERCENTILES = (1.0, 99.8)
#: Percentiles are taken on a sub-grid of about this many pixels per side.
MAX_SIDE = 512


def percentile_range(image: np.ndarray, percentiles: tuple[float, float] = NORM_PERCENTILES) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel low / high percentiles of a ``(M, N, C)`` image, each of shape ``(C,)``.

    >>> lo, hi = percentile_range(np.arange(10.0).reshape(1, 10, 1), (0, 100))
    >>> float(lo[0]), float(hi[0])
    (0.0, 9.0)
    """
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"`image` must be (M, N, C), got shape {image.shape}")
    sy, sx = max(1, image.shape[0] // MAX_SIDE), max(1, image.shape[1] // MAX_SIDE)
    sub = image[::sy, ::sx].reshape(-1, image.shape[2]).astype(np.float64)
    lo, hi = np.percentile(sub, percentiles, axis=0)
    return lo, hi


def normalize(image: np.ndarray, percentiles: tuple[float, float] = NORM_PERCENTILES) -> np.ndarray:
    """Each channel of a ``(M, N, C)`` image (or a ``(M, N)`` plane) from its own
    percentiles to 0 / 1, as float32, not clipped.

    A channel with no spread (high percentile == low) becomes ``image - low`` (zeros
    for a constant channel).

    Parameters
    ----------
    image : (M, N[, C]) ndarray
    percentiles : (float, float)
        Low and high percentiles, :data:`NORM_PERCENTILES` by default.

    Returns
    -------
    ndarray of float32, the shape of `image`

    Examples
    --------
    >>> normalize(np.arange(5.0).reshape(1, 5, 1), (0, 100))[..., 0].tolist()
    [[0.0, 0.25, 0.5, 0.75, 1.0]]
    >>> x = np.arange(20.0).reshape(4, 5, 1)
    >>> bool(np.allclose(normalize(x), normalize(3 * x + 33000)))
    True
    """
    image = np.asarray(image)
    if image.ndim == 2:
        return normalize(image[..., None], percentiles)[..., 0]
    lo, hi = percentile_range(image, percentiles)
    scale = np.where(hi - lo > 1e-12 * np.maximum(1.0, np.abs(hi)), hi - lo, 1.0)
    # elementwise: blocks of rows on threads give the whole image's values
    return map_rows(lambda x: ((x - lo) / scale).astype(np.float32), image)
