"""bench.viz: figures are made headless, with the documented colours."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from bench import viz
from bench.data import Sample
from bench.methods import Prediction


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _sample(**kw):
    labels = np.zeros((32, 32), np.int32)
    labels[4:12, 4:12] = 1
    labels[20:28, 20:28] = 2
    img = np.zeros((32, 32, 2), np.float32)
    img[..., 0] = labels > 0
    img[..., 1] = np.linspace(0, 1, 32)[None, :]
    return Sample(name="s", image=img, channels=("rfp", "gfp"), labels=labels, **kw)


def test_headless_backend():
    assert matplotlib.get_backend().lower() == "agg"


def test_composite_colours_channels_as_biologists_expect():
    img = np.zeros((2, 2, 3), np.float32)
    img[0, 0, 0] = 1.0  # rfp -> red
    img[1, 1, 1] = 1.0  # gfp -> green
    img[0, 1, 2] = 1.0  # transmitted -> grey (dimmed next to colour channels)
    rgb = viz.composite(img, ["rfp", "gfp", "transmitted"])
    assert rgb.shape == (2, 2, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert rgb[0, 0].tolist() == [1.0, 0.0, 0.0]
    assert rgb[1, 1].tolist() == [0.0, 1.0, 0.0]
    assert rgb[0, 1, 0] == rgb[0, 1, 1] == rgb[0, 1, 2] == 0.5
    grey = viz.composite(img[..., :1], ["hoechst"])
    assert np.all(grey[..., 0] == grey[..., 1])
    with pytest.raises(ValueError, match="2 names for an image with 3 channels"):
        viz.composite(img, ["a", "b"])


def test_match_masks_split_tp_fn_fp():
    s = _sample()
    pred = np.zeros_like(s.labels)
    pred[4:12, 4:12] = 7      # matches object 1
    pred[0:2, 28:32] = 9      # spurious
    m = viz.match_masks(s.labels, pred)
    assert set(np.unique(m["tp"])) == {0, 1}
    assert set(np.unique(m["fn"])) == {0, 2}
    assert set(np.unique(m["fp"])) == {0, 9}
    assert set(np.unique(m["tp_pred"])) == {0, 7}


def test_overlay_draws_match_colours_and_counts():
    s = _sample()
    pred = np.zeros_like(s.labels)
    pred[4:12, 4:12] = 7
    pred[0:2, 28:32] = 9
    fig = viz.overlay(s, Prediction(labels=pred))
    assert isinstance(fig, Figure)
    img = fig.axes[0].images[0].get_array()
    colours = {tuple(np.round(c, 3)) for c in np.asarray(img).reshape(-1, 3)}
    for name in ("tp", "fn", "fp"):
        assert tuple(np.round(viz.MATCH_COLORS[name], 3)) in colours, name
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["true positive: 1", "false negative (missed): 1", "false positive (spurious): 1"]
    with pytest.raises(ValueError, match="must have the sample's shape"):
        viz.overlay(s, np.zeros((3, 3), np.int32))


def test_overlay_for_boxes_and_semantic_truth():
    img = np.zeros((16, 16, 3), np.float32)
    boxes = np.array([[0, 0.25, 0.25, 0.5, 0.5]])
    s = Sample(name="b", image=img, channels=("red", "green", "blue"), boxes=boxes)
    pred = np.zeros((16, 16), np.int32)
    pred[0:8, 0:8] = 1
    fig = viz.overlay(s, pred)
    assert len(fig.axes[0].patches) == 2
    assert "matched pairs: 1" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    sem = np.zeros((16, 16), np.int32)
    sem[2:6, 2:6] = 1
    s2 = Sample(name="r", image=img[..., :2], channels=("gfp", "rfp"), semantic=sem)
    fig = viz.overlay(s2, sem, class_names=("bg", "phagophore"))
    assert len(fig.axes) == 3


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


def test_show_truth_and_gallery():
    s = _sample(classes={1: 0, 2: 1})
    fig = viz.show_truth(s, class_names=("empty", "loaded"))
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["empty", "loaded"]
    fig = viz.dataset_gallery({"a": s, "b": _sample()})
    assert sum(ax.has_data() for ax in fig.axes) == 2
    with pytest.raises(ValueError, match="empty"):
        viz.dataset_gallery({})


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


def test_figure_png_encodes_and_closes_the_figure():
    fig, ax = plt.subplots(figsize=(2, 1))
    data = viz.figure_png(fig)
    assert data.startswith(b"\x89PNG") and not plt.fignum_exists(fig.number)
