"""bench.viz.encode: figures and images as PNG bytes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from bench import viz
from bench.viz.encode import downscale_factor, png_bytes, shrink_rgb, to_uint8


def test_figure_png_encodes_and_closes_the_figure():
    fig, ax = plt.subplots(figsize=(2, 1))
    data = viz.figure_png(fig)
    assert data.startswith(b"\x89PNG") and not plt.fignum_exists(fig.number)


def test_a_large_composite_is_shrunk_by_block_averages_and_encoded():
    rgb = to_uint8(np.random.default_rng(0).random((1100, 700, 3)))
    small = shrink_rgb(rgb, downscale_factor(rgb.shape[:2]))
    assert small.shape == (366, 233, 3) and small.dtype == np.uint8
    assert abs(float(small.mean()) - float(rgb[:1098, :699].mean())) < 0.5
    assert png_bytes(small).startswith(b"\x89PNG")
