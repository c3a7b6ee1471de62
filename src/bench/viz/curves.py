"""Training curves: a method's learning curve, and accuracy against training budget."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..curves import CURVE_COLUMNS, undertrained

__all__ = ["learning_curve", "budget_curve"]


def learning_curve(curve: pd.DataFrame, *, title: str | None = None):
    """Training / validation loss (left axis) and validation F1 (right axis) against the budget done.

    Parameters
    ----------
    curve : DataFrame or None
        One learning curve, columns :data:`bench.curves.CURVE_COLUMNS`
        (:meth:`bench.runner.Experiment.learning_curve`); None (a method that
        does not train, e.g. a pretrained model used as is) gives a figure that says so.
    title : str, optional
        Default: the verdict of :func:`bench.curves.undertrained`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if curve is None:
        fig, ax = plt.subplots(figsize=(6.4, 1.2), layout="constrained")
        ax.axis("off")
        ax.text(0.5, 0.5, "no learning curve: this method was not trained here", ha="center", va="center")
        return fig
    missing = [c for c in CURVE_COLUMNS if c not in curve.columns]
    if missing:
        raise ValueError(f"`curve` lacks column(s) {missing}; expected {list(CURVE_COLUMNS)}")
    c = curve.sort_values("step", kind="mergesort")
    unit = str(c["unit"].iloc[0]) if len(c) else "step"
    fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
    for col, style, label in (("train_loss", "-", "training loss"), ("val_loss", "o-", "validation loss")):
        v = c[["step", col]].dropna()
        if len(v):
            ax.plot(v["step"], v[col], style, ms=4, label=label, color="C0" if col == "train_loss" else "C1")
    ax.set_xlabel(f"{unit}s of training")
    ax.set_ylabel("loss")
    handles, labels = ax.get_legend_handles_labels()
    f1 = c[["step", "val_f1"]].dropna()
    if len(f1):
        ax2 = ax.twinx()
        ax2.plot(f1["step"], f1["val_f1"], "s--", ms=4, color="C2", label="validation F1@0.5 (fixed thresholds)")
        ax2.set_ylim(0, 1)
        ax2.set_ylabel("validation F1")
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if handles:
        ax.legend(handles, labels, fontsize=8, loc="center right")
    why = undertrained(c)
    ax.set_title(title if title is not None else
                 ("under-trained at this budget: " + why if why else "not flagged: the curve has flattened"),
                 fontsize=9, wrap=True)
    return fig


def budget_curve(board: pd.DataFrame, *, title: str | None = None):
    """Score against fit time for the same method at several training budgets, one line per method.

    Parameters
    ----------
    board : DataFrame
        Leaderboard rows (``method``, ``method_id``, ``score``, ``fit_s``; optional
        ``f1_low`` / ``f1_high``) of one dataset, each a budget of its ``method``.
    """
    import matplotlib.pyplot as plt

    ok = board[np.isfinite(pd.to_numeric(board["score"], errors="coerce"))
               & np.isfinite(pd.to_numeric(board["fit_s"], errors="coerce"))]
    fig, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    for i, (name, g) in enumerate(ok.groupby("method", sort=True)):
        g = g.sort_values("fit_s")
        x, y = g["fit_s"].to_numpy(float), g["score"].to_numpy(float)
        if {"f1_low", "f1_high"} <= set(g.columns) and np.isfinite(g["f1_low"].to_numpy(float)).all():
            err = np.vstack([y - g["f1_low"].to_numpy(float), g["f1_high"].to_numpy(float) - y])
            ax.errorbar(x, y, yerr=err, fmt="o-", color=f"C{i}", capsize=3, label=name)
        else:
            ax.plot(x, y, "o-", color=f"C{i}", label=name)
        for xi, yi, mid in zip(x, y, g["method_id"]):
            ax.annotate(str(mid), (xi, yi), fontsize=7, xytext=(4, -10), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("fit time (s, log scale)")
    ax.set_ylabel("score (F1@0.5)")
    ax.set_ylim(0, 1)
    if len(ok):
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
