"""Leaderboards: per dataset and task, one row per method, from a run's results.

>>> from bench.results import load_run                      # doctest: +SKIP
>>> from bench.leaderboard import leaderboard, format_leaderboard
>>> run = load_run()                                         # doctest: +SKIP
>>> print(format_leaderboard(leaderboard(run, dataset="nih3t3")))  # doctest: +SKIP

The table is computed from the raw counts of the run (:func:`bench.aggregate.summarize`),
never hand-edited. Columns (:data:`COLUMNS`): ``rank``, ``dataset``, ``task``,
``method_id``, ``status`` (``ok`` / ``skipped`` / ``failed`` / ``timeout``),
``score`` (the task's primary score: F1 at IoU 0.5 for ``instance`` and
``detection``, mean foreground IoU for ``semantic``), ``f1``, ``f1_low``,
``f1_high`` (95 % bootstrap interval over images), ``precision``, ``recall``,
``mean_iou`` (of matched objects at 0.5), ``pq``, ``ap_dsb`` (TP/(TP+FP+FN)
averaged over IoU 0.50:0.05:0.95 -- "AP" in Cellpose's sense, not COCO AP),
``miou``, ``class_accuracy``, ``count_mae``, ``occupancy_mae``, ``fit_s``,
``predict_s_per_image``, ``peak_mem_mb``, ``n_images``, ``n_seeds``,
``profile``, ``reason``, ``undertrained`` (why the learning curve says the method was
still improving at the end of its budget, ``""`` if not: :data:`bench.curves.UNDERTRAINED_RULE`),
``notebook_path``. Rows are sorted by dataset, then
``ok`` rows by score (best first, ``rank`` 1), then the others.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .results import RunResults, load_run

from .aggregate import summarize

__all__ = ["COLUMNS", "SHORT_COLUMNS", "FORMATS", "leaderboard", "format_leaderboard"]

#: Columns of :func:`leaderboard`, in order.
COLUMNS = (
    "rank", "dataset", "task", "method_id", "status", "score", "f1", "f1_low", "f1_high", "precision",
    "recall", "mean_iou", "pq", "ap_dsb", "miou", "class_accuracy", "count_mae", "occupancy_mae",
    "fit_s", "predict_s_per_image", "peak_mem_mb", "n_images", "n_seeds", "profile", "reason",
    "undertrained", "notebook_path",
)
#: The columns shown in the terminal by default.
SHORT_COLUMNS = (
    "rank", "dataset", "method_id", "status", "score", "f1", "f1_low", "f1_high", "mean_iou", "ap_dsb",
    "class_accuracy", "fit_s", "predict_s_per_image", "peak_mem_mb", "reason", "undertrained",
)
FORMATS = ("markdown", "csv", "html")


def leaderboard(run: RunResults | str | None = None, dataset: str | None = None, *, n_boot: int = 1000) -> pd.DataFrame:
    """The leaderboard of a run, for one dataset or all.

    Parameters
    ----------
    run : RunResults or str or Path, optional
        A loaded run, or a run folder (default: the latest run).
    dataset : str, optional
        Restrict to one dataset.
    n_boot : int, optional
        Bootstrap resamples for the F1 interval (0 to skip it).

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`, one row per (dataset, method_id).
    """
    if not isinstance(run, RunResults):
        run = load_run(run)
    s = summarize(run, dataset=dataset, n_boot=n_boot)
    if dataset is not None and not len(s):
        known = sorted(set(run.cells["dataset"])) if len(run.cells) else []
        raise ValueError(f"`dataset` {dataset!r} has no cells in run {run.run_id}; datasets: {known}")
    s = s.copy()
    s["score"] = np.where(s["task"] == "semantic", s["miou"], s["f1"]).astype(float)
    s["_ok"] = (s["status"] == "ok") & np.isfinite(s["score"])
    s = s.sort_values(["dataset", "_ok", "score", "method_id"], ascending=[True, False, False, True],
                      na_position="last", kind="mergesort")
    ranks = []
    for _, g in s.groupby("dataset", sort=False):
        r = 0
        for ok in g["_ok"]:
            r += 1 if ok else 0
            ranks.append(r if ok else np.nan)
    s["rank"] = pd.array(ranks, dtype="Int64") if len(ranks) else pd.array([], dtype="Int64")
    return s[list(COLUMNS)].reset_index(drop=True)


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    if v is pd.NA:
        return ""
    if isinstance(v, (float, np.floating)):
        a = abs(float(v))
        return f"{v:.3f}" if a < 100 else f"{v:.0f}"
    return str(v)


def format_leaderboard(
    df: pd.DataFrame, fmt: str = "markdown", *, columns: Sequence[str] | None = SHORT_COLUMNS,
    max_reason: int = 70,
) -> str:
    """Render a leaderboard as a markdown table, CSV or an HTML table.

    Parameters
    ----------
    df : DataFrame
        From :func:`leaderboard`.
    fmt : {"markdown", "csv", "html"}
        Output format. CSV keeps full precision; the others round to 3 decimals.
    columns : sequence of str, optional
        Columns to show (default :data:`SHORT_COLUMNS`; ``None`` for all).
    max_reason : int, optional
        Markdown only: reasons longer than this are cut (CSV and HTML keep them whole).
    """
    if fmt not in FORMATS:
        raise ValueError(f"`fmt` must be one of {FORMATS}, got {fmt!r}")
    cols = list(df.columns) if columns is None else [c for c in columns if c in df.columns]
    sub = df[cols]
    if fmt == "csv":
        return sub.to_csv(index=False)
    text = sub.map(_fmt) if len(sub) else sub.astype(str)
    for col in ("reason", "undertrained"):
        if fmt == "markdown" and col in text.columns:  # keep the terminal table readable
            text[col] = [r if len(r) <= max_reason else r[: max_reason - 3] + "..." for r in text[col]]
    if fmt == "html":
        return text.to_html(index=False, escape=True, classes="bench-leaderboard", border=0)
    widths = {c: max([len(c), *(len(v) for v in text[c])]) for c in cols}
    lines = ["| " + " | ".join(c.ljust(widths[c]) for c in cols) + " |",
             "|" + "|".join("-" * (widths[c] + 2) for c in cols) + "|"]
    for _, r in text.iterrows():
        lines.append("| " + " | ".join(str(r[c]).ljust(widths[c]) for c in cols) + " |")
    return "\n".join(lines)
