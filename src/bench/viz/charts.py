"""Charts of scores: per-image distributions, threshold sweeps, Pareto fronts,
per-class bars and errors by object size."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..aggregate import ap_sweep, match_scores
from ..scoring import THRESHOLDS
from ._axes import subplots

__all__ = ["score_distribution", "threshold_curve", "pareto", "per_class_bars", "error_by_size", "cost_panels",
           "pareto_grid"]


def _per_image_scores(rows: pd.DataFrame, *, threshold: float, by: str | None) -> pd.DataFrame:
    keys = [c for c in (by, "seed", "image") if c and c in rows.columns]
    if "image" not in keys:
        raise ValueError("`rows` must have an `image` column (instance or detection table)")
    return match_scores(rows, threshold=threshold, by=keys)


def score_distribution(
    rows: pd.DataFrame,
    *,
    score: str | None = None,
    threshold: float = 0.5,
    by: str | None = "method_id",
    ax=None,
):
    """Per-image scores as a strip + box plot, one per method.

    Parameters
    ----------
    rows : DataFrame
        Either ``instance`` / ``detection`` rows (with a ``threshold`` column; one
        experiment's or a whole run's), whose per-image scores are computed at
        `threshold`, or per-image scores already (e.g.
        :meth:`bench.runner.Experiment.per_image`).
    score : str, optional
        Column to plot: a :class:`bench.metrics.MatchResult` score (``f1``,
        ``precision``, ``recall``, ``ap_dsb``, ``mean_matched_iou``...) or ``miou``;
        default ``f1`` if present, else ``miou``.
    by : str or None, optional
        One strip per value of this column (``None`` or absent: a single strip).
    """
    per = _per_image_scores(rows, threshold=threshold, by=by) if "threshold" in rows.columns else rows
    if score is None:
        score = "f1" if "f1" in per.columns else "miou"
    if score not in per.columns:
        raise ValueError(f"`score` {score!r} is not a column of the per-image scores: {list(per.columns)}")
    groups = list(per.groupby(by, sort=True)) if by and by in per.columns else [("all", per)]
    fig, ax = subplots(ax, figsize=(max(4, 0.9 * len(groups) + 2), 3.5))
    rng = np.random.default_rng(0)
    data = [g[score].to_numpy(float) for _, g in groups]
    ax.boxplot(data, widths=0.5, showfliers=False)
    for i, d in enumerate(data, 1):
        ax.scatter(i + rng.uniform(-0.15, 0.15, d.size), d, s=12, alpha=0.7, color="k", zorder=3)
    ax.set_xticks(range(1, len(groups) + 1), [str(k[0] if isinstance(k, tuple) else k) for k, _ in groups],
                  rotation=30, ha="right", fontsize=8)
    what = f" (IoU >= {threshold:g})" if score != "miou" else ""
    ax.set_ylabel(f"{score} per image{what}")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def threshold_curve(
    rows: pd.DataFrame,
    *,
    score: str = "f1",
    by: str | None = "method_id",
    aggregate: str = "pooled",
    ax=None,
):
    """A score (pooled over images) against the IoU threshold, one line per method."""
    keys = [by] if by and by in rows.columns else []
    sweep = ap_sweep(rows, thresholds=THRESHOLDS, by=keys, aggregate=aggregate)
    fig, ax = subplots(ax, figsize=(5, 3.5))
    for key, g in (sweep.groupby(keys, sort=True) if keys else [("all", sweep)]):
        key = key[0] if isinstance(key, tuple) else key
        ax.plot(g["threshold"], g[score], marker="o", ms=3, label=str(key))
    ax.set_xlabel("IoU threshold")
    ax.set_ylabel(f"{score} ({aggregate})")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def pareto(
    board: pd.DataFrame,
    *,
    x: str = "predict_s_per_image",
    y: str = "score",
    label: str = "method_id",
    ax=None,
    logx: bool = True,
):
    """Accuracy against cost: one point per method, the Pareto front joined.

    Parameters
    ----------
    board : DataFrame
        A leaderboard (:func:`bench.leaderboard.leaderboard`), usually of one
        dataset; rows without a finite `x` and `y` (skipped, failed) are left out.
    x : str, optional
        Cost column (lower is better): ``predict_s_per_image``, ``fit_s``, ``peak_mem_mb``.
    y : str, optional
        Score column (higher is better).
    """
    fig, ax = subplots(ax, figsize=(5.5, 4))
    d = board[[label, x, y] + (["dataset"] if "dataset" in board.columns else [])].copy()
    d[x] = pd.to_numeric(d[x], errors="coerce")
    d[y] = pd.to_numeric(d[y], errors="coerce")
    d = d[np.isfinite(d[x]) & np.isfinite(d[y]) & ((d[x] > 0) | (not logx))]
    groups = list(d.groupby("dataset", sort=True)) if "dataset" in d.columns else [("", d)]
    for ds, g in groups:
        pts = ax.scatter(g[x], g[y], s=30, label=str(ds) if len(groups) > 1 else None, zorder=3)
        for _, r in g.iterrows():
            ax.annotate(str(r[label]), (r[x], r[y]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        front = g.sort_values([x, y], ascending=[True, False])
        best, fx, fy = -np.inf, [], []
        for _, r in front.iterrows():
            if r[y] > best:
                best = r[y]
                fx.append(r[x])
                fy.append(r[y])
        ax.step(fx, fy, where="post", color=pts.get_facecolor()[0], alpha=0.6, lw=1)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(y)
    ax.grid(alpha=0.3)
    if len(groups) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def per_class_bars(
    df: pd.DataFrame,
    *,
    value: str | None = None,
    by: str = "method_id",
    ax=None,
):
    """Grouped bars of a per-class score: one group per class, one bar per method.

    Parameters
    ----------
    df : DataFrame
        From :func:`bench.aggregate.semantic_scores` (``iou``) or
        :func:`bench.aggregate.classification_scores` (``accuracy``), with a
        ``class_name`` column.
    value : str, optional
        Column to plot (default ``iou`` if present, else ``accuracy``).
    """
    if value is None:
        value = "iou" if "iou" in df.columns else "accuracy"
    if "class_name" not in df.columns or value not in df.columns:
        raise ValueError(f"`df` must have columns `class_name` and `{value}`, got {list(df.columns)}")
    classes = list(dict.fromkeys(df["class_name"]))
    methods = list(dict.fromkeys(df[by])) if by in df.columns else ["all"]
    # sized for the book's page width (shown at 80-100%): at least 6.4 in wide, labels at 10 pt
    fig, ax = subplots(ax, figsize=(max(6.4, 0.45 * len(classes) * max(1, len(methods)) + 3.0), 3.8))
    w = 0.8 / max(1, len(methods))
    for i, m in enumerate(methods):
        sub = df[df[by] == m] if by in df.columns else df
        vals = [float(sub[sub["class_name"] == c][value].mean()) if (sub["class_name"] == c).any() else np.nan
                for c in classes]
        ax.bar(np.arange(len(classes)) + (i - (len(methods) - 1) / 2) * w, vals, width=w, label=str(m))
    ax.set_xticks(range(len(classes)), classes, fontsize=10)
    ax.tick_params(axis="y", labelsize=10)
    ax.set_ylabel(value, fontsize=11)
    ax.set_ylim(0, 1.02)
    ax.grid(axis="y", alpha=0.3)
    if len(methods) > 1:
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def error_by_size(objects: pd.DataFrame, *, bins: int = 12, ax=None):
    """Fraction of true objects found (recall) and of predictions that are right
    (precision), by object area -- from :func:`bench.scoring.object_table`."""
    fig, ax = subplots(ax, figsize=(5.5, 3.5))
    if not len(objects):
        raise ValueError("`objects` is empty")
    areas = objects["area"].to_numpy(float)
    edges = np.unique(np.geomspace(max(1.0, areas.min()), areas.max() + 1, bins + 1))
    for side, label in (("true", "recall (true objects found)"), ("pred", "precision (predictions right)")):
        sub = objects[objects["side"] == side]
        if not len(sub):
            continue
        idx = np.clip(np.digitize(sub["area"].to_numpy(float), edges) - 1, 0, len(edges) - 2)
        frac = [sub["matched"].to_numpy()[idx == i].mean() if (idx == i).any() else np.nan
                for i in range(len(edges) - 1)]
        centres = np.sqrt(edges[:-1] * edges[1:])
        ax.plot(centres, frac, marker="o", ms=3, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("object area (pixels)")
    ax.set_ylabel("fraction matched")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _score_label(tasks) -> str:
    task = next((str(t) for t in tasks if t), "")
    return {"semantic": "mIoU", "instance": "F1@0.5", "detection": "box F1@0.5"}.get(task, "score")


def _ok(board: pd.DataFrame, x: str) -> pd.DataFrame:
    """Rows of a leaderboard with a score and a positive, finite cost `x`."""
    ok = board[board["status"] == "ok"]
    keep = np.isfinite(pd.to_numeric(ok["score"], errors="coerce")) & (pd.to_numeric(ok[x], errors="coerce") > 0)
    return ok[keep]


def cost_panels(board: pd.DataFrame, *, title: str | None = None):
    """Score against training time and against prediction time per image, side by side.

    Parameters
    ----------
    board : DataFrame
        The leaderboard of one dataset (:func:`bench.leaderboard.leaderboard`): rows that
        are not ``ok``, or have no positive time, are left out of a panel (the panel
        says so when none is left).
    """
    import matplotlib.pyplot as plt  # pyplot only when a figure is drawn: importing bench.viz picks no backend

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, x in zip(axes, ("fit_s", "predict_s_per_image")):
        pts = _ok(board, x)
        if len(pts):
            pareto(pts.drop(columns=["dataset"], errors="ignore"), x=x, ax=ax)
        else:
            ax.text(0.5, 0.5, f"no {x.replace('_', ' ')} > 0 recorded", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8)
        ax.set_ylabel(_score_label(board["task"]))
        ax.set_ylim(-0.02, 1.02)
        # less than a decade of times: only minor ticks are labelled, keep them legible
        ax.tick_params(axis="x", which="both", labelsize=7, labelrotation=30)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def pareto_grid(board: pd.DataFrame, *, ncols: int = 3):
    """Small multiples of :func:`pareto` against prediction time, one panel per dataset.

    Returns
    -------
    (Figure, int) or (None, 0)
        The figure and its number of panels; ``(None, 0)`` when no dataset has a
        method with a score and a positive prediction time.
    """
    import matplotlib.pyplot as plt  # pyplot only when a figure is drawn: importing bench.viz picks no backend

    groups = [(d, ok) for d, g in board.groupby("dataset", sort=True) if len(ok := _ok(g, "predict_s_per_image"))]
    if not groups:
        return None, 0
    ncols = min(ncols, len(groups))
    nrows = -(-len(groups) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (d, ok) in zip(axes.ravel(), groups):
        ax.set_axis_on()
        pareto(ok.drop(columns=["dataset"]), x="predict_s_per_image", ax=ax)
        ax.set_title(d, fontsize=9)
        ax.set_xlabel("prediction time per image (s)", fontsize=8)
        ax.set_ylabel(_score_label(ok["task"]), fontsize=8)
        ax.set_ylim(-0.02, 1.02)
    fig.tight_layout()
    return fig, len(groups)
