"""Images and figures as PNG bytes, at the size a page shows them.

The book (:mod:`bench.book`) stages every picture through these functions: an RGB
composite (:func:`bench.viz.composite`, floats in [0, 1]) becomes uint8, is
block-averaged down to :data:`MAX_SIDE` pixels and encoded; a figure is rendered at
a resolution high enough for thin outlines to survive.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

__all__ = ["MAX_SIDE", "to_uint8", "downscale_factor", "shrink_rgb", "png_bytes", "figure_png"]

#: Largest side, in pixels, of an image shown in the book.
MAX_SIDE = 512


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """A float RGB image in [0, 1] (:func:`bench.viz.composite`) as uint8.

    >>> to_uint8(np.array([[[0.0, 0.5, 2.0]]])).tolist()
    [[[0, 128, 255]]]
    """
    return (np.clip(rgb, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def downscale_factor(shape: tuple[int, int], max_side: int = MAX_SIDE) -> int:
    """The integer factor that brings the larger side of `shape` to at most `max_side`.

    >>> downscale_factor((1024, 300)), downscale_factor((512, 512)), downscale_factor((1025, 10))
    (2, 1, 3)
    """
    return max(1, math.ceil(max(shape) / max_side))


def shrink_rgb(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Block-average an RGB uint8 image by an integer `factor` (no aliasing of puncta).

    >>> shrink_rgb(np.arange(48, dtype=np.uint8).reshape(4, 4, 3), 2)[0, 0].tolist()
    [8, 9, 10]
    """
    if factor == 1:
        return rgb
    y, x = (rgb.shape[0] // factor) * factor, (rgb.shape[1] // factor) * factor
    v = rgb[:y, :x].reshape(y // factor, factor, x // factor, factor, 3).astype(np.float32).mean(axis=(1, 3))
    return (v + 0.5).astype(np.uint8)


def png_bytes(rgb: np.ndarray) -> bytes:
    """A uint8 RGB image encoded as PNG."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def figure_png(fig, *, image_shape: tuple[int, int] | None = None, max_px: int = 900) -> bytes:
    """Render a figure to PNG bytes and close it.

    When the figure shows an image of `image_shape`, the resolution is raised so that
    thin outlines survive (up to `max_px` pixels across the figure).
    """
    import matplotlib.pyplot as plt  # pyplot only when a figure is drawn: importing bench.viz picks no backend

    dpi = 110.0
    if image_shape is not None:
        width_in = fig.get_size_inches()[0]
        dpi = float(min(max(dpi, max(image_shape) / max(width_in, 1e-3)), max_px / max(width_in, 1e-3)))
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return buf.getvalue()
