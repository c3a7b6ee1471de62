"""bench.viz.curves: learning and budget curves."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from bench.curves import CurveRecorder  # noqa: E402
from bench.viz import budget_curve, learning_curve  # noqa: E402


def _curve(losses, f1=None):
    rec = CurveRecorder(total=10)
    for i, v in enumerate(losses):
        rec.add(2 * i, train_loss=v if i else np.nan, val_loss=v, val_f1=np.nan if f1 is None else f1[i])
    return rec.frame()


def test_learning_curve_plots_losses_and_f1_and_states_the_verdict():
    fig = learning_curve(_curve([1, .9, .8, .7, .6, .5], [0, .2, .4, .5, .6, .7]))
    ax, ax2 = fig.axes
    assert [ln.get_label() for ln in ax.lines] == ["training loss", "validation loss"]
    assert ax2.lines[0].get_ydata().tolist() == [0, .2, .4, .5, .6, .7]
    assert ax.get_title().startswith("under-trained at this budget: val loss fell")
    plt.close(fig)
    fig = learning_curve(_curve([1, .3, .2, .2, .2, .2]))
    assert len(fig.axes) == 1 and fig.axes[0].get_title().startswith("not flagged")
    plt.close(fig)


def test_learning_curve_without_a_curve_says_so_and_checks_columns():
    fig = learning_curve(None)
    assert "not trained" in fig.axes[0].texts[0].get_text()
    plt.close(fig)
    with pytest.raises(ValueError, match="lacks column"):
        learning_curve(pd.DataFrame({"step": [0]}))


def test_budget_curve_one_line_per_method_sorted_by_fit_time():
    board = pd.DataFrame({"method": ["stardist"] * 3 + ["cellpose"] * 2,
                          "method_id": ["stardist[epochs=160]", "stardist", "stardist[epochs=40]", "cellpose",
                                        "cellpose[epochs=400]"],
                          "score": [0.8, 0.5, 0.7, 0.6, 0.65], "fit_s": [1600, 100, 400, 90, 360]})
    fig = budget_curve(board)
    lines = fig.axes[0].lines
    assert len(lines) == 2
    xs = {tuple(ln.get_xdata().tolist()) for ln in lines}
    assert (100.0, 400.0, 1600.0) in xs and (90.0, 360.0) in xs
    plt.close(fig)
