"""bench.viz.rank_blobs / significance_grid: what they draw, from a hand-made ranking."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from bench.viz import rank_blobs, significance_grid

IV = pd.DataFrame({"method_id": ["a", "b", "c"], "rank": [1, 2, 3], "median_rank": [1.0, 2.0, 3.0],
                   "rank_low": [1, 1, 2], "rank_high": [2, 3, 3]})
FREQ = pd.DataFrame({"method_id": ["a", "a", "b", "b", "b", "c", "c"], "rank": [1, 2, 1, 2, 3, 2, 3],
                     "frequency": [0.8, 0.2, 0.2, 0.6, 0.2, 0.2, 0.8]})


def test_rank_blobs_draws_one_row_per_method_with_dot_area_by_frequency():
    fig = rank_blobs(IV, FREQ)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    blobs = ax.collections[0]
    np.testing.assert_allclose(blobs.get_sizes(), 500 * FREQ["frequency"].to_numpy())
    # one interval bar per method, spanning rank_low..rank_high
    bars = [tuple(line.get_xdata()) for line in ax.lines]
    assert bars == [(1, 2), (1, 3), (2, 3)]
    assert fig.get_size_inches()[0] >= 6.0  # made for the page width
    plt.close(fig)


def test_significance_grid_fills_exactly_the_significant_pairs():
    pairs = pd.DataFrame({"method_id": ["a", "a", "b", "b", "c", "c"], "other": ["b", "c", "a", "c", "a", "b"],
                          "significant": [False, True, False, False, False, False]})
    fig = significance_grid(pairs, ["a", "b", "c"])
    grid = fig.axes[0].images[0].get_array()
    assert np.argwhere(np.asarray(grid) == 1).tolist() == [[0, 2]]
    plt.close(fig)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="`intervals` lacks"):
        rank_blobs(IV.drop(columns="rank_low"), FREQ)
    with pytest.raises(TypeError, match="`pairs` must be a DataFrame"):
        significance_grid([], ["a"])
