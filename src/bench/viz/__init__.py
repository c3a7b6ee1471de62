"""Figures: composites, TP/FN/FP overlays, score distributions, Pareto and per-class plots.

Every function returns a :class:`matplotlib.figure.Figure` (or draws on the
``ax`` it is given) and never calls ``plt.show()``; figures are made with
:mod:`matplotlib.pyplot` so notebooks display them inline, and work headless
(Agg) in scripts and tests. Close them with ``plt.close(fig)`` in loops.

Colours follow what biologists expect: red-type channels (mRFP, DsRed, cargo,
``red``) in red, green-type channels (EGFP, LAMP1, ``green``) in green, transmitted
light and single channels in grey. In overlays, outlines mark **true
positives in cyan**, **false negatives (missed true objects) in magenta** and
**false positives (spurious predictions) in yellow** (:data:`MATCH_COLORS`),
as in LysoQuant's Fig. 1 comparison of correct, missed and spurious organelles.

Modules: :mod:`~bench.viz.images` (composites, ground truth, overlays),
:mod:`~bench.viz.charts` (score plots), :mod:`~bench.viz.ranks` (rank
uncertainty), :mod:`~bench.viz.curves` (learning and budget curves) and :mod:`~bench.viz.encode` (PNG bytes
for the book); every public name is available here.
"""

from __future__ import annotations

from .charts import cost_panels, error_by_size, pareto, pareto_grid, per_class_bars, score_distribution, threshold_curve
from .curves import budget_curve, learning_curve
from .encode import figure_png, png_bytes
from .ranks import rank_blobs, significance_grid
from .images import (
    BOX_COLORS,
    CHANNEL_COLORS,
    MATCH_COLORS,
    composite,
    dataset_gallery,
    match_masks,
    overlay,
    show_sample,
    show_truth,
)

__all__ = [
    "CHANNEL_COLORS",
    "MATCH_COLORS",
    "BOX_COLORS",
    "composite",
    "show_sample",
    "match_masks",
    "overlay",
    "score_distribution",
    "threshold_curve",
    "pareto",
    "per_class_bars",
    "show_truth",
    "dataset_gallery",
    "error_by_size",
    "cost_panels",
    "pareto_grid",
    "rank_blobs",
    "learning_curve",
    "budget_curve",
    "significance_grid",
    "figure_png",
    "png_bytes",
]
