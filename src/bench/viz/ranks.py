"""How stable a ranking is: the rank blob plot and the significance map (challengeR's two figures)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._axes import subplots

__all__ = ["rank_blobs", "significance_grid"]


def _check(df: pd.DataFrame, name: str, cols: tuple[str, ...]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"`{name}` must be a DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"`{name}` lacks column(s) {missing}; columns: {list(df.columns)}")


def rank_blobs(intervals: pd.DataFrame, frequencies: pd.DataFrame, *, ax=None):
    """Bootstrap rank distribution of each method: one row per method, rank on the x axis.

    Parameters
    ----------
    intervals : DataFrame
        ``method_id, rank, median_rank, rank_low, rank_high`` (one row per method,
        :meth:`bench.ranking.RankUncertainty.intervals`); rows are drawn top to
        bottom in this order.
    frequencies : DataFrame
        ``method_id, rank, frequency`` (:meth:`bench.ranking.RankUncertainty.frequencies`).

    Notes
    -----
    Dot area is proportional to the fraction of bootstrap resamples in which the
    method got that rank; the black bar spans the 95 % rank interval and the
    cross marks the rank on all test images.
    """
    _check(intervals, "intervals", ("method_id", "rank", "median_rank", "rank_low", "rank_high"))
    _check(frequencies, "frequencies", ("method_id", "rank", "frequency"))
    methods = intervals["method_id"].astype(str).tolist()
    n = len(methods)
    fig, ax = subplots(ax, figsize=(6.4, max(2.2, 0.42 * n + 1.1)))
    y = {m: i for i, m in enumerate(methods)}
    for r in intervals.itertuples(index=False):
        i = y[str(r.method_id)]
        ax.plot([r.rank_low, r.rank_high], [i, i], color="k", lw=1.6, zorder=2, solid_capstyle="butt")
    f = frequencies[frequencies["method_id"].astype(str).isin(y)]
    ax.scatter(f["rank"].astype(float), [y[str(m)] for m in f["method_id"]], s=500 * f["frequency"].astype(float),
               color="tab:blue", alpha=0.55, edgecolor="none", zorder=3)
    ax.scatter(intervals["rank"].astype(float), range(n), marker="x", color="k", s=28, zorder=4,
               label="rank on all test images")
    ax.set_yticks(range(n), methods, fontsize=9)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xticks(range(1, n + 1))
    ax.set_xlim(0.4, n + 0.6)
    ax.set_xlabel("rank (1 = best); dot area = share of bootstrap resamples, bar = 95% interval", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    # above the axes: the last (worst) method's dots sit in the lower right corner
    ax.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, borderaxespad=0.2)
    fig.tight_layout()
    return fig


def significance_grid(pairs: pd.DataFrame, order, *, ax=None):
    """Which method beats which: a square grid, a filled cell where the row's method is
    significantly better than the column's (Holm-corrected one-sided Wilcoxon).

    Parameters
    ----------
    pairs : DataFrame
        ``method_id, other, significant`` (:meth:`bench.ranking.RankUncertainty.pairs`).
    order : sequence of str
        Methods in the order of the rows and columns (best first).
    """
    _check(pairs, "pairs", ("method_id", "other", "significant"))
    order = [str(m) for m in order]
    n = len(order)
    pos = {m: i for i, m in enumerate(order)}
    grid = np.zeros((n, n))
    for r in pairs.itertuples(index=False):
        if str(r.method_id) in pos and str(r.other) in pos and bool(r.significant):
            grid[pos[str(r.method_id)], pos[str(r.other)]] = 1.0
    side = max(2.8, 0.42 * n + 1.8)
    fig, ax = subplots(ax, figsize=(side + 0.6, side))
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Rectangle

    ax.imshow(grid, cmap=ListedColormap(["#f4f4f4", "#2b6cb0"]), vmin=0, vmax=1)
    for i in range(n):
        ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, color="white", zorder=2))
    ax.set_xticks(range(n), order, rotation=45, ha="right", fontsize=9)
    ax.set_yticks(range(n), order, fontsize=9)
    ax.set_xticks(np.arange(-0.5, n), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("... is significantly better than this method", fontsize=9)
    ax.set_ylabel("this method ...", fontsize=9)
    fig.tight_layout()
    return fig
