"""bench.viz.charts: score plots, Pareto fronts and the book's cost panels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bench import viz


def test_score_plots():
    rows = pd.DataFrame({
        "method_id": ["a"] * 2 + ["b"] * 2, "seed": 0, "image": ["i", "j"] * 2, "threshold": 0.5,
        "criterion": "iou", "n_true": 4, "n_pred": 4, "tp": [4, 2, 1, 0], "fp": [0, 2, 3, 4], "fn": [0, 2, 3, 4],
        "sum_matched_iou": [3.6, 1.6, 0.6, 0.0],
    })
    fig = viz.score_distribution(rows)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b"]
    fig = viz.threshold_curve(pd.concat([rows, rows.assign(threshold=0.9, tp=0, fp=4, fn=4, sum_matched_iou=0.0)]))
    assert len(fig.axes[0].lines) == 2
    board = pd.DataFrame({"method_id": ["a", "b", "c"], "predict_s_per_image": [0.1, 1.0, 2.0],
                          "score": [0.5, 0.8, 0.7]})
    fig = viz.pareto(board)
    front = fig.axes[0].lines[0]
    assert list(front.get_xdata()) == [0.1, 1.0]  # c is dominated by b
    per = pd.DataFrame({"method_id": ["a", "a", "b", "b"], "class_name": ["x", "y"] * 2, "iou": [0.1, 0.2, 0.3, 0.4]})
    fig = viz.per_class_bars(per)
    assert len(fig.axes[0].patches) == 4
    objs = pd.DataFrame({"side": ["true", "true", "pred"], "area": [10, 100, 50], "matched": [True, False, True]})
    assert isinstance(viz.error_by_size(objs), Figure)


def test_cost_panels_and_pareto_grid_leave_out_what_has_no_score_or_time():
    board = pd.DataFrame({
        "dataset": ["d1", "d1", "d1", "d2", "d3"], "method_id": ["a", "b", "c", "a", "a"],
        "status": ["ok", "ok", "skipped", "ok", "ok"], "task": "instance",
        "score": [0.5, 0.8, np.nan, 0.6, 0.7], "fit_s": [1.0, 0.0, np.nan, 2.0, 3.0],
        "predict_s_per_image": [0.1, 1.0, np.nan, 0.2, 0.0],
    })
    fig = viz.cost_panels(board[board["dataset"] == "d1"], title="d1")
    fit_ax, predict_ax = fig.axes
    assert [t.get_text() for t in fit_ax.texts] == ["a"]  # b has no fit time > 0, c no score
    assert sorted(t.get_text() for t in predict_ax.texts) == ["a", "b"]
    plt.close(fig)
    fig, n = viz.pareto_grid(board)
    assert n == 2 and [ax.get_title() for ax in fig.axes if ax.axison] == ["d1", "d2"]  # d3: no time > 0
    plt.close(fig)
    assert viz.pareto_grid(board.assign(status="failed")) == (None, 0)
